/**
 * A QMP monitor of a machine (monitor/qmp.c): what `-qmp` gives a
 * management client, independent of the transport. A transport (socket,
 * stdio, a test) calls {@link QmpMonitor.connect} for each client
 * connection and feeds what it reads to {@link QmpSession.receive}; every
 * outgoing message goes to the `send` callback as QEMU writes it: the JSON
 * text followed by "\r\n" (qmp_send_response appends "\n", monitor_puts
 * turns it into "\r\n").
 *
 * On connect the greeting is sent at once (CHR_EVENT_OPENED:
 * `{"QMP": {"version": ..., "capabilities": [...]}}`), and the session
 * accepts only qmp_capabilities until it has negotiated. Requests are
 * executed synchronously when read, at the machine's current virtual time,
 * and recorded in the machine's trace (an instant on its "qmp" track).
 * Machine events are broadcast to every negotiated session
 * (monitor_qapi_event_emit), each with a `timestamp` derived from virtual
 * time: virtual nanoseconds since the machine was created, as seconds and
 * microseconds (QEMU uses the host's wall clock; a model has none).
 */

import type { Machine } from "../machine.js";
import { IRQLAB_VERSION } from "../cmdline/help-text.js";
import { JsonStreamer, type JsonMessage } from "./json-streamer.js";
import { buildQmpCommands } from "./qmp-commands.js";
import type { QmpCommandEnv } from "./qmp-env.js";
import { parseErrorResponse, qmpDispatch, type QmpCommand, type QmpCommandContext, type QmpResponse, type QmpSessionState } from "./qmp-dispatch.js";
import { QDict, jsToQObject, qobjectToJs, toQmpJson, type QObject, type QmpValue } from "./qobject.js";
import { QomRegistry } from "./qom-model.js";

/** Options of a {@link QmpMonitor}. */
export interface QmpMonitorOptions {
  /** query-version's `package` (default " (irqlab <version>)", in the style of a distribution's QEMU_PKGVERSION). */
  readonly package?: string;
  /**
   * Offer the "oob" capability in the greeting. QEMU offers it when the
   * monitor runs in its I/O thread, which it does on socket chardevs, not on
   * stdio (monitor_qmp_caps_reset: capab_offered[OOB] = use_io_thread).
   * Default false. No irqlab command allows out-of-band execution, so with
   * oob enabled `exec-oob` is refused as QEMU refuses it for such commands.
   */
  readonly oob?: boolean;
  /** `-qmp ...,pretty=on`: messages as qobject_to_json_pretty() writes them (each "\n" sent as "\r\n"). Default false. */
  readonly pretty?: boolean;
  /** Called after `quit` has answered and the machine has shut down (QEMU then exits). */
  readonly onQuit?: () => void;
}

/** A client connection of a {@link QmpMonitor}. */
export interface QmpSession {
  /** Feeds text read from the client; any split across chunks is fine. */
  receive(chunk: string): void;
  /** The client went away: a partial message is dropped, nothing more is sent. */
  close(): void;
  /** Capabilities negotiation is complete. */
  readonly negotiated: boolean;
  /** The session was closed. */
  readonly closed: boolean;
}

/** An event as sent: `{"timestamp": ..., "event": ..., "data": ...}`. */
export interface QmpEventMessage {
  readonly timestamp: { readonly seconds: number; readonly microseconds: number };
  readonly event: string;
  readonly data?: Record<string, unknown>;
}

/** What a session asks of its monitor. */
interface SessionOwner {
  /** A request was read. */
  handle(s: Session, request: QObject): void;
  /** The session closed. */
  detach(s: Session): void;
}

class Session implements QmpSession {
  readonly state: QmpSessionState;
  #closed = false;
  readonly #streamer: JsonStreamer;

  constructor(
    readonly owner: SessionOwner,
    readonly send: (text: string) => void,
    offered: readonly string[],
    readonly pretty: boolean,
  ) {
    this.state = { negotiated: false, offered, enabled: [] };
    this.#streamer = new JsonStreamer((m) => {
      this.#message(m);
    });
  }

  get negotiated(): boolean {
    return this.state.negotiated;
  }
  get closed(): boolean {
    return this.#closed;
  }

  receive(chunk: string): void {
    if (this.#closed) return;
    this.#streamer.feed(chunk);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#streamer.reset();
    this.owner.detach(this);
  }

  write(v: QmpValue): void {
    // qmp_send_response() appends "\n"; monitor_puts() writes every "\n" as "\r\n".
    if (!this.#closed) this.send(`${this.pretty ? toQmpJson(v, true).replaceAll("\n", "\r\n") : toQmpJson(v)}\r\n`);
  }

  #message(m: JsonMessage): void {
    if (this.#closed) return;
    if (m.error !== undefined) {
      this.write(parseErrorResponse(m.error));
      return;
    }
    this.owner.handle(this, m.value);
  }
}

/** One QMP monitor of a machine; any number of client sessions. */
export class QmpMonitor {
  readonly machine: Machine;
  readonly #options: QmpMonitorOptions;
  readonly #sessions: Session[] = [];
  readonly #commands: ReadonlyMap<string, QmpCommand>;
  readonly #track: number;
  readonly #owner: SessionOwner = {
    handle: (s, request) => {
      const after: (() => void)[] = [];
      const rsp = this.#dispatch(s, request, after);
      s.write(rsp);
      for (const fn of after) fn();
    },
    detach: (s) => {
      const i = this.#sessions.indexOf(s);
      if (i >= 0) this.#sessions.splice(i, 1);
    },
  };

  constructor(machine: Machine, options: QmpMonitorOptions = {}) {
    this.machine = machine;
    this.#options = options;
    const env: QmpCommandEnv = {
      machine,
      registry: new QomRegistry(machine),
      version: { package: options.package ?? ` (irqlab ${IRQLAB_VERSION})` },
      commandNames: () => [...this.#commands.keys()],
      onQuit: () => options.onQuit?.(),
    };
    this.#commands = buildQmpCommands(env);
    this.#track = machine.tracer.track(machine.name, "qmp", "vmm");
    machine.onEvent((e, at) => {
      this.#broadcast(e.event, e.data, at);
    });
  }

  /** A new client connection; the greeting goes to `send` at once. */
  connect(send: (text: string) => void): QmpSession {
    const s = new Session(this.#owner, send, this.#options.oob === true ? ["oob"] : [], this.#options.pretty === true);
    this.#sessions.push(s);
    s.write({ QMP: { version: this.#version(), capabilities: [...s.state.offered] } });
    return s;
  }

  /** The sessions currently open. */
  get sessions(): readonly QmpSession[] {
    return this.#sessions;
  }

  /**
   * Runs one command as a negotiated client would (for scenario timelines
   * and tests): returns the response as plain JavaScript, `{ return }` or
   * `{ error: { class, desc } }`. Events go to the sessions as usual.
   */
  execute(command: string, args: Record<string, unknown> = {}): { readonly return?: unknown; readonly error?: { readonly class: string; readonly desc: string } } {
    const request = jsToQObject({ execute: command, arguments: args });
    const after: (() => void)[] = [];
    const rsp = this.#dispatch(undefined, request, after);
    for (const fn of after) fn();
    return qobjectToJs(jsToQObject(rsp)) as { return?: unknown; error?: { class: string; desc: string } };
  }

  /** The `timestamp` member of an event at virtual time `at`: virtual ns since the machine was created. */
  timestamp(at: number): { seconds: number; microseconds: number } {
    const ns = Math.max(0, at - this.machine.createdAt);
    return { seconds: Math.floor(ns / 1e9), microseconds: Math.floor((ns % 1e9) / 1e3) };
  }

  #dispatch(s: Session | undefined, request: QObject, after: (() => void)[]): QmpResponse {
    const ctx: QmpCommandContext = {
      session: s?.state,
      after: (fn) => {
        after.push(fn);
      },
    };
    const rsp = qmpDispatch(this.#commands, request, s?.state, ctx);
    const t = this.machine.tracer;
    if (t.enabled) {
      const err = rsp.error as { class?: string } | undefined;
      const name = request instanceof QDict ? (request.get("execute") ?? request.get("exec-oob")) : undefined;
      t.instant(this.#track, "qmp", typeof name === "string" ? name : "(invalid)", err === undefined ? {} : { error: String(err.class) });
    }
    return rsp;
  }

  #version(): QmpValue {
    return this.#commands.get("query-version")!.run({ session: undefined, after: () => undefined }, {}, new QDict()) ?? null;
  }

  #broadcast(event: string, data: Record<string, unknown>, at: number): void {
    // An event without members has no "data" (qapi_event_send_stop builds only event + timestamp).
    const msg: QmpEventMessage = Object.keys(data).length > 0 ? { timestamp: this.timestamp(at), event, data } : { timestamp: this.timestamp(at), event };
    for (const s of [...this.#sessions]) if (s.state.negotiated) s.write({ ...msg });
  }
}
