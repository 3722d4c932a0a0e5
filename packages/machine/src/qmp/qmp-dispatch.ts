/**
 * QMP dispatch (qapi/qmp-dispatch.c qmp_dispatch, monitor/qmp.c
 * monitor_qmp_dispatch): a request object is checked member by member in
 * QDict order (qmp_dispatch_check_obj), the command looked up in the
 * session's command list, its arguments visited, and a response built:
 * `{"return": ...}` or `{"error": {"class", "desc"}}`, with the request's
 * `id` copied back whatever JSON value it is. Before capabilities
 * negotiation the list holds only qmp_capabilities, and a CommandNotFound
 * gets the text "Expecting capabilities negotiation with
 * 'qmp_capabilities'" instead.
 */

import { ConfigError } from "@irqlab/sim";
import { QmpError, genericError, visitArgs, type ArgValue, type QapiMember } from "./qmp-args.js";
import { QDict, type QObject, type QmpValue } from "./qobject.js";

/** What a command runs with. */
export interface QmpCommandContext {
  /** The session the request came from (undefined for {@link QmpMonitor.execute}). */
  readonly session: QmpSessionState | undefined;
  /** Work to do once the response has been sent (what QEMU's main loop does after the command: shutdown, reset, powerdown requests). */
  after(fn: () => void): void;
}

/** The per-session state a command may change (qmp_capabilities). */
export interface QmpSessionState {
  /** Capabilities negotiation is complete (mon->commands == &qmp_commands). */
  negotiated: boolean;
  /** The capabilities offered in the greeting. */
  readonly offered: readonly string[];
  /** The capabilities the client enabled (mon->capab). */
  enabled: readonly string[];
}

/** A QMP command. */
export interface QmpCommand {
  readonly name: string;
  /** The schema's 'data' members, or "dict" for 'gen': false commands that take the arguments QDict as is (device_add). */
  readonly args: readonly QapiMember[] | "dict";
  /** Allowed before negotiation (only qmp_capabilities). */
  readonly negotiation?: boolean;
  /** 'allow-oob': true. */
  readonly allowOob?: boolean;
  /** Runs the command. Returns the return value ({} when undefined), throws QmpError. */
  run(ctx: QmpCommandContext, args: Record<string, ArgValue>, raw: QDict): QmpValue | undefined;
}

/** A response, ready to be written. */
export type QmpResponse = Readonly<Record<string, unknown>>;

function errorResponse(e: QmpError): { error: { class: string; desc: string } } {
  return { error: { class: e.errorClass, desc: e.desc } };
}

/** qmp_error_response() for a parse error (never has an id). */
export function parseErrorResponse(desc: string): QmpResponse {
  return errorResponse(genericError(desc));
}

/** qmp_is_oob(). */
export function isOobRequest(req: QObject): boolean {
  return req instanceof QDict && req.has("exec-oob") && !req.has("execute");
}

/**
 * qmp_dispatch() + monitor_qmp_dispatch()'s negotiation message. `state`
 * undefined: a negotiated session with no out-of-band capability.
 */
export function qmpDispatch(commands: ReadonlyMap<string, QmpCommand>, request: QObject, state: QmpSessionState | undefined, ctx: QmpCommandContext): QmpResponse {
  const dict = request instanceof QDict ? request : undefined;
  const id = dict?.get("id");
  let rsp: QmpResponse;
  try {
    rsp = { return: dispatch(commands, request, state, ctx) };
  } catch (e) {
    // A model refusing what a command asked for (a ConfigError) is the command's error.
    const qe = e instanceof ConfigError ? genericError(e.message) : e;
    if (!(qe instanceof QmpError)) throw qe;
    let err = qe;
    if (state !== undefined && !state.negotiated && qe.errorClass === "CommandNotFound") err = new QmpError("CommandNotFound", "Expecting capabilities negotiation with 'qmp_capabilities'");
    rsp = errorResponse(err);
  }
  return id === undefined ? rsp : { ...rsp, id };
}

function dispatch(commands: ReadonlyMap<string, QmpCommand>, request: QObject, state: QmpSessionState | undefined, ctx: QmpCommandContext): QmpValue {
  if (!(request instanceof QDict)) throw genericError("QMP input must be a JSON object");
  const allowOob = state?.enabled.includes("oob") ?? false;
  let execKey: string | undefined;
  // qmp_dispatch_check_obj(), in QDict order.
  for (const [name, value] of request.entries()) {
    if (name === "execute" || (name === "exec-oob" && allowOob)) {
      if (typeof value !== "string") throw genericError(`QMP input member '${name}' must be a string`);
      if (execKey !== undefined) throw genericError(`QMP input member '${name}' clashes with '${execKey}'`);
      execKey = name;
    } else if (name === "arguments") {
      if (!(value instanceof QDict)) throw genericError("QMP input member 'arguments' must be an object");
    } else if (name !== "id") {
      throw genericError(`QMP input member '${name}' is unexpected`);
    }
  }
  if (execKey === undefined) throw genericError("QMP input lacks member 'execute'");
  const name = request.get(execKey) as string;
  const cmd = commands.get(name);
  const available = cmd !== undefined && (state === undefined || state.negotiated || cmd.negotiation === true);
  if (!available) throw new QmpError("CommandNotFound", `The command ${name} has not been found`);
  if (execKey === "exec-oob" && cmd.allowOob !== true) throw genericError(`The command ${name} does not support OOB`);
  const raw = (request.get("arguments") as QDict | undefined) ?? new QDict();
  const args = cmd.args === "dict" ? {} : visitArgs(raw, cmd.args);
  return cmd.run(ctx, args, raw) ?? {};
}
