/**
 * What the in-kernel firmware handlers (PSCI, SBI) need from the vCPU that
 * made the call and from its VM, and what they tell the run loop to do next.
 */

/** The call was handled; results are in `ret`. */
export const FW_DONE = 0;
/** The call ends in KVM_EXIT_SYSTEM_EVENT; `type` and `data0` are set. */
export const FW_SYSTEM_EVENT = 1;
/** The call suspends the vCPU as WFI does (PSCI CPU_SUSPEND, SBI HSM retentive suspend). */
export const FW_WFI = 2;
/** The call goes to userspace (KVM_EXIT_HYPERCALL / KVM_EXIT_RISCV_SBI). */
export const FW_EXIT_USER = 3;
/** The calling vCPU powered itself off (PSCI CPU_OFF, SBI HSM hart_stop). */
export const FW_STOPPED = 4;
/**
 * PSCI SYSTEM_SUSPEND with KVM_CAP_ARM_SYSTEM_SUSPEND: KVM_EXIT_SYSTEM_EVENT
 * of type SUSPEND with ndata 0, no vCPU powered off and the caller's
 * registers left as they were (psci.c kvm_psci_system_suspend).
 */
export const FW_SYSTEM_SUSPEND = 5;

/** A vCPU as the firmware handlers see it. */
export interface FirmwareVcpu {
  /** vCPU id (RISC-V hart id). */
  readonly vcpuId: number;
  /** arm64 MPIDR_EL1 (Linux's reset_mpidr from the vCPU id). */
  readonly mpidr: number;
  /** Powered off (KVM_MP_STATE_STOPPED). */
  readonly stopped: boolean;
  /** A CPU_ON / hart_start is pending (KVM_REQ_VCPU_RESET not yet processed). */
  readonly resetPending: boolean;
  /** Powers the vCPU on at `entry` with `context` (KVM_REQ_VCPU_RESET + kick). */
  startAt(entry: number, context: number): void;
  /** Powers the calling vCPU off. */
  stopSelf(): void;
  /** Asserts an interrupt line of the vCPU (SBI IPI: VSSIP). */
  raiseLine(line: number): void;
  /** Programs the vCPU's timer (SBI set_timer), in timebase ticks. */
  setTimer(ticks: number): void;
  /**
   * RISC-V: the SBI extensions the guest may not call, a bit per
   * KVM_RISCV_SBI_EXT_* id (unavailable, or disabled with KVM_SET_ONE_REG
   * or by default).
   */
  readonly sbiExtOff: number;
  /** RISC-V mvendorid (0), marchid (1), mimpid (2) as the vCPU's CONFIG registers hold them. */
  sbiMachineId(which: number): number;
}

/** Results of a firmware call besides `ret`. */
export interface FirmwareOutcome {
  /** KVM_SYSTEM_EVENT_* for FW_SYSTEM_EVENT. */
  type: number;
  /** data[0] for FW_SYSTEM_EVENT. */
  data0: number;
}

/** A VM as the firmware handlers see it. */
export interface FirmwareVm {
  /** The vCPUs. */
  readonly firmwareVcpus: readonly FirmwareVcpu[];
  /** arm64 kvm->arch.psci_version: the PSCI version the guest is offered (psci.ts). */
  readonly psciVersion: number;
  /** arm64 KVM_ARCH_FLAG_SYSTEM_SUSPEND_ENABLED: KVM_CAP_ARM_SYSTEM_SUSPEND was enabled. */
  readonly systemSuspendEnabled: boolean;
}

/** Affinity bits of an MPIDR (MPIDR_HWID_BITMASK = 0xff00ffffff), as a number. */
export function mpidrHwid(mpidr: number): number {
  return (mpidr & 0xff_ffff) + (Math.floor(mpidr / 2 ** 32) % 256) * 2 ** 32;
}

/** Linux's reset_mpidr(): Aff0 = id[3:0], Aff1 = id[11:4], Aff2 = id[19:12], bit 31 RES1. */
export function mpidrOf(vcpuId: number): number {
  return 0x8000_0000 + ((vcpuId & 0xf) | (((vcpuId >> 4) & 0xff) << 8) | (((vcpuId >> 12) & 0xff) << 16));
}
