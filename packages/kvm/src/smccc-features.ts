/**
 * arm64 kvm->arch.smccc_feat: the VM's firmware feature bitmaps, which gate
 * the hypercall services KVM offers the guest (arch/arm64/kvm/hypercalls.c
 * kvm_smccc_test_fw_bmap), read and written as the pseudo-registers
 * KVM_REG_ARM_STD_BMAP, _STD_HYP_BMAP, _VENDOR_HYP_BMAP and
 * _VENDOR_HYP_BMAP_2. A VM starts with every feature Linux knows
 * (kvm_arm_init_hypercalls), except the second vendor bitmap, which the VMM
 * fills. The services behind the bits (TRNG, PV time, KVM's vendor
 * hypercalls, PTP, the implementation-CPU discovery) are not modelled: their
 * calls answer NOT_SUPPORTED whatever the bitmaps say.
 */

/** One bitmap: its value and the bits Linux supports in it (KVM_REG_ARM_*_BMAP_BIT_COUNT). */
export interface FeatureBitmap {
  value: bigint;
  readonly supported: bigint;
}

/** The four bitmaps of a VM. */
export class SmcccFeatures {
  /** std_bmap: bit 0 TRNG 1.0. */
  readonly std: FeatureBitmap = { value: 0x1n, supported: 0x1n };
  /** std_hyp_bmap: bit 0 PV time. */
  readonly stdHyp: FeatureBitmap = { value: 0x1n, supported: 0x1n };
  /** vendor_hyp_bmap: bit 0 FUNC_FEAT, bit 1 PTP. */
  readonly vendorHyp: FeatureBitmap = { value: 0x3n, supported: 0x3n };
  /** vendor_hyp_bmap_2: bit 0 DISCOVER_IMPL_VER, bit 1 DISCOVER_IMPL_CPUS; 0 until the VMM sets it. */
  readonly vendorHyp2: FeatureBitmap = { value: 0n, supported: 0x3n };
}
