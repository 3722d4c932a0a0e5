/**
 * How seed 002's management client asks for a CPU hotplug: QMP over a
 * session of the machine's monitor, as libvirt would (qmp_capabilities,
 * query-hotpluggable-cpus for the empty slot's properties, then device_add
 * {driver, id, socket-id, cluster-id, core-id, thread-id} and device_del
 * {id}; docs/interop/qmp-spec.rst, qapi/qdev.json, qapi/machine.json).
 * Every message sent and received is kept as the transcript.
 */

import { QmpMonitor, type Machine } from "@irqlab/machine";

/** A hotplug request's outcome: "ok", or the QMP error's desc. */
export type HotplugReply = string;

/** The management client of a run. */
export interface HotplugDriver {
  /** How requests reach the machine. */
  readonly via: "qmp";
  /** device_add of the CPU for `slot`, with device id `id`. */
  add(slot: number, id: string): HotplugReply;
  /** device_del of the device `id`. */
  del(id: string): HotplugReply;
  /** "-> request" and "<- reply/event" lines, in order. */
  readonly transcript: readonly string[];
}

interface HotpluggableCpu {
  readonly type: string;
  readonly props: Record<string, number>;
  readonly "qom-path"?: string;
}

/** A QMP client on a new session of a monitor of `m`. */
export function hotplugDriver(m: Machine): HotplugDriver {
  const monitor = new QmpMonitor(m);
  const transcript: string[] = [];
  const inbox: Record<string, unknown>[] = [];
  const session = monitor.connect((text) => {
    for (const line of text.split("\r\n")) {
      if (line === "") continue;
      transcript.push(`<- ${line}`);
      inbox.push(JSON.parse(line) as Record<string, unknown>);
    }
  });
  /** Sends one command and returns its response (events that arrive meanwhile stay in the transcript). */
  const execute = (command: string, args?: Record<string, unknown>): Record<string, unknown> => {
    const text = JSON.stringify(args === undefined ? { execute: command } : { execute: command, arguments: args });
    transcript.push(`-> ${text}`);
    inbox.length = 0;
    session.receive(text);
    const rsp = inbox.find((r) => "return" in r || "error" in r);
    if (rsp === undefined) throw new Error(`QMP: no response to ${command}`);
    return rsp;
  };
  const reply = (r: Record<string, unknown>): HotplugReply => ("error" in r ? (r.error as { desc: string }).desc : "ok");
  reply(execute("qmp_capabilities"));
  return {
    via: "qmp",
    transcript,
    add(slot, id) {
      const r = execute("query-hotpluggable-cpus");
      if ("error" in r) return reply(r);
      const list = r.return as HotpluggableCpu[];
      // The list comes highest slot first (QEMU prepends); slot `slot` is entry length-1-slot.
      const entry = list[list.length - 1 - slot];
      if (entry === undefined) return `no hotpluggable CPU slot ${slot}`;
      return reply(execute("device_add", { driver: entry.type, id, ...entry.props }));
    },
    del(id) {
      return reply(execute("device_del", { id }));
    },
  };
}
