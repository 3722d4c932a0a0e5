/**
 * A vCPU thread: QEMU's kvm_vcpu_thread_fn running kvm_cpu_exec
 * (accel/kvm/kvm-accel-ops.c, accel/kvm/kvm-all.c), on the host's shared
 * clock.
 *
 * Every vCPU thread of every machine on a host is a process of one event
 * queue. A thread's step is KVM_RUN in a loop, each exit handled as
 * kvm_cpu_exec handles it, until KVM_RUN returns because the vCPU blocked
 * (RunOptions.onWakeup: the thread sleeps until the wake-up callback), its
 * time ran out (the limit of an enclosing run: KVM_RUN hands back "running"
 * without an exit, and the step continues that KVM_RUN once the clock may
 * move on, left off the queue for as long as Vcpu.idleUntil says continuing
 * would only let time pass), or the machine stopped it. A thread that
 * executes while another vCPU's operation is under way runs inside that operation's
 * time (EventQueue "nested runs"), so vCPUs of one machine run in parallel
 * in virtual time, each on its own host CPU.
 *
 * Exit dispatch (kvm_cpu_exec's switch and the arch hooks):
 * KVM_EXIT_MMIO → the machine's address space (address_space_rw);
 * KVM_EXIT_SYSTEM_EVENT → shutdown / reset request (SHUTDOWN, RESET, CRASH);
 * KVM_EXIT_RISCV_SBI → the console (kvm_riscv_handle_sbi);
 * KVM_EXIT_FAIL_ENTRY → the machine's policy (stock QEMU: no handler, ret -1);
 * anything else → "un-handled exit", ret -1. A return of -1 makes QEMU dump
 * the vCPU state and vm_stop(RUN_STATE_INTERNAL_ERROR).
 */

import {
  KVM_EXIT_FAIL_ENTRY,
  KVM_EXIT_DEBUG,
  KVM_EXIT_HYPERCALL,
  KVM_EXIT_RISCV_CSR,
  KVM_EXIT_INTERNAL_ERROR,
  KVM_EXIT_INTR,
  KVM_EXIT_MMIO,
  KVM_EXIT_RISCV_SBI,
  KVM_EXIT_SYSTEM_EVENT,
  exitReasonName,
  type FailEntryExit,
  type MmioExit,
  type RiscvSbiExit,
  type RunOptions,
  type SystemEventExit,
  type Vcpu,
} from "@irqlab/kvm";
import type { AccessSize, EventQueue, IdleCheck } from "@irqlab/sim";

/** What a vCPU thread needs from its machine. */
export interface VcpuThreadMachine {
  readonly queue: EventQueue;
  /** cpu_can_run(): the machine is running (not paused, stopped, shut down). */
  vcpusMayRun(): boolean;
  /** KVM_EXIT_MMIO: complete the access on the machine's address space. */
  mmio(exit: MmioExit, cpu: number): void;
  /** Whether {@link mmio} answers a load of [addr, addr + size) without a side effect or a log (RunOptions.quietLoads). */
  quietLoad(addr: number, size: AccessSize): boolean;
  /** KVM_EXIT_SYSTEM_EVENT. */
  systemEvent(exit: SystemEventExit, cpu: number): void;
  /** KVM_EXIT_RISCV_SBI (console). Returns false for an SBI call QEMU does not handle. */
  sbi(exit: RiscvSbiExit, cpu: number): boolean;
  /** KVM_EXIT_FAIL_ENTRY: true if handled (re-enter), false for QEMU's -1. */
  failEntry(exit: FailEntryExit, thread: VcpuThread): boolean;
  /** kvm_cpu_exec returned -1: dump state, vm_stop(RUN_STATE_INTERNAL_ERROR). */
  internalError(thread: VcpuThread, why: string): void;
  /** The vCPU thread blocked in the kernel, or runs again (host scheduler sleep / wake). */
  threadBlocked(thread: VcpuThread, blocked: boolean): void;
}

/** One vCPU thread ("CPU n/KVM"). */
export class VcpuThread {
  /** QEMU's thread name. */
  readonly name: string;
  /** KVM_RUN calls made. */
  runs = 0;
  /**
   * run() calls that went on with a KVM_RUN which had handed back "running"
   * (stopped by the end of another vCPU's operation, or of a run of the
   * machine): no exit and no KVM_RUN of their own, the vCPU re-entering the
   * guest once the clock may move on. Not in {@link runs}.
   */
  continuations = 0;
  /** Exits handled in userspace (KVM_EXIT_INTR not counted). */
  exits = 0;
  #scheduled = false;
  #started = false;
  #blocked = false;
  // KVM_RUN returned "running": the vCPU is still in it, and the next run() continues it.
  #inRun = false;
  readonly #runOptions: RunOptions;
  readonly #step = (): void => {
    this.#scheduled = false;
    this.#exec();
  };
  readonly #idle: IdleCheck = new StoppedRunIdle(this);

  constructor(
    readonly machine: VcpuThreadMachine,
    /** The QEMU cpu_index of the CPU. */
    readonly cpuIndex: number,
    readonly vcpu: Vcpu,
  ) {
    this.name = `CPU ${cpuIndex}/KVM`;
    this.#runOptions = {
      onWakeup: () => {
        this.#schedule();
      },
      // Loads of a device register that reads without a side effect: KVM_RUN may answer a repeat
      // of one for the VMM, and each it answered is counted here as the run and the exit it stands for.
      quietLoads: {
        quiet: (addr, size) => machine.quietLoad(addr, size),
        answered: (count) => {
          this.runs += count;
          this.exits += count;
        },
      },
    };
  }

  /** The thread has been started and not stopped for good. */
  get started(): boolean {
    return this.#started;
  }

  /** The vCPU is blocked in KVM_RUN (WFI, powered off) waiting for a wake-up. */
  get blocked(): boolean {
    return this.#blocked;
  }

  /** Starts the thread (qemu_init_vcpu → the thread enters its loop). */
  start(): void {
    this.#started = true;
    this.resume();
  }

  /** Ends the thread for good (unplug: the vCPU fd is parked by the machine). */
  stop(): void {
    this.#started = false;
    this.kick();
  }

  /** The machine may run vCPUs again (cont): let the thread enter KVM_RUN. */
  resume(): void {
    this.vcpu.kvmRun.immediateExit = 0;
    this.#schedule();
  }

  /** kvm_cpu_kick(): immediate_exit + a signal, so KVM_RUN returns at once. */
  kick(): void {
    this.vcpu.kick();
  }

  #schedule(): void {
    if (this.#scheduled || !this.#started) return;
    this.#scheduled = true;
    this.machine.queue.scheduleWhenUnlimited(this.#step, undefined, this.#inRun ? this.#idle : undefined);
  }

  /** kvm_cpu_exec() until the thread has to wait. */
  #exec(): void {
    const m = this.machine;
    const vcpu = this.vcpu;
    if (this.#blocked) {
      this.#blocked = false;
      m.threadBlocked(this, false);
    }
    for (;;) {
      if (!this.#started || !m.vcpusMayRun()) return; // qemu_wait_io_event: sleep until resumed
      if (this.#inRun) this.continuations++;
      else this.runs++;
      this.#inRun = false;
      const e = vcpu.run(0, this.#runOptions);
      switch (e.reason) {
        case KVM_EXIT_INTR:
          if (e.cause === "blocked") {
            this.#blocked = true;
            m.threadBlocked(this, true);
            return; // asleep in KVM_RUN until the wake-up callback
          }
          if (e.cause === "running" || e.cause === "budget") {
            // Out of time: "running" is no exit, the vCPU is still in KVM_RUN and the next run() continues it.
            this.#inRun = e.cause === "running";
            this.#schedule(); // go on once the clock may move past now
            return;
          }
          // kick / immediate-exit: kvm_eat_signals, EXCP_INTERRUPT; the loop re-checks cpu_can_run().
          vcpu.kvmRun.immediateExit = 0;
          if (e.cause === "idle") return;
          continue;
        case KVM_EXIT_MMIO:
          this.exits++;
          m.mmio(e, vcpu.hostCpu);
          continue;
        case KVM_EXIT_SYSTEM_EVENT:
          this.exits++;
          m.systemEvent(e, vcpu.hostCpu);
          continue;
        case KVM_EXIT_RISCV_SBI:
          this.exits++;
          if (m.sbi(e, vcpu.hostCpu)) continue;
          m.internalError(this, `un-handled SBI EXIT, specific reasons is ${e.extensionId}`);
          return;
        case KVM_EXIT_FAIL_ENTRY:
          this.exits++;
          if (m.failEntry(e, this)) continue;
          m.internalError(this, `un-handled exit reason ${e.reason} (${exitReasonName(e.reason)}, hardware_entry_failure_reason 0x${e.hardwareEntryFailureReason.toString(16)}, cpu ${e.cpu})`);
          return;
        case KVM_EXIT_INTERNAL_ERROR:
          this.exits++;
          m.internalError(this, `KVM internal error. Suberror: ${e.suberror}`);
          return;
        case KVM_EXIT_HYPERCALL:
        case KVM_EXIT_RISCV_CSR:
        case KVM_EXIT_DEBUG:
          // Neither the arm nor the riscv kvm_arch_handle_exit handles the first two: "un-handled exit", ret -1.
          // KVM_EXIT_DEBUG follows only KVM_SET_GUEST_DEBUG, which QEMU issues for its gdbstub; the machine
          // has none and never enables guest debugging, so it is as unexpected.
          this.exits++;
          m.internalError(this, `un-handled exit reason ${e.reason} (${exitReasonName(e.reason)})`);
          return;
      }
    }
  }
}

/**
 * Whether continuing a thread's stopped KVM_RUN up to a time would only let
 * time pass (EventQueue.scheduleWhenUnlimited), and `stepsAsked`, how far
 * that can be, for a poll skipping many of its turns at once. Both read the
 * time the queue asks about (EventQueue.askedTime); the queue never asks
 * `steps(from, …)` of a check that has `stepsAsked`, so this one has none.
 * One class for every thread: the queue asks at nearly every run of another
 * vCPU, and a call to one class's method is one TurboFan inlines.
 */
class StoppedRunIdle implements IdleCheck {
  constructor(private readonly thread: VcpuThread) {}

  idleUntil(time: number): boolean {
    const t = this.thread;
    return t.started && t.machine.vcpusMayRun() && t.vcpu.idleUntil(time);
  }

  idleUntilAsked(): boolean {
    const t = this.thread;
    // The vCPU takes the time from the queue: no number crosses a call here.
    return t.started && t.machine.vcpusMayRun() && t.vcpu.idleUntil();
  }

  stepsAsked(step: number, max: number): number {
    // As idleUntilAsked: the vCPU takes the time from the queue.
    return this.thread.vcpu.idleSteps(undefined, step, max);
  }
}
