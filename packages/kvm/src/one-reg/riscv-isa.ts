/**
 * The ISA of the modelled RISC-V host and a vCPU's ISA extensions as KVM's
 * ISA_EXT and CONFIG(isa) registers show and change them
 * (arch/riscv/kvm/isa.c: __kvm_riscv_isa_check_host,
 * kvm_riscv_isa_enable_allowed, kvm_riscv_isa_disable_allowed;
 * vcpu_onereg.c kvm_riscv_vcpu_setup_isa).
 *
 * The host is what the model implements: RV64IMAC with the hypervisor
 * extension, Zicsr (CSR instructions), Zicntr (rdtime), Sstc (stimecmp,
 * riscv-time.ts) and Ssaia (siselect/sireg/stopei and the IMSIC,
 * riscv-aia/). No F, D or V: the model has no floating-point or vector
 * state, so KVM lists no FP_F / FP_D / VECTOR registers, as on a host
 * without them. Without Smstateen Ssaia cannot be disabled, and the rest
 * have no disable mechanism at all; H is never offered to a guest. So on
 * this host every toggle a VMM may try is refused (EINVAL) or is a no-op.
 */

import {
  KVM_RISCV_ISA_EXT_A,
  KVM_RISCV_ISA_EXT_C,
  KVM_RISCV_ISA_EXT_D,
  KVM_RISCV_ISA_EXT_F,
  KVM_RISCV_ISA_EXT_H,
  KVM_RISCV_ISA_EXT_I,
  KVM_RISCV_ISA_EXT_M,
  KVM_RISCV_ISA_EXT_MAX,
  KVM_RISCV_ISA_EXT_SMSTATEEN,
  KVM_RISCV_ISA_EXT_SSAIA,
  KVM_RISCV_ISA_EXT_SSTC,
  KVM_RISCV_ISA_EXT_V,
  KVM_RISCV_ISA_EXT_ZICNTR,
  KVM_RISCV_ISA_EXT_ZICSR,
} from "./riscv-reg-ids.js";

/** KVM ISA extension ids the modelled host has, ascending (copy_isa_ext_reg_indices order). */
export const RISCV_HOST_ISA_EXTS: readonly number[] = [
  KVM_RISCV_ISA_EXT_A,
  KVM_RISCV_ISA_EXT_C,
  KVM_RISCV_ISA_EXT_H,
  KVM_RISCV_ISA_EXT_I,
  KVM_RISCV_ISA_EXT_M,
  KVM_RISCV_ISA_EXT_SSTC,
  KVM_RISCV_ISA_EXT_SSAIA,
  KVM_RISCV_ISA_EXT_ZICNTR,
  KVM_RISCV_ISA_EXT_ZICSR,
];

/** Single-letter KVM ids and their bit in CONFIG(isa) (letter - 'a'; isa.c kvm_isa_ext_arr). */
const LETTER_BIT = new Map<number, number>([
  [KVM_RISCV_ISA_EXT_A, 0],
  [KVM_RISCV_ISA_EXT_C, 2],
  [KVM_RISCV_ISA_EXT_D, 3],
  [KVM_RISCV_ISA_EXT_F, 5],
  [KVM_RISCV_ISA_EXT_H, 7],
  [KVM_RISCV_ISA_EXT_I, 8],
  [KVM_RISCV_ISA_EXT_M, 12],
  [KVM_RISCV_ISA_EXT_V, 21],
]);

/** RISCV_ISA_EXT_BASE: CONFIG(isa) holds only the 26 single-letter bits. */
export const RISCV_ISA_EXT_BASE = 26;

/** __kvm_riscv_isa_check_host: the host has KVM extension `ext`. */
export function riscvHostHasIsaExt(ext: number): boolean {
  return ext >= 0 && ext < KVM_RISCV_ISA_EXT_MAX && RISCV_HOST_ISA_EXTS.includes(ext);
}

/** kvm_riscv_isa_enable_allowed on the modelled host: everything but H. */
export function riscvIsaEnableAllowed(ext: number): boolean {
  return ext !== KVM_RISCV_ISA_EXT_H;
}

/**
 * kvm_riscv_isa_disable_allowed on the modelled host: A, C, I, M, Sstc,
 * Zicntr, Zicsr have no mechanism to disable; Ssaia only through Smstateen,
 * which the host lacks. What isa.c does not list (H, D, F, V, ...) may be.
 */
export function riscvIsaDisableAllowed(ext: number): boolean {
  switch (ext) {
    case KVM_RISCV_ISA_EXT_A:
    case KVM_RISCV_ISA_EXT_C:
    case KVM_RISCV_ISA_EXT_I:
    case KVM_RISCV_ISA_EXT_M:
    case KVM_RISCV_ISA_EXT_SSTC:
    case KVM_RISCV_ISA_EXT_ZICNTR:
    case KVM_RISCV_ISA_EXT_ZICSR:
      return false;
    case KVM_RISCV_ISA_EXT_SSAIA:
      return riscvHostHasIsaExt(KVM_RISCV_ISA_EXT_SMSTATEEN);
    default:
      return true;
  }
}

/** The CONFIG(isa) bit of single-letter KVM extension `ext`, or -1. */
export function riscvIsaLetterBit(ext: number): number {
  return LETTER_BIT.get(ext) ?? -1;
}

/** The KVM id of CONFIG(isa) bit `bit` (kvm_riscv_base2isa_ext), or KVM_RISCV_ISA_EXT_MAX. */
export function riscvBase2IsaExt(bit: number): number {
  for (const [ext, b] of LETTER_BIT) if (b === bit) return ext;
  return KVM_RISCV_ISA_EXT_MAX;
}

/** riscv_isa_extension_base(NULL): the host's single-letter bits. */
export function riscvHostIsaBase(): number {
  let bits = 0;
  for (const ext of RISCV_HOST_ISA_EXTS) {
    const b = riscvIsaLetterBit(ext);
    if (b >= 0) bits |= 1 << b;
  }
  return bits;
}

/** kvm_riscv_vcpu_setup_isa: what a new vCPU gets, every host extension enabling allows. */
export function riscvDefaultIsa(): Set<number> {
  return new Set(RISCV_HOST_ISA_EXTS.filter(riscvIsaEnableAllowed));
}
