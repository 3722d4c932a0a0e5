/**
 * vCPU placement by the host scheduler, with the kernel-side remedy of seed
 * 000 as an option.
 *
 * {@link SchedulerPlacement} is a PlacementPolicy: each vCPU has a host thread
 * in a {@link HostScheduler}; at KVM_RUN (vcpu_load) the thread is woken if it
 * sleeps, its affinity follows `vcpu.setThreadAffinity` (sched_setaffinity),
 * and the vCPU's host CPU is the hart the scheduler put it on. The scheduler
 * knows nothing of VS-files.
 *
 * With `kernelMigrate` the policy does what Andrew Jones proposed on the
 * thread (Message-ID 20250717-f8c5ad3a56fbd7cf24224853@orel): KVM tracks free
 * VS-files and, instead of failing a HWACCEL vCPU on a hart with none free,
 * migrates (does not pin) its thread — back to the hart holding its file if it
 * owns one there, else to the next allowed online hart with a free file. The
 * thread's affinity mask is unchanged afterwards. With no free file anywhere it
 * does nothing and the entry fails (the host records which VM's vCPU).
 * Unimplemented upstream: Linux arch/riscv/kvm/aia.c kvm_riscv_aia_alloc_hgei
 * only takes the first free line of the current CPU.
 */

import type { Host, PlacedVcpu, PlacementPolicy } from "../host.js";
import type { RiscvAiaHost } from "../riscv-aia/aia-host.js";
import type { HostScheduler } from "../sched/host-scheduler.js";
import type { CreatedThread, HostThread } from "../sched/host-thread.js";

/** Options of a {@link SchedulerPlacement}. */
export interface SchedulerPlacementOptions {
  /** The host's AIA (needed for kernelMigrate). */
  readonly aia?: RiscvAiaHost;
  /** KVM migrates a HWACCEL vCPU to a hart with a free VS-file instead of failing (default false). */
  readonly kernelMigrate?: boolean;
}

/** vcpu->cpu from the host scheduler. */
export class SchedulerPlacement implements PlacementPolicy {
  readonly name: string;
  /** Migrations done by the kernel-migrate remedy. */
  remedyMigrations = 0;
  // Each vCPU's thread, which is also this policy's record of the vCPU: the thread's owner (this policy)
  // and the affinity last given to the scheduler for it lie in the thread's own fields (CreatedThread),
  // and PlacedVcpu.placementSlot holds the thread.
  readonly #threads = new Map<string, CreatedThread>();
  #allHarts: readonly number[] | undefined;
  /** kernelMigrate with an AIA: select() may move a vCPU at any entry, whatever its thread did. */
  readonly #looksAtFiles: boolean;

  constructor(
    /** The scheduler that owns the vCPU threads. */
    readonly sched: HostScheduler,
    readonly options: SchedulerPlacementOptions = {},
  ) {
    this.name = options.kernelMigrate === true ? "host-scheduler+kernel-migrate" : "host-scheduler";
    this.#looksAtFiles = options.kernelMigrate === true && options.aia !== undefined;
  }

  /** A traced scheduler draws the host CPU tracks from its switches. */
  get drawsHostCpus(): boolean {
    return this.sched.traced;
  }

  /** The host thread of a vCPU (created sleeping on first use, named `vm<i>/vcpu<id>`). */
  threadOf(vcpu: PlacedVcpu): HostThread {
    return this.#entry(vcpu);
  }

  /** The vCPU's thread when the vCPU's slot holds one of this policy's. */
  #own(vcpu: PlacedVcpu): CreatedThread | undefined {
    const t = vcpu.placementSlot as CreatedThread | undefined;
    return t?.owner === this ? t : undefined;
  }

  /**
   * The vCPU's thread, by `vm<i>/vcpu<id>`; taken from the vCPU's placement
   * slot first, since select() runs at every KVM_RUN.
   */
  #entry(vcpu: PlacedVcpu): CreatedThread {
    let t = this.#own(vcpu);
    if (t !== undefined) return t;
    const key = `${vcpu.vmIndex}/${vcpu.vcpuId}`;
    t = this.#threads.get(key);
    if (t === undefined) {
      t = this.sched.createThread(`vm${vcpu.vmIndex}/vcpu${vcpu.vcpuId}`);
      t.owner = this;
      this.#threads.set(key, t);
    }
    vcpu.placementSlot = t;
    return t;
  }

  /** PlacementPolicy.prefetch: the vCPU's thread, which select() reads. */
  prefetch(vcpu: PlacedVcpu): number {
    const t = this.#own(vcpu);
    return t === undefined || t.migrations === t.tid ? 0 : 1;
  }

  select(vcpu: PlacedVcpu, _host: Host): number {
    const t = this.#entry(vcpu);
    const aff = vcpu.affinity;
    if (aff !== t.ownerAffinity) {
      // A thread starts on every hart: an empty affinity changes it only after another was applied.
      const first = t.ownerAffinity === undefined;
      t.ownerAffinity = aff;
      if (aff.length > 0) this.sched.setAffinity(t, aff);
      else if (!first) this.sched.setAffinity(t, this.#everyHart());
    }
    if (t.state === "sleeping") this.sched.wake(t);
    const cpu = t.hart;
    if (!this.#looksAtFiles) return cpu;
    const aia = this.options.aia!;
    const owner = aia.ownerFor(vcpu.vmIndex, vcpu.vcpuId);
    if (owner === undefined || !owner.needsVsFile || owner.vsFileCpu === cpu || aia.freeOn(cpu) > 0) return cpu;
    const target = this.#target(t, owner.vsFileCpu, cpu, aia);
    if (target < 0) return cpu; // nothing free anywhere: the entry fails
    this.#migrate(t, target);
    this.remedyMigrations++;
    return t.hart;
  }

  /** Every hart's index, made once: the mask an empty affinity stands for. */
  #everyHart(): readonly number[] {
    return (this.#allHarts ??= Object.freeze(Array.from({ length: this.sched.hartCount }, (_, i) => i)));
  }

  keeps(vcpu: PlacedVcpu): boolean {
    // With kernelMigrate, select() looks at the VS-files on every entry.
    if (this.#looksAtFiles) return false;
    const t = this.#own(vcpu);
    return t?.ownerAffinity === vcpu.affinity && t.state !== "sleeping" && t.hart === vcpu.hostCpu;
  }

  /** The hart holding the vCPU's file if allowed, else the next allowed online hart with a free file. */
  #target(t: HostThread, own: number, from: number, aia: RiscvAiaHost): number {
    if (own >= 0 && t.affinity.get(own) && this.sched.isOnline(own)) return own;
    const n = this.sched.hartCount;
    for (let i = 1; i <= n; i++) {
      const c = (from + i) % n;
      if (t.affinity.get(c) && this.sched.isOnline(c) && aia.freeOn(c) > 0) return c;
    }
    return -1;
  }

  /** Moves the thread to `hart` without changing its affinity (a migration_cpu_stop, not a pin). */
  #migrate(t: HostThread, hart: number): void {
    const saved: number[] = [];
    for (let h = t.affinity.findNextSet(0); h >= 0; h = t.affinity.findNextSet(h + 1)) saved.push(h);
    this.sched.setAffinity(t, [hart]);
    this.sched.setAffinity(t, saved);
  }
}

