/**
 * An in-memory QMP client for tests: connects to a QmpMonitor, keeps every
 * text the monitor sent, and hands the messages back parsed.
 */
import type { QmpMonitor, QmpSession } from "../src/qmp/qmp-monitor.js";

/** A test client of a QmpMonitor. */
export class QmpTestClient {
  /** Every text the monitor sent, in order (each one message + "\r\n"). */
  readonly texts: string[] = [];
  readonly session: QmpSession;
  #read = 0;

  constructor(monitor: QmpMonitor) {
    this.session = monitor.connect((t) => {
      this.texts.push(t);
    });
  }

  /** Sends raw text. */
  raw(text: string): this {
    this.session.receive(text);
    return this;
  }

  /** Sends a request object. */
  send(request: unknown): this {
    return this.raw(JSON.stringify(request));
  }

  /** The messages received since the last call, parsed. */
  take(): Record<string, unknown>[] {
    const out = this.texts.slice(this.#read).map((t) => JSON.parse(t) as Record<string, unknown>);
    this.#read = this.texts.length;
    return out;
  }

  /** Sends a request and returns the messages it produced. */
  exec(request: unknown): Record<string, unknown>[] {
    this.take();
    this.send(request);
    return this.take();
  }

  /** Connects, reads the greeting and negotiates. */
  static negotiated(monitor: QmpMonitor): QmpTestClient {
    const c = new QmpTestClient(monitor);
    c.exec({ execute: "qmp_capabilities" });
    return c;
  }
}
