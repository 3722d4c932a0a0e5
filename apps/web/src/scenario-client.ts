/**
 * The page's side of the scenario worker: starts it (Vite bundles the
 * worker module), hands each message to the page, and sends requests.
 */

import type { WorkerMessage, WorkerRequest } from "./worker/protocol.js";

/** The worker, with one listener for everything it sends. */
export class ScenarioClient {
  readonly #worker: Worker;

  constructor(onMessage: (m: WorkerMessage) => void) {
    this.#worker = new Worker(new URL("./worker/scenario-worker.ts", import.meta.url), { type: "module", name: "irqlab-scenarios" });
    this.#worker.onmessage = (e: MessageEvent<WorkerMessage>) => {
      onMessage(e.data);
    };
    this.#worker.onerror = (e: ErrorEvent) => {
      onMessage({ type: "error", message: `the scenario worker failed: ${e.message}` });
    };
  }

  send(request: WorkerRequest): void {
    this.#worker.postMessage(request);
  }
}
