/**
 * struct kvm_run, as the VMM sees it after KVM_RUN (include/uapi/linux/kvm.h;
 * Documentation/virt/kvm/api.rst "The kvm_run structure"; rust-vmm kvm-ioctls
 * src/ioctls/vcpu.rs VcpuExit for the enum shape).
 *
 * As in Linux, there is one kvm_run per vCPU, shared between the kernel and
 * the VMM: `vcpu.run()` returns the member of its exit union that
 * `exit_reason` selects, and that object is the same one every time (like the
 * mmap'ed page), valid until the next run. Completion is in place: to answer
 * an MMIO read, write `data` (or `value`/`hi`); to answer an SBI call, write
 * `ret`; the next `run()` hands it to the guest before executing anything
 * (kvm_handle_mmio_return, kvm_riscv_vcpu_sbi_return).
 */

import type { AccessSize } from "@irqlab/sim";
import {
  KVM_EXIT_DEBUG,
  KVM_EXIT_FAIL_ENTRY,
  KVM_EXIT_HYPERCALL,
  KVM_EXIT_INTERNAL_ERROR,
  KVM_EXIT_INTR,
  KVM_EXIT_MMIO,
  KVM_EXIT_RISCV_CSR,
  KVM_EXIT_RISCV_SBI,
  KVM_EXIT_SYSTEM_EVENT,
  KVM_EXIT_UNKNOWN,
} from "./uapi/exit-reasons.js";
import { SBI_ERR_NOT_SUPPORTED } from "./uapi/sbi.js";

/** KVM_EXIT_MMIO: `mmio.phys_addr`, `data[8]`, `len`, `is_write`. */
export class MmioExit {
  readonly reason: typeof KVM_EXIT_MMIO = KVM_EXIT_MMIO;
  /** Guest-physical address. */
  physAddr = 0;
  /** Access width in bytes. */
  len: AccessSize = 4;
  /** True for a store (data holds the value), false for a load (fill data). */
  isWrite = false;
  /** The 8 data bytes, little-endian, as in kvm_run. */
  readonly data = new Uint8Array(8);
  readonly #view = new DataView(this.data.buffer);

  /** Zeroes the 8 data bytes. */
  clear(): void {
    this.#view.setFloat64(0, 0);
  }

  /** Low 32 bits of data (unsigned). */
  get value(): number {
    return this.#view.getUint32(0, true);
  }
  set value(v: number) {
    this.#view.setUint32(0, v >>> 0, true);
  }
  /** High 32 bits of data (unsigned; meaningful when len is 8). */
  get hi(): number {
    return this.#view.getUint32(4, true);
  }
  set hi(v: number) {
    this.#view.setUint32(4, v >>> 0, true);
  }
}

/**
 * KVM_EXIT_HYPERCALL (arm64: an SMCCC call matched by a FWD_TO_USER filter).
 * `nr` is the function id; `flags` has KVM_HYPERCALL_EXIT_SMC/_16BIT.
 * Linux leaves the registers to KVM_GET/SET_ONE_REG; here `args` holds x1..x6
 * and `regs` x0..x3 as the guest will see them on return (pre-filled with the
 * guest's values, i.e. unchanged unless the VMM writes them).
 */
export class HypercallExit {
  readonly reason: typeof KVM_EXIT_HYPERCALL = KVM_EXIT_HYPERCALL;
  /** Function id (x0). */
  nr = 0;
  /** x1..x6. */
  readonly args: number[] = [0, 0, 0, 0, 0, 0];
  /** x0..x3 on return to the guest. */
  readonly regs: number[] = [0, 0, 0, 0];
  /** KVM_HYPERCALL_EXIT_* flags. */
  flags = 0;
}

/** KVM_EXIT_SYSTEM_EVENT: `type`, `ndata`, `data[16]`. */
export class SystemEventExit {
  readonly reason: typeof KVM_EXIT_SYSTEM_EVENT = KVM_EXIT_SYSTEM_EVENT;
  /** KVM_SYSTEM_EVENT_* type. */
  type = 0;
  /** Number of valid data words. */
  ndata = 0;
  /** Event data (data[0] = PSCI RESET2 flag on arm64, SRST reason on RISC-V). */
  readonly data: number[] = new Array<number>(16).fill(0);
}

/** KVM_EXIT_FAIL_ENTRY: `hardware_entry_failure_reason`, `cpu`. */
export class FailEntryExit {
  readonly reason: typeof KVM_EXIT_FAIL_ENTRY = KVM_EXIT_FAIL_ENTRY;
  /** KVM_EXIT_FAIL_ENTRY_CPU_UNSUPPORTED (arm64) or KVM_EXIT_FAIL_ENTRY_NO_VSFILE (RISC-V). */
  hardwareEntryFailureReason = 0;
  /** Host CPU on which entry failed. */
  cpu = 0;
}

/** KVM_EXIT_RISCV_SBI: `extension_id`, `function_id`, `args[6]`, `ret[2]`. */
export class RiscvSbiExit {
  readonly reason: typeof KVM_EXIT_RISCV_SBI = KVM_EXIT_RISCV_SBI;
  /** a7. */
  extensionId = 0;
  /** a6. */
  functionId = 0;
  /** a0..a5. */
  readonly args: number[] = [0, 0, 0, 0, 0, 0];
  /** sbiret { error, value } returned to the guest; pre-filled with SBI_ERR_NOT_SUPPORTED, 0 as Linux does. */
  readonly ret: number[] = [SBI_ERR_NOT_SUPPORTED, 0];
}

/** KVM_EXIT_RISCV_CSR: `csr_num`, `new_value`, `write_mask`, `ret_value` (64-bit, as bigint). */
export class RiscvCsrExit {
  readonly reason: typeof KVM_EXIT_RISCV_CSR = KVM_EXIT_RISCV_CSR;
  /** CSR number. */
  csrNum = 0;
  /** New value bits (where write_mask is set). */
  newValue = 0n;
  /** Bits being written (0 for a plain read). */
  writeMask = 0n;
  /** Old value returned to the guest; the VMM fills it. */
  retValue = 0n;
}

/** kvm_run.flags of an arm64 debug exit: `hsrHigh` holds ESR_EL2[63:32] (KVM_DEBUG_ARCH_HSR_HIGH_VALID). */
export const KVM_DEBUG_ARCH_HSR_HIGH_VALID = 1;

/**
 * KVM_EXIT_DEBUG: `debug.arch` (struct kvm_debug_exit_arch). A guest debug
 * event the VMM asked for with KVM_SET_GUEST_DEBUG stopped the vCPU, PC (its
 * ONE_REG register) pointing at the instruction. arm64
 * (handle_exit.c kvm_handle_guest_debug): `hsr`/`hsrHigh` are the two halves
 * of the exception's ESR_EL2, `far` the faulting address of a watchpoint, and
 * `flags` (kvm_run.flags) says `hsrHigh` is valid. RISC-V's struct is empty:
 * the fields stay 0. Resuming with PC unchanged executes the instruction
 * again; the VMM steps over a breakpoint by moving PC past it.
 */
export class DebugExit {
  readonly reason: typeof KVM_EXIT_DEBUG = KVM_EXIT_DEBUG;
  /** ESR_EL2[31:0] (arm64). */
  hsr = 0;
  /** ESR_EL2[63:32] (arm64). */
  hsrHigh = 0;
  /** FAR_EL2 for a watchpoint (arm64); 0 otherwise. */
  far = 0;
  /** kvm_run.flags at this exit: KVM_DEBUG_ARCH_HSR_HIGH_VALID on arm64. */
  flags = 0;
}

/** Why KVM_RUN returned KVM_EXIT_INTR. */
export type IntrCause =
  /** `immediate_exit` was set: KVM_RUN returned before entering the guest. */
  | "immediate-exit"
  /** A kick (signal) from outside interrupted the vCPU. */
  | "kick"
  /**
   * The vCPU is blocked (WFI, powered off, suspended) and nothing left on the
   * event queue can wake it. Linux would sleep in KVM_RUN until a signal; the
   * model returns as if that signal came now. The blocked state is kept: the
   * next run() blocks again (the guest does not see a spurious wake-up).
   */
  | "idle"
  /**
   * The run's budget ran out: virtual time reached {@link RunOptions.until},
   * or the time limit of an enclosing event-queue run (a vCPU run from inside
   * another vCPU's time, see EventQueue.limit; with {@link RunOptions.onWakeup}
   * that one is "running" instead). The vCPU resumes where it was at the next
   * run().
   */
  | "budget"
  /**
   * The vCPU blocked (WFI with nothing deliverable, powered off, suspended)
   * during a run given {@link RunOptions.onWakeup}: KVM_RUN returned instead
   * of sleeping, and `onWakeup` is called when a wake-up arrives. The next
   * run() goes on with the wait (re-checking whether the vCPU may run).
   */
  | "blocked"
  /**
   * Not an exit (KVM_RUN has not returned): during a run given
   * {@link RunOptions.onWakeup} without `until`, the time limit of an
   * enclosing event-queue run was reached — the vCPU runs inside another
   * vCPU's operation and has caught up with it. The vCPU left guest mode as
   * for a host interrupt; nothing is counted or traced as an exit, and the
   * KVM_RUN span goes on. The caller calls run() again once the clock may
   * move on (EventQueue.scheduleWhenUnlimited): that call continues the same
   * KVM_RUN, re-entering the guest as the kernel's run loop does after an
   * exit it handles itself (requests, placement, irqchip flush).
   */
  | "running"
  /**
   * arm64 without an in-kernel irqchip: a timer's output level differs from
   * what kvm_run.s.regs.device_irq_level last told userspace, so KVM_RUN
   * returns before entering the guest with the bits brought up to date
   * (arch/arm64/kvm/arm.c kvm_vcpu_exit_request → kvm_timer_should_notify_user).
   */
  | "device-irq-level";

/** Options of one KVM_RUN ({@link Vcpu.run}). */
export interface RunOptions {
  /**
   * Virtual time at which KVM_RUN returns KVM_EXIT_INTR with cause "budget"
   * if nothing else ended it first, including while the vCPU is blocked.
   * Without it a run ends only by an exit, a kick, or an empty event queue,
   * and a guest that spins (WFI with a masked interrupt pending, an interrupt
   * storm) keeps it going for ever.
   */
  readonly until?: number;
  /**
   * Return KVM_EXIT_INTR with cause "blocked" instead of waiting inside
   * KVM_RUN when the vCPU blocks, and call this when a wake-up (kick, request,
   * interrupt) arrives for it. A VMM that runs several vCPU threads on one
   * clock uses this to park a thread and wake it again; it must not re-enter
   * the vCPU from inside the callback. With it, the limit of an enclosing
   * event-queue run ends a run with "running" rather than "budget".
   */
  readonly onWakeup?: () => void;
  /**
   * The loads the VMM answers without a side effect. A guest repeating such
   * a load (`op.repeat` of an MMIO read that exits) then returns from
   * KVM_RUN for the last of a run of its executions only: see
   * {@link QuietUserLoads}.
   */
  readonly quietLoads?: QuietUserLoads;
}

/**
 * A VMM's word on the loads that exit to it (KVM_EXIT_MMIO reads), for
 * {@link RunOptions.quietLoads}. While no event-queue handler is due and
 * nothing the entry looks at has changed, the executions of a repeated
 * quiet load before the one KVM_RUN returns for would each exit, be
 * answered with what the VMM answers every time and re-enter with nothing
 * else happening: the run moves the clock over their exits, counts them as
 * the exits they are, and tells the VMM how many it answered. Neither the
 * guest, nor a counter, nor the clock tells the difference; with tracing on
 * every execution returns.
 */
export interface QuietUserLoads {
  /**
   * Whether answering a load of [addr, addr + size) changes nothing in the
   * VMM and logs nothing, so the same load answered again, with nothing run
   * in between, gets the same value.
   */
  quiet(addr: number, size: AccessSize): boolean;
  /**
   * `count` loads were answered this way without the run returning: each
   * stands for a KVM_RUN that returned KVM_EXIT_MMIO, the VMM's answer and
   * the next KVM_RUN.
   */
  answered(count: number): void;
}

/**
 * KVM_EXIT_INTR: KVM_RUN returned -1 with errno EINTR (`ret` = -EINTR) and
 * exit_reason KVM_EXIT_INTR (kvm_handle_signal_exit).
 */
export class IntrExit {
  readonly reason: typeof KVM_EXIT_INTR = KVM_EXIT_INTR;
  /** What KVM_RUN returned: -EINTR (-4). */
  readonly ret = -4;
  /** Why. */
  cause: IntrCause = "kick";
}

/** KVM_EXIT_INTERNAL_ERROR: `suberror`, `ndata`, `data[16]`. */
export class InternalErrorExit {
  readonly reason: typeof KVM_EXIT_INTERNAL_ERROR = KVM_EXIT_INTERNAL_ERROR;
  /** KVM_INTERNAL_ERROR_* suberror. */
  suberror = 0;
  /** Number of valid data words. */
  ndata = 0;
  /** Data words. */
  readonly data: number[] = new Array<number>(16).fill(0);
  /** What could not be handled (model detail, not in the UAPI). */
  detail = "";
}

/** The exit union `vcpu.run()` returns, discriminated by `reason`. */
export type VcpuExit =
  | MmioExit
  | HypercallExit
  | DebugExit
  | SystemEventExit
  | FailEntryExit
  | RiscvSbiExit
  | RiscvCsrExit
  | IntrExit
  | InternalErrorExit;

/**
 * A vCPU's kvm_run: the inputs (immediate_exit) and the exit union. Every
 * member but `intr`, which every blocking vCPU returns, is made at the
 * vCPU's first exit of its kind: made up front, with their arrays, they took
 * about as much memory as the vCPU object itself, and many vCPUs make few
 * of those exits or none (a RISC-V vCPU with an in-kernel AIA never exits
 * for MMIO).
 */
export class KvmRun {
  #mmio: MmioExit | undefined;
  #hypercall: HypercallExit | undefined;
  #debug: DebugExit | undefined;
  #systemEvent: SystemEventExit | undefined;
  #failEntry: FailEntryExit | undefined;
  #riscvSbi: RiscvSbiExit | undefined;
  #riscvCsr: RiscvCsrExit | undefined;
  #internal: InternalErrorExit | undefined;
  // What every KVM_RUN reads or writes comes last. V8's scavenger copies the objects a surviving
  // object points to in the order of its fields, one after another: the vCPU's fields for its other
  // records of a KVM_RUN (the program's result, the interrupt context) follow its kvm_run's, so those
  // records start where this one ends, and at thousands of vCPUs a delivery fetches fewer lines.
  /** In: non-zero makes the next KVM_RUN return -EINTR without entering the guest. */
  immediateExit = 0;
  /** Out: the last exit reason (KVM_EXIT_UNKNOWN before the first run). */
  exitReason = KVM_EXIT_UNKNOWN;
  /** KVM_EXIT_INTR (no payload in Linux). */
  readonly intr = new IntrExit();

  /** The `mmio` member (with its data bytes, a typed array and a view: made at the vCPU's first MMIO exit). */
  get mmio(): MmioExit {
    return (this.#mmio ??= new MmioExit());
  }

  /** The `hypercall` member. */
  get hypercall(): HypercallExit {
    return (this.#hypercall ??= new HypercallExit());
  }

  /** The `debug` member. */
  get debug(): DebugExit {
    return (this.#debug ??= new DebugExit());
  }

  /** The `system_event` member. */
  get systemEvent(): SystemEventExit {
    return (this.#systemEvent ??= new SystemEventExit());
  }

  /** The `fail_entry` member. */
  get failEntry(): FailEntryExit {
    return (this.#failEntry ??= new FailEntryExit());
  }

  /** The `riscv_sbi` member. */
  get riscvSbi(): RiscvSbiExit {
    return (this.#riscvSbi ??= new RiscvSbiExit());
  }

  /** The `riscv_csr` member. */
  get riscvCsr(): RiscvCsrExit {
    return (this.#riscvCsr ??= new RiscvCsrExit());
  }

  /** The `internal` member. */
  get internal(): InternalErrorExit {
    return (this.#internal ??= new InternalErrorExit());
  }

  /**
   * arm64 `s.regs.device_irq_level` (struct kvm_sync_regs): the output levels
   * of in-kernel devices a userspace irqchip must route (KVM_ARM_DEV_EL1_VTIMER,
   * _PTIMER, _PMU), kept up to date at each return from KVM_RUN when the VM
   * has no in-kernel irqchip.
   */
  deviceIrqLevel = 0;
}
