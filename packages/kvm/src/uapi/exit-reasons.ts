/**
 * KVM exit reasons: the values of `kvm_run.exit_reason`, spelled and numbered
 * as in Linux's include/uapi/linux/kvm.h (read via the synced copy in
 * kvmtool/kvmtool include/linux/kvm.h). Also the
 * sub-codes carried by some exits: KVM_INTERNAL_ERROR_* suberrors and the
 * KVM_EXIT_FAIL_ENTRY hardware reasons of arm64 and RISC-V.
 */

/** exit_reason 0: unknown; `hw.hardware_exit_reason` says more. */
export const KVM_EXIT_UNKNOWN = 0;
/** x86 exception. */
export const KVM_EXIT_EXCEPTION = 1;
/** x86 port I/O. */
export const KVM_EXIT_IO = 2;
/** A hypercall forwarded to userspace (arm64: SMCCC filter action FWD_TO_USER). */
export const KVM_EXIT_HYPERCALL = 3;
/** Debug exit. */
export const KVM_EXIT_DEBUG = 4;
/** x86 HLT without an in-kernel LAPIC. */
export const KVM_EXIT_HLT = 5;
/** A guest MMIO access no in-kernel device claimed; a read completes on the next KVM_RUN. */
export const KVM_EXIT_MMIO = 6;
/** x86 interrupt window. */
export const KVM_EXIT_IRQ_WINDOW_OPEN = 7;
/** x86 triple fault. */
export const KVM_EXIT_SHUTDOWN = 8;
/** The guest could not be entered: `fail_entry.hardware_entry_failure_reason` and `cpu`. */
export const KVM_EXIT_FAIL_ENTRY = 9;
/** A signal (or a kick) interrupted KVM_RUN; KVM_RUN returned -EINTR. */
export const KVM_EXIT_INTR = 10;
/** x86 TPR. */
export const KVM_EXIT_SET_TPR = 11;
/** x86 TPR access. */
export const KVM_EXIT_TPR_ACCESS = 12;
/** s390. */
export const KVM_EXIT_S390_SIEIC = 13;
/** s390. */
export const KVM_EXIT_S390_RESET = 14;
/** ppc, deprecated. */
export const KVM_EXIT_DCR = 15;
/** NMI. */
export const KVM_EXIT_NMI = 16;
/** KVM could not handle the exit: `internal.suberror`, `ndata`, `data[]`. */
export const KVM_EXIT_INTERNAL_ERROR = 17;
/** ppc. */
export const KVM_EXIT_OSI = 18;
/** ppc. */
export const KVM_EXIT_PAPR_HCALL = 19;
/** s390. */
export const KVM_EXIT_S390_UCONTROL = 20;
/** ppc. */
export const KVM_EXIT_WATCHDOG = 21;
/** s390. */
export const KVM_EXIT_S390_TSCH = 22;
/** ppc. */
export const KVM_EXIT_EPR = 23;
/** A system-level event (shutdown, reset, suspend...): `system_event.type`, `ndata`, `data[]`. */
export const KVM_EXIT_SYSTEM_EVENT = 24;
/** s390. */
export const KVM_EXIT_S390_STSI = 25;
/** x86 split irqchip EOI. */
export const KVM_EXIT_IOAPIC_EOI = 26;
/** x86 Hyper-V. */
export const KVM_EXIT_HYPERV = 27;
/** arm64 data abort without a valid syndrome (KVM_CAP_ARM_NISV_TO_USER). */
export const KVM_EXIT_ARM_NISV = 28;
/** x86 MSR read. */
export const KVM_EXIT_X86_RDMSR = 29;
/** x86 MSR write. */
export const KVM_EXIT_X86_WRMSR = 30;
/** Dirty ring full. */
export const KVM_EXIT_DIRTY_RING_FULL = 31;
/** SEV-ES AP reset hold. */
export const KVM_EXIT_AP_RESET_HOLD = 32;
/** x86 bus lock. */
export const KVM_EXIT_X86_BUS_LOCK = 33;
/** Xen. */
export const KVM_EXIT_XEN = 34;
/** An SBI call KVM does not handle in the kernel; userspace fills ret[0..1]. */
export const KVM_EXIT_RISCV_SBI = 35;
/** A CSR access forwarded to userspace (e.g. `seed`); userspace fills ret_value. */
export const KVM_EXIT_RISCV_CSR = 36;
/** x86 notify. */
export const KVM_EXIT_NOTIFY = 37;
/** LoongArch IOCSR. */
export const KVM_EXIT_LOONGARCH_IOCSR = 38;
/** Memory fault, returned together with -EFAULT/-EHWPOISON. */
export const KVM_EXIT_MEMORY_FAULT = 39;
/** TDX. */
export const KVM_EXIT_TDX = 40;
/** arm64 synchronous external abort forwarded to userspace. */
export const KVM_EXIT_ARM_SEA = 41;

/** KVM_EXIT_INTERNAL_ERROR suberror: instruction emulation failed. */
export const KVM_INTERNAL_ERROR_EMULATION = 1;
/** KVM_EXIT_INTERNAL_ERROR suberror: exception while handling an exception. */
export const KVM_INTERNAL_ERROR_SIMUL_EX = 2;
/** KVM_EXIT_INTERNAL_ERROR suberror: event delivery failed. */
export const KVM_INTERNAL_ERROR_DELIVERY_EV = 3;
/** KVM_EXIT_INTERNAL_ERROR suberror: an exit KVM does not know. */
export const KVM_INTERNAL_ERROR_UNEXPECTED_EXIT_REASON = 4;

/**
 * arm64 fail_entry reason: the vCPU thread runs on a CPU outside the set the
 * VM supports (arch/arm64/include/uapi/asm/kvm.h, `1ULL << 0`).
 */
export const KVM_EXIT_FAIL_ENTRY_CPU_UNSUPPORTED = 1;
/**
 * RISC-V fail_entry reason: no IMSIC guest interrupt file free on the current
 * hart in HWACCEL mode (arch/riscv/include/uapi/asm/kvm.h, Linux 6.19, `1ULL << 0`).
 */
export const KVM_EXIT_FAIL_ENTRY_NO_VSFILE = 1;

/** Name of an exit reason (`"KVM_EXIT_MMIO"`), for traces and messages. */
export function exitReasonName(reason: number): string {
  return EXIT_NAMES[reason] ?? `KVM_EXIT_${reason}`;
}

const EXIT_NAMES: readonly string[] = [
  "KVM_EXIT_UNKNOWN", "KVM_EXIT_EXCEPTION", "KVM_EXIT_IO", "KVM_EXIT_HYPERCALL", "KVM_EXIT_DEBUG",
  "KVM_EXIT_HLT", "KVM_EXIT_MMIO", "KVM_EXIT_IRQ_WINDOW_OPEN", "KVM_EXIT_SHUTDOWN", "KVM_EXIT_FAIL_ENTRY",
  "KVM_EXIT_INTR", "KVM_EXIT_SET_TPR", "KVM_EXIT_TPR_ACCESS", "KVM_EXIT_S390_SIEIC", "KVM_EXIT_S390_RESET",
  "KVM_EXIT_DCR", "KVM_EXIT_NMI", "KVM_EXIT_INTERNAL_ERROR", "KVM_EXIT_OSI", "KVM_EXIT_PAPR_HCALL",
  "KVM_EXIT_S390_UCONTROL", "KVM_EXIT_WATCHDOG", "KVM_EXIT_S390_TSCH", "KVM_EXIT_EPR", "KVM_EXIT_SYSTEM_EVENT",
  "KVM_EXIT_S390_STSI", "KVM_EXIT_IOAPIC_EOI", "KVM_EXIT_HYPERV", "KVM_EXIT_ARM_NISV", "KVM_EXIT_X86_RDMSR",
  "KVM_EXIT_X86_WRMSR", "KVM_EXIT_DIRTY_RING_FULL", "KVM_EXIT_AP_RESET_HOLD", "KVM_EXIT_X86_BUS_LOCK",
  "KVM_EXIT_XEN", "KVM_EXIT_RISCV_SBI", "KVM_EXIT_RISCV_CSR", "KVM_EXIT_NOTIFY", "KVM_EXIT_LOONGARCH_IOCSR",
  "KVM_EXIT_MEMORY_FAULT", "KVM_EXIT_TDX", "KVM_EXIT_ARM_SEA",
];
