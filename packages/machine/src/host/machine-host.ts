/**
 * The host a machine runs on: one physical machine with N CPUs (harts / PEs),
 * its Linux KVM (`/dev/kvm`, a {@link Kvm} of the host's architecture with the
 * in-kernel irqchips registered), and the host scheduler that places every
 * vCPU thread (kvm/src/sched/host-scheduler.ts, kvm/src/vsfile/vsfile-placement.ts).
 * Several machines may share one host, as several QEMU processes share a
 * server: they share its clock, its CPUs and, on RISC-V, its guest
 * interrupt files (GEILEN per hart), which is what seed 000 is about.
 *
 * The host also drives virtual time for the machines on it: {@link run}
 * runs the shared event queue, on which every vCPU thread of every machine
 * is a process (see core/vcpu-thread.ts).
 */

import { ConfigError, EventQueue, Tracer, type Nanoseconds } from "@irqlab/sim";
import {
  HostScheduler,
  Host,
  Kvm,
  SchedulerPlacement,
  registerRiscvAia,
  type RiscvAiaHost,
  type VgicInitMode,
} from "@irqlab/kvm";
import type { HostConfig, MachineArch } from "../config/machine-config.js";

/** Options of a {@link MachineHost}. */
export interface MachineHostOptions extends Partial<HostConfig> {
  /** The emulator architecture the host runs (an aarch64 host runs qemu-system-aarch64). */
  readonly arch: MachineArch;
  /**
   * How the host's vgic-v3 initialises (arm64): "explicit" (KVM_DEV_ARM_VGIC_CTRL_INIT)
   * or "lazy-init" at the first KVM_RUN, the 2014 behaviour seed 003 is about.
   */
  readonly vgicInitMode?: VgicInitMode;
  /** KVM migrates a HWACCEL vCPU to a hart with a free VS-file instead of failing its entry (seed 000's kernel remedy). */
  readonly kernelMigrate?: boolean;
  /** Record a trace (default false; counters are always kept). */
  readonly trace?: boolean;
}

/** One host: its KVM, CPUs, scheduler and clock. */
export class MachineHost {
  /** The KVM of the host (/dev/kvm). */
  readonly kvm: Kvm;
  /** The shared virtual clock. */
  readonly queue: EventQueue;
  /** The tracer. */
  readonly tracer: Tracer;
  /** The scheduler of the host's threads (every vCPU thread is one). */
  readonly scheduler: HostScheduler;
  /** vCPU placement through the scheduler (and, optionally, seed 000's kernel remedy). */
  readonly placement: SchedulerPlacement;
  /** RISC-V: the harts' guest interrupt files. */
  readonly aia: RiscvAiaHost | undefined;
  /** The configuration, resolved. */
  readonly config: HostConfig;
  #loopDepth = 0;
  #nextHostIrq = 8192;

  constructor(options: MachineHostOptions) {
    const harts = options.harts ?? 4;
    const guestFiles = options.guestFiles ?? 5;
    const kernel = options.kernel ?? "linux-6.19";
    if (!Number.isInteger(harts) || harts < 1 || harts > 4096) throw new ConfigError(`host harts ${harts} is not in 1..4096`);
    if (!Number.isInteger(guestFiles) || guestFiles < 0 || guestFiles > 63) throw new ConfigError(`host guest-files ${guestFiles} is not in 0..63`);
    this.config = { harts, guestFiles, kernel };
    this.queue = new EventQueue();
    this.tracer = new Tracer(this.queue, { enabled: options.trace ?? false });
    const arch = options.arch === "aarch64" ? "arm64" : "riscv64";
    // An arm64 Kvm registers the vgic-v3 and the ITS itself (kvm_register_vgic_device at init).
    this.kvm = new Kvm({ arch, host: new Host({ cpus: harts }), queue: this.queue, tracer: this.tracer, vgicInitMode: options.vgicInitMode ?? "explicit" });
    this.scheduler = new HostScheduler(this.queue, { harts, tracer: this.tracer });
    if (arch === "arm64") {
      this.aia = undefined;
    } else {
      this.aia = registerRiscvAia(this.kvm, { geilen: guestFiles, profile: kernel });
    }
    this.placement = new SchedulerPlacement(this.scheduler, {
      ...(this.aia === undefined ? {} : { aia: this.aia }),
      kernelMigrate: options.kernelMigrate ?? false,
    });
    this.kvm.host.setPlacement(this.placement);
  }

  /** The architecture of the host's KVM. */
  get arch(): "arm64" | "riscv64" {
    return this.kvm.arch;
  }

  /**
   * Reserves `n` host interrupt numbers (Linux IRQs) for a passthrough
   * device's vectors; returns the first. Numbered from 8192, where the host
   * GIC's LPIs begin.
   */
  allocateHostIrqs(n: number): number {
    const first = this.#nextHostIrq;
    this.#nextHostIrq += n;
    return first;
  }

  /**
   * Runs virtual time until `until` (absolute ns; Infinity: until nothing is
   * left to happen), or until `done()` holds. Every machine on the host
   * progresses meanwhile. Returns why it stopped.
   */
  run(until: Nanoseconds, done: () => boolean = () => false): "until" | "done" | "idle" {
    const q = this.queue;
    if (this.#loopDepth > 0) throw new ConfigError("MachineHost.run() is already running");
    this.#loopDepth = q.depth + 1;
    try {
      for (;;) {
        if (done()) return "done";
        if (q.now >= until) return "until";
        if (q.pending === 0) return "idle";
        if (until === Number.POSITIVE_INFINITY) q.runUntilIdle();
        else q.runUntil(until);
      }
    } finally {
      this.#loopDepth = 0;
    }
  }

  /**
   * Makes {@link run} look at its stop condition again now (a machine changed
   * state: shutdown, stop, internal error). Work nested in the current run
   * (other vCPUs mid-operation) stops at the current instant and resumes at
   * the next run.
   */
  wakeRunLoop(): void {
    if (this.#loopDepth > 0) this.queue.cut(this.#loopDepth);
  }
}
