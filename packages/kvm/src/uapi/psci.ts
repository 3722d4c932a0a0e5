/**
 * PSCI and SMCCC function ids and return codes (Arm DEN0022 "Power State
 * Coordination Interface", DEN0028 "SMC Calling Convention"; as Linux spells
 * them in include/uapi/linux/psci.h and include/linux/arm-smccc.h).
 */

/** SMCCC_VERSION. */
export const ARM_SMCCC_VERSION_FUNC_ID = 0x8000_0000;
/** SMCCC_ARCH_FEATURES. */
export const ARM_SMCCC_ARCH_FEATURES_FUNC_ID = 0x8000_0001;
/** SMCCC version 1.1, what KVM reports. */
export const ARM_SMCCC_VERSION_1_1 = 0x1_0001;
/** SMCCC: the function is not supported. */
export const SMCCC_RET_NOT_SUPPORTED = -1;
/** SMCCC: success (ARCH_FEATURES: the workaround is implemented). */
export const SMCCC_RET_SUCCESS = 0;
/** SMCCC: the call is not required on this system. */
export const SMCCC_RET_NOT_REQUIRED = -2;
/** ARCH_FEATURES of a workaround on a CPU the vulnerability does not affect (include/linux/arm-smccc.h). */
export const SMCCC_ARCH_WORKAROUND_RET_UNAFFECTED = 1;
/** SMCCC_ARCH_WORKAROUND_1: Spectre-v2 branch-predictor invalidation. */
export const ARM_SMCCC_ARCH_WORKAROUND_1 = 0x8000_8000;
/** SMCCC_ARCH_WORKAROUND_2: Spectre-v4 (speculative store bypass) mitigation. */
export const ARM_SMCCC_ARCH_WORKAROUND_2 = 0x8000_7fff;
/** SMCCC_ARCH_WORKAROUND_3: Spectre-BHB mitigation. */
export const ARM_SMCCC_ARCH_WORKAROUND_3 = 0x8000_3fff;

/** PSCI_VERSION. */
export const PSCI_0_2_FN_PSCI_VERSION = 0x8400_0000;
/** CPU_SUSPEND (SMC32). */
export const PSCI_0_2_FN_CPU_SUSPEND = 0x8400_0001;
/** CPU_OFF. */
export const PSCI_0_2_FN_CPU_OFF = 0x8400_0002;
/** CPU_ON (SMC32). */
export const PSCI_0_2_FN_CPU_ON = 0x8400_0003;
/** AFFINITY_INFO (SMC32). */
export const PSCI_0_2_FN_AFFINITY_INFO = 0x8400_0004;
/** MIGRATE_INFO_TYPE. */
export const PSCI_0_2_FN_MIGRATE_INFO_TYPE = 0x8400_0006;
/** SYSTEM_OFF. */
export const PSCI_0_2_FN_SYSTEM_OFF = 0x8400_0008;
/** SYSTEM_RESET. */
export const PSCI_0_2_FN_SYSTEM_RESET = 0x8400_0009;
/** PSCI_FEATURES (PSCI 1.0). */
export const PSCI_1_0_FN_PSCI_FEATURES = 0x8400_000a;
/** SYSTEM_SUSPEND (SMC32, PSCI 1.0). */
export const PSCI_1_0_FN_SYSTEM_SUSPEND = 0x8400_000e;
/** SYSTEM_RESET2 (SMC32, PSCI 1.1). */
export const PSCI_1_1_FN_SYSTEM_RESET2 = 0x8400_0012;
/** SYSTEM_OFF2 (SMC32, PSCI 1.3). */
export const PSCI_1_3_FN_SYSTEM_OFF2 = 0x8400_0015;
/** CPU_SUSPEND (SMC64). */
export const PSCI_0_2_FN64_CPU_SUSPEND = 0xc400_0001;
/** CPU_ON (SMC64). */
export const PSCI_0_2_FN64_CPU_ON = 0xc400_0003;
/** AFFINITY_INFO (SMC64). */
export const PSCI_0_2_FN64_AFFINITY_INFO = 0xc400_0004;
/** SYSTEM_SUSPEND (SMC64). */
export const PSCI_1_0_FN64_SYSTEM_SUSPEND = 0xc400_000e;
/** SYSTEM_RESET2 (SMC64). */
export const PSCI_1_1_FN64_SYSTEM_RESET2 = 0xc400_0012;
/** SYSTEM_OFF2 (SMC64, PSCI 1.3). */
export const PSCI_1_3_FN64_SYSTEM_OFF2 = 0xc400_0015;
/** Function-id bit that marks the SMC64 calling convention (PSCI_0_2_64BIT). */
export const PSCI_0_2_64BIT = 0x4000_0000;

/** SYSTEM_RESET2 reset type: architectural warm reset. */
export const PSCI_1_1_RESET_TYPE_SYSTEM_WARM_RESET = 0;
/** SYSTEM_RESET2 reset types from here up are vendor specific. */
export const PSCI_1_1_RESET_TYPE_VENDOR_START = 0x8000_0000;
/** SYSTEM_OFF2 type HIBERNATE_OFF; also the bit PSCI_FEATURES(SYSTEM_OFF2) sets for it. */
export const PSCI_1_3_OFF_TYPE_HIBERNATE_OFF = 1;

/** PSCI version encoding (include/uapi/linux/psci.h PSCI_VERSION()): major << 16 | minor. */
export function psciVersion(major: number, minor: number): number {
  return ((major & 0xffff) * 0x1_0000 + (minor & 0xffff)) >>> 0;
}
/** PSCI version 0.2 (KVM_ARM_PSCI_0_2). */
export const PSCI_VERSION_0_2 = 0x0_0002;
/** PSCI version 1.0 (KVM_ARM_PSCI_1_0). */
export const PSCI_VERSION_1_0 = 0x1_0000;
/** PSCI version 1.1 (KVM_ARM_PSCI_1_1). */
export const PSCI_VERSION_1_1 = 0x1_0001;
/** PSCI version 1.2 (KVM_ARM_PSCI_1_2). */
export const PSCI_VERSION_1_2 = 0x1_0002;
/** PSCI version 1.3 (KVM_ARM_PSCI_1_3). */
export const PSCI_VERSION_1_3 = 0x1_0003;
/** KVM's default PSCI version since Linux 6.13 (include/kvm/arm_psci.h KVM_ARM_PSCI_LATEST). */
export const KVM_ARM_PSCI_LATEST = PSCI_VERSION_1_3;
/** MIGRATE_INFO_TYPE answer: no Trusted OS needing migration. */
export const PSCI_0_2_TOS_MP = 2;

/** PSCI return: success. */
export const PSCI_RET_SUCCESS = 0;
/** PSCI return: not supported. */
export const PSCI_RET_NOT_SUPPORTED = -1;
/** PSCI return: invalid parameters. */
export const PSCI_RET_INVALID_PARAMS = -2;
/** PSCI return: denied. */
export const PSCI_RET_DENIED = -3;
/** PSCI return: the CPU is already on. */
export const PSCI_RET_ALREADY_ON = -4;
/** PSCI return: a CPU_ON is pending. */
export const PSCI_RET_ON_PENDING = -5;
/** PSCI return: internal failure. */
export const PSCI_RET_INTERNAL_FAILURE = -6;
/** PSCI return: not present. */
export const PSCI_RET_NOT_PRESENT = -7;
/** PSCI return: disabled. */
export const PSCI_RET_DISABLED = -8;
/** PSCI return: invalid address. */
export const PSCI_RET_INVALID_ADDRESS = -9;

/** AFFINITY_INFO: the CPU is on. */
export const PSCI_0_2_AFFINITY_LEVEL_ON = 0;
/** AFFINITY_INFO: the CPU is off. */
export const PSCI_0_2_AFFINITY_LEVEL_OFF = 1;
/** AFFINITY_INFO: a CPU_ON is pending. */
export const PSCI_0_2_AFFINITY_LEVEL_ON_PENDING = 2;
