/**
 * Barrel of the arm64 in-kernel vgic (KVM_DEV_TYPE_ARM_VGIC_V3, KVM_DEV_TYPE_ARM_VGIC_ITS).
 * Filled by issue 6.
 */
export {};
