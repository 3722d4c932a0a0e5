/**
 * The QMP client of a scenario timeline: one session on a {@link QmpMonitor}
 * of each machine (the monitor `-qmp` would give a management client),
 * spoken to as text, line by line, as a client on a socket would: the
 * greeting is read, `qmp_capabilities` negotiates, then every timeline
 * command is written as `{"execute": ..., "arguments": ...}` and the reply
 * is the next message that is not an event. Replies are QEMU's own
 * (`{"return": ...}` or `{"error": {"class", "desc"}}`); events the machine
 * emits (STOP, RESUME, RESET, SHUTDOWN, ...) are kept in order.
 */

import { QmpMonitor, type Machine } from "@irqlab/machine";

/** A QMP reply as JSON data. */
export type QmpReply = { readonly return: unknown } | { readonly error: { readonly class: string; readonly desc: string } };

/** A negotiated QMP session on one machine. */
export class TimelineQmpClient {
  /** Event names received, in order. */
  readonly events: string[] = [];
  readonly #inbox: Record<string, unknown>[] = [];
  readonly #session;
  #buffer = "";

  constructor(machine: Machine) {
    const monitor = new QmpMonitor(machine);
    this.#session = monitor.connect((text) => {
      this.#read(text);
    });
    const greeting = this.#inbox.shift();
    if (greeting === undefined || !("QMP" in greeting)) throw new Error("the QMP monitor sent no greeting");
    const neg = this.execute("qmp_capabilities", {});
    if (!("return" in neg)) throw new Error(`qmp_capabilities failed: ${JSON.stringify(neg)}`);
  }

  /** Sends one command and returns its reply. */
  execute(command: string, args: Readonly<Record<string, unknown>>): QmpReply {
    const request = Object.keys(args).length === 0 ? { execute: command } : { execute: command, arguments: args };
    this.#session.receive(JSON.stringify(request) + "\n");
    const i = this.#inbox.findIndex((m) => "return" in m || "error" in m);
    if (i < 0) throw new Error(`no reply to ${JSON.stringify(request)}`);
    const [reply] = this.#inbox.splice(i, 1);
    return reply as QmpReply;
  }

  #read(text: string): void {
    this.#buffer += text;
    for (;;) {
      const nl = this.#buffer.indexOf("\r\n");
      if (nl < 0) return;
      const line = this.#buffer.slice(0, nl);
      this.#buffer = this.#buffer.slice(nl + 2);
      if (line.trim() === "") continue;
      const msg = JSON.parse(line) as Record<string, unknown>;
      if (typeof msg.event === "string") this.events.push(msg.event);
      else this.#inbox.push(msg);
    }
  }
}
