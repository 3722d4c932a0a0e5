/**
 * arm64 firmware pseudo-registers (arch/arm64/kvm/hypercalls.c
 * kvm_arm_get_fw_reg / kvm_arm_set_fw_reg / kvm_arm_set_fw_reg_bmap,
 * kvm_arm_fw_reg_ids): the VM's PSCI version, the host's Spectre workaround
 * levels (arm64-spectre.ts) and the firmware feature bitmaps
 * (smccc-features.ts).
 */
import { kernelWaLevel } from "../arm64-spectre.js";
import type { FeatureBitmap } from "../smccc-features.js";
import { formatRegId, kvmRegSize } from "./one-reg-id.js";
import {
  KVM_REG_ARM_PSCI_VERSION,
  KVM_REG_ARM_SMCCC_ARCH_WORKAROUND_1,
  KVM_REG_ARM_SMCCC_ARCH_WORKAROUND_2,
  KVM_REG_ARM_SMCCC_ARCH_WORKAROUND_2_AVAIL,
  KVM_REG_ARM_SMCCC_ARCH_WORKAROUND_2_ENABLED,
  KVM_REG_ARM_SMCCC_ARCH_WORKAROUND_2_NOT_AVAIL,
  KVM_REG_ARM_SMCCC_ARCH_WORKAROUND_2_NOT_REQUIRED,
  KVM_REG_ARM_SMCCC_ARCH_WORKAROUND_2_UNKNOWN,
  KVM_REG_ARM_SMCCC_ARCH_WORKAROUND_3,
  KVM_REG_ARM_STD_BMAP,
  KVM_REG_ARM_STD_HYP_BMAP,
  KVM_REG_ARM_VENDOR_HYP_BMAP,
  KVM_REG_ARM_VENDOR_HYP_BMAP_2,
} from "./arm64-reg-ids.js";
import type { Arm64RegVcpu } from "./arm64-regs.js";

/** kvm_arm_fw_reg_ids, in Linux's order (VENDOR_HYP_BMAP_2 since 6.16). */
export const ARM64_FW_REG_IDS: readonly bigint[] = [
  KVM_REG_ARM_PSCI_VERSION,
  KVM_REG_ARM_SMCCC_ARCH_WORKAROUND_1,
  KVM_REG_ARM_SMCCC_ARCH_WORKAROUND_2,
  KVM_REG_ARM_SMCCC_ARCH_WORKAROUND_3,
  KVM_REG_ARM_STD_BMAP,
  KVM_REG_ARM_STD_HYP_BMAP,
  KVM_REG_ARM_VENDOR_HYP_BMAP,
  KVM_REG_ARM_VENDOR_HYP_BMAP_2,
];

/** KVM_REG_FEATURE_LEVEL_MASK. */
const LEVEL_MASK = 0xfn;

function waIndex(id: bigint): 1 | 2 | 3 | 0 {
  if (id === KVM_REG_ARM_SMCCC_ARCH_WORKAROUND_1) return 1;
  if (id === KVM_REG_ARM_SMCCC_ARCH_WORKAROUND_2) return 2;
  if (id === KVM_REG_ARM_SMCCC_ARCH_WORKAROUND_3) return 3;
  return 0;
}

function bitmapOf(v: Arm64RegVcpu, id: bigint): FeatureBitmap | undefined {
  const f = v.vm.smcccFeatures;
  if (id === KVM_REG_ARM_STD_BMAP) return f.std;
  if (id === KVM_REG_ARM_STD_HYP_BMAP) return f.stdHyp;
  if (id === KVM_REG_ARM_VENDOR_HYP_BMAP) return f.vendorHyp;
  if (id === KVM_REG_ARM_VENDOR_HYP_BMAP_2) return f.vendorHyp2;
  return undefined;
}

/** kvm_arm_get_fw_reg: ENOENT for an id (size included) it does not know. */
export function getFwReg(v: Arm64RegVcpu, id: bigint): bigint {
  if (id === KVM_REG_ARM_PSCI_VERSION) return BigInt(v.vm.psciVersion);
  const wa = waIndex(id);
  if (wa !== 0) return BigInt(kernelWaLevel(wa)) & LEVEL_MASK;
  const bmap = bitmapOf(v, id);
  if (bmap !== undefined) return bmap.value;
  return v.fail("ENOENT", "KVM_GET_ONE_REG", `no firmware register ${formatRegId(id)}`);
}

/**
 * kvm_arm_set_fw_reg: ENOENT for a size other than 64 bits or an unknown id;
 * the PSCI version as Vm.setPsciVersion takes it; a workaround level above
 * the host's, or with bits beyond the level (WORKAROUND_2: beyond the level
 * and ENABLED, ENABLED without AVAIL), is EINVAL and otherwise accepted
 * without effect; a bitmap with an unsupported bit is EINVAL, a change after
 * the VM has run EBUSY (writing the current value stays allowed).
 */
export function setFwReg(v: Arm64RegVcpu, id: bigint, value: bigint): void {
  const io = "KVM_SET_ONE_REG";
  if (kvmRegSize(id) !== 8) v.fail("ENOENT", io, `${formatRegId(id)}: firmware registers are 64-bit`);
  if (id === KVM_REG_ARM_PSCI_VERSION) {
    v.vm.setPsciVersion(value > 0xffff_ffffn ? -1 : Number(value));
    return;
  }
  const wa = waIndex(id);
  if (wa === 1 || wa === 3) {
    if ((value & ~LEVEL_MASK) !== 0n) v.fail("EINVAL", io, `workaround level 0x${value.toString(16)} has bits beyond the level`);
    if (BigInt(kernelWaLevel(wa)) < value) v.fail("EINVAL", io, `workaround level ${value} is above the host's ${kernelWaLevel(wa)}`);
    return;
  }
  if (wa === 2) {
    const enabled = BigInt(KVM_REG_ARM_SMCCC_ARCH_WORKAROUND_2_ENABLED);
    if ((value & ~(LEVEL_MASK | enabled)) !== 0n) v.fail("EINVAL", io, `workaround level 0x${value.toString(16)} has unknown bits`);
    const level = Number(value & LEVEL_MASK);
    if ((value & enabled) !== 0n && level !== KVM_REG_ARM_SMCCC_ARCH_WORKAROUND_2_AVAIL) v.fail("EINVAL", io, "ENABLED without AVAIL");
    let wanted: number;
    if (level === KVM_REG_ARM_SMCCC_ARCH_WORKAROUND_2_NOT_AVAIL || level === KVM_REG_ARM_SMCCC_ARCH_WORKAROUND_2_UNKNOWN) wanted = KVM_REG_ARM_SMCCC_ARCH_WORKAROUND_2_NOT_AVAIL;
    else if (level === KVM_REG_ARM_SMCCC_ARCH_WORKAROUND_2_AVAIL || level === KVM_REG_ARM_SMCCC_ARCH_WORKAROUND_2_NOT_REQUIRED) wanted = KVM_REG_ARM_SMCCC_ARCH_WORKAROUND_2_NOT_REQUIRED;
    else return v.fail("EINVAL", io, `workaround level ${level}`);
    if (kernelWaLevel(2) < wanted) v.fail("EINVAL", io, `workaround level ${level} needs more than the host's ${kernelWaLevel(2)}`);
    return;
  }
  const bmap = bitmapOf(v, id);
  if (bmap === undefined) return v.fail("ENOENT", io, `no firmware register ${formatRegId(id)}`);
  if ((value & ~bmap.supported) !== 0n) v.fail("EINVAL", io, `bits 0x${(value & ~bmap.supported).toString(16)} of ${formatRegId(id)} are not supported`);
  if (v.vm.hasRun && value !== bmap.value) v.fail("EBUSY", io, `${formatRegId(id)} cannot change once the VM has run`);
  bmap.value = value;
}
