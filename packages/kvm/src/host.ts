/**
 * The host: physical CPUs on which vCPU threads run. Every vCPU knows the host
 * CPU it last ran on (vcpu->cpu), which KVM_EXIT_FAIL_ENTRY reports and which
 * RISC-V's VS-file allocation is per.
 *
 * Placement is a seam: a {@link PlacementPolicy} picks the CPU each time a
 * vCPU enters KVM_RUN (vcpu_load). The default keeps a vCPU where it is,
 * places new ones round-robin and honours the thread's affinity mask (like
 * sched_setaffinity on a QEMU vCPU thread). Schedulers and migration policies
 * are other implementations of the same interface.
 */

import { ConfigError } from "@irqlab/sim";

/** One physical CPU. */
export interface HostCpu {
  /** Index of the CPU (Linux's smp_processor_id). */
  readonly id: number;
  /**
   * Which host PMU the CPU belongs to (heterogeneous systems have several);
   * KVM_ARM_VCPU_PMU_V3_SET_PMU restricts a VM to one PMU's CPUs.
   */
  readonly pmu: number;
}

/** What a placement policy sees of a vCPU. */
export interface PlacedVcpu {
  /** VM index on this host. */
  readonly vmIndex: number;
  /** vCPU id. */
  readonly vcpuId: number;
  /** CPU it last ran on, or -1 if never placed. */
  readonly hostCpu: number;
  /** CPUs its thread may run on (all when empty). */
  readonly affinity: readonly number[];
  /**
   * Storage for the placement policy, one value per vCPU: a policy keeps its
   * record of the vCPU here so that placing it at every KVM_RUN looks
   * nothing up. Another policy may have left its own record: check whose it
   * is. Undefined at first.
   */
  placementSlot: unknown;
}

/** Chooses the host CPU a vCPU runs on when it enters KVM_RUN. */
export interface PlacementPolicy {
  /** Name for traces. */
  readonly name: string;
  /** Returns a CPU index of `host`. */
  select(vcpu: PlacedVcpu, host: Host): number;
  /**
   * Whether select() would now return `vcpu.hostCpu` and change nothing
   * (lets a vCPU that stays in KVM_RUN skip re-entries that would not move
   * it). Without it every re-entry calls select().
   */
  keeps?(vcpu: PlacedVcpu, host: Host): boolean;
  /**
   * Loads the policy's records of `vcpu` that select() reads (its thread, for
   * a scheduler), as IrqChipVcpu.prefetch does the vCPU's own state;
   * returns a number of no meaning that the caller keeps.
   */
  prefetch?(vcpu: PlacedVcpu): number;
  /**
   * The policy draws the host CPU tracks of a trace itself (a scheduler
   * model's switches); otherwise they show which vCPUs are in KVM_RUN on
   * each CPU (host-cpu-trace.ts).
   */
  readonly drawsHostCpus?: boolean;
}

/** Keep a vCPU where it is; place new ones round-robin; honour the affinity mask. */
export class StickyRoundRobinPlacement implements PlacementPolicy {
  readonly name = "sticky-round-robin";
  #next = 0;

  keeps(vcpu: PlacedVcpu): boolean {
    return vcpu.hostCpu >= 0 && (vcpu.affinity.length === 0 || vcpu.affinity.includes(vcpu.hostCpu));
  }

  select(vcpu: PlacedVcpu, host: Host): number {
    const allowed = vcpu.affinity;
    if (vcpu.hostCpu >= 0 && allowed.length === 0) return vcpu.hostCpu;
    if (vcpu.hostCpu >= 0 && (allowed.length === 0 || allowed.includes(vcpu.hostCpu))) return vcpu.hostCpu;
    if (allowed.length > 0) return allowed[0]!;
    const cpu = this.#next % host.cpus.length;
    this.#next++;
    return cpu;
  }
}

/** Options of a {@link Host}. */
export interface HostOptions {
  /** Number of CPUs (default 4), or one entry per CPU. */
  readonly cpus?: number | readonly { readonly pmu?: number }[];
  /** Placement policy (default {@link StickyRoundRobinPlacement}). */
  readonly placement?: PlacementPolicy;
}

/** The physical machine KVM runs on. */
export class Host {
  /** The CPUs, by index. */
  readonly cpus: readonly HostCpu[];
  #placement: PlacementPolicy;

  constructor(options: HostOptions = {}) {
    const spec = options.cpus ?? 4;
    const list: readonly { readonly pmu?: number }[] = typeof spec === "number" ? Array.from({ length: spec }, () => ({})) : spec;
    if (list.length < 1 || list.length > 4096 || !Number.isInteger(list.length)) {
      throw new ConfigError(`host CPU count ${String(typeof spec === "number" ? spec : list.length)} is not in 1..4096`);
    }
    this.cpus = list.map((c, id) => {
      const pmu = c.pmu ?? 0;
      if (!Number.isInteger(pmu) || pmu < 0) throw new ConfigError(`host CPU ${id}: pmu ${pmu} is not a non-negative integer`);
      return Object.freeze({ id, pmu });
    });
    this.#placement = options.placement ?? new StickyRoundRobinPlacement();
  }

  /** The placement policy in use. */
  get placement(): PlacementPolicy {
    return this.#placement;
  }

  /** Replaces the placement policy (takes effect at each vCPU's next KVM_RUN). */
  setPlacement(policy: PlacementPolicy): void {
    this.#placement = policy;
  }

  /** @internal Whether placing `vcpu` now would keep it where it is and change nothing (PlacementPolicy.keeps). */
  keepsPlacement(vcpu: PlacedVcpu): boolean {
    return this.#placement.keeps?.(vcpu, this) ?? false;
  }

  /** @internal The policy's {@link PlacementPolicy.prefetch} of `vcpu`, 0 without one. */
  prefetchPlacement(vcpu: PlacedVcpu): number {
    return this.#placement.prefetch?.(vcpu) ?? 0;
  }

  /** @internal Asks the policy and checks its answer. */
  place(vcpu: PlacedVcpu): number {
    const cpu = this.#placement.select(vcpu, this);
    if (!Number.isInteger(cpu) || cpu < 0 || cpu >= this.cpus.length) {
      throw new ConfigError(`placement policy '${this.#placement.name}' chose CPU ${cpu}, not in 0..${this.cpus.length - 1}`);
    }
    return cpu;
  }

  /** Checks an affinity mask against the CPUs. */
  checkAffinity(cpus: readonly number[]): void {
    // Indexed: checked at every sched_setaffinity, where an iterator is an allocation.
    // eslint-disable-next-line @typescript-eslint/prefer-for-of -- see above
    for (let i = 0; i < cpus.length; i++) {
      const c = cpus[i]!;
      if (!Number.isInteger(c) || c < 0 || c >= this.cpus.length) {
        throw new ConfigError(`affinity CPU ${c} is not in 0..${this.cpus.length - 1}`);
      }
    }
  }
}
