/**
 * MP states of KVM_GET/SET_MP_STATE (include/uapi/linux/kvm.h;
 * arch/arm64/kvm/arm.c and arch/riscv/kvm/vcpu.c
 * kvm_arch_vcpu_ioctl_set_mpstate). arm64 accepts RUNNABLE, STOPPED and SUSPENDED;
 * RISC-V accepts RUNNABLE and STOPPED; anything else is -EINVAL.
 */

/** The vCPU can run. */
export const KVM_MP_STATE_RUNNABLE = 0;
/** x86. */
export const KVM_MP_STATE_UNINITIALIZED = 1;
/** x86. */
export const KVM_MP_STATE_INIT_RECEIVED = 2;
/** x86. */
export const KVM_MP_STATE_HALTED = 3;
/** x86. */
export const KVM_MP_STATE_SIPI_RECEIVED = 4;
/** Powered off (PSCI CPU_OFF, KVM_ARM_VCPU_POWER_OFF, SBI HSM hart_stop). */
export const KVM_MP_STATE_STOPPED = 5;
/** s390. */
export const KVM_MP_STATE_CHECK_STOP = 6;
/** s390. */
export const KVM_MP_STATE_OPERATING = 7;
/** s390. */
export const KVM_MP_STATE_LOAD = 8;
/** x86 SEV-ES. */
export const KVM_MP_STATE_AP_RESET_HOLD = 9;
/** arm64: suspended in WFI on behalf of userspace; a wake event exits with SYSTEM_EVENT_WAKEUP. */
export const KVM_MP_STATE_SUSPENDED = 10;

/** The MP states an architecture's KVM_SET_MP_STATE accepts. */
export const MP_STATES_ARM64: readonly number[] = [KVM_MP_STATE_RUNNABLE, KVM_MP_STATE_STOPPED, KVM_MP_STATE_SUSPENDED];
/** The MP states RISC-V's KVM_SET_MP_STATE accepts. */
export const MP_STATES_RISCV: readonly number[] = [KVM_MP_STATE_RUNNABLE, KVM_MP_STATE_STOPPED];
