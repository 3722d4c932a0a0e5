/**
 * Host CPU tracks from vCPU placement: one track per host CPU showing which
 * vCPU threads are inside KVM_RUN there (vcpu_load on entry, vcpu_put at the
 * return to userspace), as Perfetto's CPU tracks show sched_switch.
 *
 * This is the view of a host without a scheduler model (the default
 * placement keeps each vCPU on its CPU and never time-shares one): when two
 * vCPUs are placed on the same CPU at once the slice names both ("vm0/vcpu0 +
 * vm1/vcpu2", args.threads 2), so a track never holds overlapping slices. A
 * placement policy that models the scheduler draws these tracks itself
 * ({@link PlacementPolicy.drawsHostCpus}, the host scheduler's switches) and
 * this one stays silent.
 *
 * Only called while tracing (the run loop tests `tracer.enabled`).
 */

import { TraceState, type Tracer } from "@irqlab/sim";
import type { Host } from "./host.js";

/** The host CPU tracks of one Kvm's host. */
export class HostCpuTrace {
  readonly #states: (TraceState | undefined)[] = [];
  readonly #running: string[][] = [];

  constructor(
    readonly tracer: Tracer,
    readonly host: Host,
  ) {}

  /** `thread` starts running on `cpu` (vcpu_load). */
  enter(cpu: number, thread: string): void {
    if (cpu < 0 || this.host.placement.drawsHostCpus === true) return;
    const list = (this.#running[cpu] ??= []);
    list.push(thread);
    this.#show(cpu, list);
  }

  /** `thread` stops running on `cpu` (vcpu_put). */
  leave(cpu: number, thread: string): void {
    const list = this.#running[cpu];
    const i = list === undefined ? -1 : list.indexOf(thread);
    if (i < 0) return;
    list!.splice(i, 1);
    this.#show(cpu, list!);
  }

  #show(cpu: number, list: readonly string[]): void {
    const s = (this.#states[cpu] ??= new TraceState(this.tracer, this.tracer.track("host", `cpu${cpu}`, "host-cpu"), "sched"));
    if (list.length === 0) s.leave();
    else if (list.length === 1) s.enter(list[0]!, { threads: 1 });
    else s.enter(list.join(" + "), { threads: list.length });
  }
}
