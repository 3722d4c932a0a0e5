/**
 * irqlab's own QMP commands, with QEMU's `x-` prefix for commands outside
 * the stable interface:
 *
 * - x-irqlab-query-counters: what the model measured so far — the host's
 *   named counters (KVM exits by reason, halt polling, dropped or failed
 *   injections, guest errors; shared by every machine on the host), each
 *   vCPU thread's KVM_RUN calls, continuations of a KVM_RUN (run() going
 *   on with one that handed back "running") and userspace exits, each irqfd's
 *   injections, and the KVM ioctls the machine issued, by name.
 * - x-irqlab-step {ns}: runs virtual time for `ns` nanoseconds while the
 *   monitor has control (Machine.run: every machine on the host advances;
 *   a paused machine does not), events going out as they happen, and
 *   answers with why the run ended and the virtual time since the machine
 *   was created. Refused while virtual time is already running (a command
 *   read from inside a run), since a run cannot nest.
 */

import { genericError } from "./qmp-args.js";
import type { QmpCommand } from "./qmp-dispatch.js";
import type { QmpCommandEnv } from "./qmp-env.js";

/** x-irqlab-query-counters / x-irqlab-step. */
export function irqlabCommands(env: QmpCommandEnv): QmpCommand[] {
  const m = env.machine;
  const now = (): number => m.queue.now - m.createdAt;
  return [
    {
      name: "x-irqlab-query-counters",
      args: [],
      run() {
        const counters = Object.entries(m.tracer.counters.toJSON()).map(([name, value]) => ({ name, value }));
        const ioctls = new Map<string, number>();
        for (const c of m.calls.calls) ioctls.set(c.ioctl, (ioctls.get(c.ioctl) ?? 0) + 1);
        return {
          "time-ns": now(),
          counters,
          vcpus: m.cpus.map((c) => ({ "cpu-index": c.index, runs: c.thread.runs, continuations: c.thread.continuations, exits: c.thread.exits })),
          irqfds: m.vm.irqfds.irqfds.map((f) => ({ gsi: f.gsi, injections: f.injections })),
          ioctls: [...ioctls].sort((a, b) => (a[0] < b[0] ? -1 : 1)).map(([name, count]) => ({ name, count })),
        };
      },
    },
    {
      name: "x-irqlab-step",
      args: [{ name: "ns", type: "int" }],
      run(_ctx, args) {
        const ns = Number(args.ns);
        if (ns < 0) throw genericError("Parameter 'ns' expects a non-negative number of nanoseconds");
        if (m.queue.depth > 0) throw genericError("x-irqlab-step: virtual time is already running");
        const end = m.run(ns);
        return { end, "time-ns": now() };
      },
    },
  ];
}
