/**
 * The model host's Spectre mitigation state, as arm64 KVM reports it to the
 * guest in two places that must agree: SMCCC_ARCH_FEATURES for
 * ARM_SMCCC_ARCH_WORKAROUND_1/2/3 (arch/arm64/kvm/hypercalls.c
 * kvm_smccc_call_handler) and the firmware pseudo-registers
 * KVM_REG_ARM_SMCCC_ARCH_WORKAROUND_1/2/3 (get_kernel_wa_level). Linux asks
 * the host CPUs (arch/arm64/kernel/proton-pack.c arm64_get_spectre_v2_state,
 * _v4_state, arm64_get_spectre_bhb_state); the model's host is a fixed
 * choice, modelled on the Neoverse N1 of the cost model:
 *
 * - Spectre-v2: unaffected (CSV2) → WORKAROUND_1 NOT_REQUIRED,
 *   ARCH_FEATURES answers SMCCC_ARCH_WORKAROUND_RET_UNAFFECTED.
 * - Spectre-v4: mitigated, and SSBS is present on every CPU → no firmware
 *   mitigation is advertised: WORKAROUND_2 NOT_AVAIL, ARCH_FEATURES
 *   NOT_SUPPORTED ("SSBS everywhere: Indicate no firmware support").
 * - Spectre-BHB: mitigated → WORKAROUND_3 AVAIL, ARCH_FEATURES SUCCESS.
 */
import {
  ARM_SMCCC_ARCH_WORKAROUND_1,
  ARM_SMCCC_ARCH_WORKAROUND_2,
  ARM_SMCCC_ARCH_WORKAROUND_3,
  SMCCC_ARCH_WORKAROUND_RET_UNAFFECTED,
  SMCCC_RET_NOT_REQUIRED,
  SMCCC_RET_NOT_SUPPORTED,
  SMCCC_RET_SUCCESS,
} from "./uapi/psci.js";

/** enum mitigation_state. */
export type SpectreState = "vulnerable" | "mitigated" | "unaffected";

/** The model host's answers (see the module comment). */
export const HOST_SPECTRE: {
  readonly v2: SpectreState;
  readonly v4: SpectreState;
  /** ARM64_SSBS on every CPU (cpus_have_final_cap). */
  readonly ssbs: boolean;
  readonly bhb: SpectreState;
} = { v2: "unaffected", v4: "mitigated", ssbs: true, bhb: "mitigated" };

/** KVM_REG_ARM_SMCCC_ARCH_WORKAROUND_1/_3 levels: NOT_AVAIL 0, AVAIL 1, NOT_REQUIRED 2. */
function level13(s: SpectreState): number {
  return s === "mitigated" ? 1 : s === "unaffected" ? 2 : 0;
}

/**
 * get_kernel_wa_level: the level firmware register `n` (1, 2, 3) reports.
 * WORKAROUND_2: NOT_AVAIL 0 when vulnerable or when SSBS stands in for the
 * firmware call, else NOT_REQUIRED 3.
 */
export function kernelWaLevel(n: 1 | 2 | 3): number {
  const h = HOST_SPECTRE;
  if (n === 1) return level13(h.v2);
  if (n === 3) return level13(h.bhb);
  if (h.v4 === "vulnerable" || (h.v4 === "mitigated" && h.ssbs)) return 0;
  return 3;
}

/**
 * SMCCC_ARCH_FEATURES(`feature`) for the three workarounds, or undefined
 * for any other feature (kvm_smccc_call_handler).
 */
export function workaroundFeature(feature: number): number | undefined {
  const h = HOST_SPECTRE;
  const wa13 = (s: SpectreState): number =>
    s === "mitigated" ? SMCCC_RET_SUCCESS : s === "unaffected" ? SMCCC_ARCH_WORKAROUND_RET_UNAFFECTED : SMCCC_RET_NOT_SUPPORTED;
  switch (feature) {
    case ARM_SMCCC_ARCH_WORKAROUND_1:
      return wa13(h.v2);
    case ARM_SMCCC_ARCH_WORKAROUND_3:
      return wa13(h.bhb);
    case ARM_SMCCC_ARCH_WORKAROUND_2:
      if (h.v4 === "vulnerable" || (h.v4 === "mitigated" && h.ssbs)) return SMCCC_RET_NOT_SUPPORTED;
      return SMCCC_RET_NOT_REQUIRED;
    default:
      return undefined;
  }
}
