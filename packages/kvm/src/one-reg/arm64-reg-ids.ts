/**
 * arm64 ONE_REG ids (arch/arm64/include/uapi/asm/kvm.h, Documentation/virt/
 * kvm/api.rst "KVM_SET_ONE_REG"): core registers (offsets into struct
 * kvm_regs in 32-bit words), firmware pseudo-registers and the timer
 * registers, which use system-register encodings.
 */
import { KVM_REG_ARM64, KVM_REG_SIZE_U64 } from "./one-reg-id.js";

/** Bits holding the register class ("coprocessor") of an arm64 id. */
export const KVM_REG_ARM_COPROC_MASK = 0x0fff_0000n;
/** Core registers: struct kvm_regs. */
export const KVM_REG_ARM_CORE = 0x0010n << 16n;
/** System registers (op0, op1, CRn, CRm, op2). */
export const KVM_REG_ARM64_SYSREG = 0x0013n << 16n;
/** Firmware pseudo-registers. */
export const KVM_REG_ARM_FW = 0x0014n << 16n;
/** SVE registers. */
export const KVM_REG_ARM64_SVE = 0x0015n << 16n;
/** Firmware feature bitmaps. */
export const KVM_REG_ARM_FW_FEAT_BMAP = 0x0016n << 16n;

/**
 * The offset of a struct kvm_regs member in 32-bit words
 * (KVM_REG_ARM_CORE_REG): regs.regs[0..30] 0..60, regs.sp 62, regs.pc 64,
 * regs.pstate 66, sp_el1 68, elr_el1 70, spsr[0..4] 72..80, then (after 8
 * bytes of padding) fp_regs.vregs[0..31] 84..208 (128-bit), fpsr 212, fpcr 213.
 */
export const CORE_OFF = {
  regs: (n: number): number => 2 * n,
  sp: 62,
  pc: 64,
  pstate: 66,
  spEl1: 68,
  elrEl1: 70,
  spsr: (n: number): number => 72 + 2 * n,
  vregs: (n: number): number => 84 + 4 * n,
  fpsr: 212,
  fpcr: 213,
} as const;

/** sizeof(struct kvm_regs) / sizeof(__u32). */
export const KVM_REGS_WORDS = 216;
/** KVM_NR_SPSR: spsr[] has EL1, ABT, UND, IRQ, FIQ. */
export const KVM_NR_SPSR = 5;

/** A 64-bit core register id: KVM_REG_ARM64 | KVM_REG_SIZE_U64 | KVM_REG_ARM_CORE | offset. */
export function arm64CoreReg(offset: number): bigint {
  return KVM_REG_ARM64 | KVM_REG_SIZE_U64 | KVM_REG_ARM_CORE | BigInt(offset);
}

/** ARM64_SYS_REG(op0, op1, crn, crm, op2): a 64-bit system-register id. */
export function arm64SysReg(op0: number, op1: number, crn: number, crm: number, op2: number): bigint {
  const enc = (op0 << 14) | (op1 << 11) | (crn << 7) | (crm << 3) | op2;
  return KVM_REG_ARM64 | KVM_REG_SIZE_U64 | KVM_REG_ARM64_SYSREG | BigInt(enc);
}

/** KVM_REG_ARM_FW_REG(r). */
export function arm64FwReg(r: number): bigint {
  return KVM_REG_ARM64 | KVM_REG_SIZE_U64 | KVM_REG_ARM_FW | BigInt(r & 0xffff);
}

/** KVM_REG_ARM_FW_FEAT_BMAP_REG(r). */
export function arm64FwFeatBmapReg(r: number): bigint {
  return KVM_REG_ARM64 | KVM_REG_SIZE_U64 | KVM_REG_ARM_FW_FEAT_BMAP | BigInt(r & 0xffff);
}

/** The vtimer's CNTV_CTL_EL0. */
export const KVM_REG_ARM_TIMER_CTL = arm64SysReg(3, 3, 14, 3, 1);
/** The vtimer's CNTV_CVAL_EL0 — under CNTVCT_EL0's encoding: the UAPI swapped the two and must keep them so. */
export const KVM_REG_ARM_TIMER_CVAL = arm64SysReg(3, 3, 14, 0, 2);
/** The virtual counter CNTVCT_EL0 — under CNTV_CVAL_EL0's encoding (see KVM_REG_ARM_TIMER_CVAL). */
export const KVM_REG_ARM_TIMER_CNT = arm64SysReg(3, 3, 14, 3, 2);
/** The ptimer's CNTP_CTL_EL0. */
export const KVM_REG_ARM_PTIMER_CTL = arm64SysReg(3, 3, 14, 2, 1);
/** The ptimer's CNTP_CVAL_EL0. */
export const KVM_REG_ARM_PTIMER_CVAL = arm64SysReg(3, 3, 14, 2, 2);
/** The physical counter CNTPCT_EL0. */
export const KVM_REG_ARM_PTIMER_CNT = arm64SysReg(3, 3, 14, 0, 1);

/** The VM's PSCI version (kvm->arch.psci_version). */
export const KVM_REG_ARM_PSCI_VERSION = arm64FwReg(0);
/** Spectre-v2 mitigation level (SMCCC_ARCH_WORKAROUND_1). */
export const KVM_REG_ARM_SMCCC_ARCH_WORKAROUND_1 = arm64FwReg(1);
/** Spectre-v4 mitigation level (SMCCC_ARCH_WORKAROUND_2). */
export const KVM_REG_ARM_SMCCC_ARCH_WORKAROUND_2 = arm64FwReg(2);
/** Spectre-BHB mitigation level (SMCCC_ARCH_WORKAROUND_3). */
export const KVM_REG_ARM_SMCCC_ARCH_WORKAROUND_3 = arm64FwReg(3);
/** Standard-service hypercalls the guest may use (bit 0: TRNG 1.0). */
export const KVM_REG_ARM_STD_BMAP = arm64FwFeatBmapReg(0);
/** Standard-hypervisor-service hypercalls (bit 0: PV time). */
export const KVM_REG_ARM_STD_HYP_BMAP = arm64FwFeatBmapReg(1);
/** KVM vendor hypercalls 0-63 (bit 0: FUNC_FEAT, bit 1: PTP). */
export const KVM_REG_ARM_VENDOR_HYP_BMAP = arm64FwFeatBmapReg(2);
/** KVM vendor hypercalls 64-127 (bit 0: DISCOVER_IMPL_VER, bit 1: DISCOVER_IMPL_CPUS; Linux 6.16+). */
export const KVM_REG_ARM_VENDOR_HYP_BMAP_2 = arm64FwFeatBmapReg(3);

/** WORKAROUND_1 / _3 levels. */
export const KVM_REG_ARM_SMCCC_ARCH_WORKAROUND_1_NOT_AVAIL = 0;
export const KVM_REG_ARM_SMCCC_ARCH_WORKAROUND_1_AVAIL = 1;
export const KVM_REG_ARM_SMCCC_ARCH_WORKAROUND_1_NOT_REQUIRED = 2;
export const KVM_REG_ARM_SMCCC_ARCH_WORKAROUND_3_NOT_AVAIL = 0;
export const KVM_REG_ARM_SMCCC_ARCH_WORKAROUND_3_AVAIL = 1;
export const KVM_REG_ARM_SMCCC_ARCH_WORKAROUND_3_NOT_REQUIRED = 2;
/** WORKAROUND_2 levels. */
export const KVM_REG_ARM_SMCCC_ARCH_WORKAROUND_2_NOT_AVAIL = 0;
export const KVM_REG_ARM_SMCCC_ARCH_WORKAROUND_2_UNKNOWN = 1;
export const KVM_REG_ARM_SMCCC_ARCH_WORKAROUND_2_AVAIL = 2;
export const KVM_REG_ARM_SMCCC_ARCH_WORKAROUND_2_NOT_REQUIRED = 3;
/** WORKAROUND_2's "mitigation enabled" flag, valid only with AVAIL. */
export const KVM_REG_ARM_SMCCC_ARCH_WORKAROUND_2_ENABLED = 1 << 4;
