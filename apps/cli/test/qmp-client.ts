/**
 * Test helper: a minimal QMP client over a real socket (Unix or TCP), as a
 * management application speaks to QEMU (docs/interop/qmp-spec.rst): it
 * reads one JSON message per line, waits for the greeting, sends
 * `{"execute": ...}` and matches the reply by its `id`, and keeps the
 * events it sees. Every wait is bounded, so a test that goes wrong fails
 * instead of hanging.
 */

import { createConnection, type Socket } from "node:net";
import { existsSync } from "node:fs";

/** One message the client received. */
export type QmpMessage = Record<string, unknown>;

const WAIT_MS = 4000;

/** A connected QMP client. */
export class QmpTestClient {
  readonly messages: QmpMessage[] = [];
  readonly #socket: Socket;
  #buffer = "";
  #waiters: (() => void)[] = [];
  #nextId = 1;
  closed = false;

  private constructor(socket: Socket) {
    this.#socket = socket;
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => {
      this.#buffer += chunk;
      let nl: number;
      while ((nl = this.#buffer.indexOf("\n")) >= 0) {
        const line = this.#buffer.slice(0, nl).replace(/\r$/, "");
        this.#buffer = this.#buffer.slice(nl + 1);
        if (line.trim() !== "") this.messages.push(JSON.parse(line) as QmpMessage);
      }
      this.#notify();
    });
    socket.on("close", () => {
      this.closed = true;
      this.#notify();
    });
    socket.on("error", () => undefined);
  }

  /** Connects to a Unix socket path or a TCP port on 127.0.0.1. */
  static connect(to: string | number): Promise<QmpTestClient> {
    return new Promise((resolve, reject) => {
      const s = typeof to === "string" ? createConnection({ path: to }) : createConnection({ host: "127.0.0.1", port: to });
      s.once("connect", () => { resolve(new QmpTestClient(s)); });
      s.once("error", reject);
    });
  }

  /** Sends raw text. */
  write(text: string): void {
    this.#socket.write(text);
  }

  /** Waits (bounded) for the first message, from index `from`, that `pred` accepts. */
  async waitFor(pred: (m: QmpMessage) => boolean, from = 0, what = "a message"): Promise<QmpMessage> {
    const deadline = Date.now() + WAIT_MS;
    for (;;) {
      const found = this.messages.slice(from).find(pred);
      if (found !== undefined) return found;
      if (this.closed) throw new Error(`connection closed while waiting for ${what}; got ${JSON.stringify(this.messages)}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${what}; got ${JSON.stringify(this.messages)}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.#waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** The greeting. */
  greeting(): Promise<QmpMessage> {
    return this.waitFor((m) => "QMP" in m, 0, "the greeting");
  }

  /** Executes a command; resolves to its response (`return` or `error`). */
  async execute(command: string, args?: Record<string, unknown>): Promise<QmpMessage> {
    const id = `c${String(this.#nextId++)}`;
    this.write(`${JSON.stringify({ execute: command, ...(args === undefined ? {} : { arguments: args }), id })}\n`);
    return this.waitFor((m) => m.id === id, 0, `the reply to ${command}`);
  }

  /** Waits for the event `name` (after message index `from`). */
  event(name: string, from = 0): Promise<QmpMessage> {
    return this.waitFor((m) => m.event === name, from, `event ${name}`);
  }

  /** Waits (bounded) until the server has closed the connection. */
  async waitClosed(): Promise<void> {
    const deadline = Date.now() + WAIT_MS;
    while (!this.closed) {
      if (Date.now() > deadline) throw new Error("timed out waiting for the server to close the connection");
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 50);
        this.#waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** Drops the connection at once. */
  destroy(): void {
    this.#socket.destroy();
  }

  #notify(): void {
    const w = this.#waiters;
    this.#waiters = [];
    for (const f of w) f();
  }
}

/** Waits (bounded) until `path` exists (a Unix socket the command is about to bind). */
export async function waitForPath(path: string): Promise<void> {
  const deadline = Date.now() + WAIT_MS;
  while (!existsSync(path)) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${path}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}
