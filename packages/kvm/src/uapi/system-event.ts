/**
 * KVM_EXIT_SYSTEM_EVENT types (include/uapi/linux/kvm.h; Documentation/virt/kvm/api.rst)
 * and the flags arm64 puts in data[0] for PSCI SYSTEM_RESET2 and SYSTEM_OFF2.
 */

/** Power off (PSCI SYSTEM_OFF, SBI SRST shutdown). */
export const KVM_SYSTEM_EVENT_SHUTDOWN = 1;
/** Reset (PSCI SYSTEM_RESET/RESET2, SBI SRST cold/warm reboot). */
export const KVM_SYSTEM_EVENT_RESET = 2;
/** Guest crash. */
export const KVM_SYSTEM_EVENT_CRASH = 3;
/** A vCPU in KVM_MP_STATE_SUSPENDED received a wake-up event. */
export const KVM_SYSTEM_EVENT_WAKEUP = 4;
/** PSCI SYSTEM_SUSPEND / SBI SUSP. */
export const KVM_SYSTEM_EVENT_SUSPEND = 5;
/** SEV-ES termination. */
export const KVM_SYSTEM_EVENT_SEV_TERM = 6;
/** TDX fatal error. */
export const KVM_SYSTEM_EVENT_TDX_FATAL = 7;
/** arm64 data[0] flag: the reset came from PSCI SYSTEM_RESET2. */
export const KVM_SYSTEM_EVENT_RESET_FLAG_PSCI_RESET2 = 1;
/** arm64 data[0] flag of a SHUTDOWN event: it came from PSCI 1.3 SYSTEM_OFF2 (arch/arm64/include/uapi/asm/kvm.h, Linux 6.13). */
export const KVM_SYSTEM_EVENT_SHUTDOWN_FLAG_PSCI_OFF2 = 1;
