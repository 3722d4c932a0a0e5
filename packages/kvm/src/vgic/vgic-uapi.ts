/**
 * UAPI of the arm64 in-kernel vgic device (KVM_DEV_TYPE_ARM_VGIC_V3):
 * attribute groups, address types, control attributes and the attribute
 * encodings, with Linux's names and values
 * (arch/arm64/include/uapi/asm/kvm.h; Documentation/virt/kvm/devices/arm-vgic-v3.rst).
 */

/** KVM_DEV_ARM_VGIC_GRP_ADDR: base addresses of the GIC frames. */
export const KVM_DEV_ARM_VGIC_GRP_ADDR = 0;
/** KVM_DEV_ARM_VGIC_GRP_DIST_REGS: distributor registers (attr = offset). */
export const KVM_DEV_ARM_VGIC_GRP_DIST_REGS = 1;
/** KVM_DEV_ARM_VGIC_GRP_CPU_REGS (GICv2 only). */
export const KVM_DEV_ARM_VGIC_GRP_CPU_REGS = 2;
/** KVM_DEV_ARM_VGIC_GRP_NR_IRQS: number of INTIDs including the 32 private ones. */
export const KVM_DEV_ARM_VGIC_GRP_NR_IRQS = 3;
/** KVM_DEV_ARM_VGIC_GRP_CTRL: KVM_DEV_ARM_VGIC_CTRL_INIT and friends. */
export const KVM_DEV_ARM_VGIC_GRP_CTRL = 4;
/** KVM_DEV_ARM_VGIC_GRP_REDIST_REGS: redistributor registers (attr = mpidr << 32 | offset). */
export const KVM_DEV_ARM_VGIC_GRP_REDIST_REGS = 5;
/** KVM_DEV_ARM_VGIC_GRP_CPU_SYSREGS: ICC_* of a vCPU (attr = mpidr << 32 | sysreg encoding). */
export const KVM_DEV_ARM_VGIC_GRP_CPU_SYSREGS = 6;
/** KVM_DEV_ARM_VGIC_GRP_LEVEL_INFO: input line levels (attr = mpidr << 32 | info << 10 | vINTID). */
export const KVM_DEV_ARM_VGIC_GRP_LEVEL_INFO = 7;
/** KVM_DEV_ARM_VGIC_GRP_ITS_REGS (the ITS device's). */
export const KVM_DEV_ARM_VGIC_GRP_ITS_REGS = 8;

/** KVM_DEV_ARM_VGIC_CTRL_INIT: initialise the vgic (vgic_init). */
export const KVM_DEV_ARM_VGIC_CTRL_INIT = 0;
/** KVM_DEV_ARM_ITS_SAVE_TABLES (ITS device). */
export const KVM_DEV_ARM_ITS_SAVE_TABLES = 1;
/** KVM_DEV_ARM_ITS_RESTORE_TABLES (ITS device). */
export const KVM_DEV_ARM_ITS_RESTORE_TABLES = 2;
/** KVM_DEV_ARM_VGIC_SAVE_PENDING_TABLES: write the LPI pending bits to guest memory. */
export const KVM_DEV_ARM_VGIC_SAVE_PENDING_TABLES = 3;
/** KVM_DEV_ARM_ITS_CTRL_RESET (ITS device). */
export const KVM_DEV_ARM_ITS_CTRL_RESET = 4;

/** KVM_VGIC_V3_ADDR_TYPE_DIST: the 64 KiB distributor frame. */
export const KVM_VGIC_V3_ADDR_TYPE_DIST = 2;
/** KVM_VGIC_V3_ADDR_TYPE_REDIST: one legacy region, 128 KiB per vCPU. */
export const KVM_VGIC_V3_ADDR_TYPE_REDIST = 3;
/** KVM_VGIC_ITS_ADDR_TYPE (ITS device). */
export const KVM_VGIC_ITS_ADDR_TYPE = 4;
/** KVM_VGIC_V3_ADDR_TYPE_REDIST_REGION: count | base | flags | index. */
export const KVM_VGIC_V3_ADDR_TYPE_REDIST_REGION = 5;

/** KVM_VGIC_V3_DIST_SIZE (64 KiB). */
export const KVM_VGIC_V3_DIST_SIZE = 0x10000;
/** KVM_VGIC_V3_REDIST_SIZE: RD_base + SGI_base frames (2 × 64 KiB). */
export const KVM_VGIC_V3_REDIST_SIZE = 0x20000;
/** KVM_VGIC_V3_ITS_SIZE (128 KiB). */
export const KVM_VGIC_V3_ITS_SIZE = 0x20000;

/** KVM_VGIC_V3_RDIST_INDEX_MASK: bits [11:0] of a REDIST_REGION value. */
export const KVM_VGIC_V3_RDIST_INDEX_MASK = 0xfffn;
/** KVM_VGIC_V3_RDIST_FLAGS_MASK: bits [15:12] (must be 0). */
export const KVM_VGIC_V3_RDIST_FLAGS_MASK = 0xf000n;
/** KVM_VGIC_V3_RDIST_BASE_MASK: bits [51:16]. */
export const KVM_VGIC_V3_RDIST_BASE_MASK = 0xf_ffff_ffff_0000n;
/** KVM_VGIC_V3_RDIST_COUNT_SHIFT: the count is bits [63:52]. */
export const KVM_VGIC_V3_RDIST_COUNT_SHIFT = 52n;

/** KVM_DEV_ARM_VGIC_LINE_LEVEL_INFO_SHIFT: the info field starts at bit 10. */
export const KVM_DEV_ARM_VGIC_LINE_LEVEL_INFO_SHIFT = 10;
/** KVM_DEV_ARM_VGIC_LINE_LEVEL_INTID_MASK: bits [9:0]. */
export const KVM_DEV_ARM_VGIC_LINE_LEVEL_INTID_MASK = 0x3ff;
/** VGIC_LEVEL_INFO_LINE_LEVEL: the only info value. */
export const VGIC_LEVEL_INFO_LINE_LEVEL = 0;

/** VGIC_ADDR_UNDEF: what GRP_ADDR reads for a frame whose base was never set ((phys_addr_t)-1). */
export const VGIC_ADDR_UNDEF = 0xffff_ffff_ffff_ffffn;
/** VGIC_V3_MAX_CPUS (include/kvm/arm_vgic.h). */
export const VGIC_V3_MAX_CPUS = 512;
/** VGIC_NR_IRQS_LEGACY: the INTID count vgic_init uses when NR_IRQS was not set. */
export const VGIC_NR_IRQS_LEGACY = 256;
/** VGIC_NR_PRIVATE_IRQS: SGIs and PPIs. */
export const VGIC_NR_PRIVATE_IRQS = 32;
/** VGIC_MAX_RESERVED: the largest value GRP_NR_IRQS accepts is below it + 1 (1023). */
export const VGIC_MAX_RESERVED = 1023;

/** Encodes a KVM_VGIC_V3_ADDR_TYPE_REDIST_REGION value: count [63:52] | base [51:16] | flags [15:12] | index [11:0]. */
export function redistRegionAttr(index: number, base: number, count: number, flags = 0): bigint {
  return (
    (BigInt(count) << KVM_VGIC_V3_RDIST_COUNT_SHIFT) |
    (BigInt(base) & KVM_VGIC_V3_RDIST_BASE_MASK) |
    ((BigInt(flags) << 12n) & KVM_VGIC_V3_RDIST_FLAGS_MASK) |
    (BigInt(index) & KVM_VGIC_V3_RDIST_INDEX_MASK)
  );
}

/** Encodes a GRP_REDIST_REGS / GRP_CPU_SYSREGS / GRP_LEVEL_INFO attribute: mpidr [63:32] | low [31:0]. */
export function vgicRegAttr(mpidr: number, low: number): bigint {
  return (BigInt(mpidr >>> 0) << 32n) | BigInt(low >>> 0);
}

/**
 * Converts a Linux sys_reg() encoding (op0 << 19 | op1 << 16 | CRn << 12 |
 * CRm << 8 | op2 << 5, what guest ops use) to the 16-bit KVM_REG_ARM_VGIC_SYSREG
 * form of GRP_CPU_SYSREGS: op0 [15:14] | op1 [13:11] | CRn [10:7] | CRm [6:3] | op2 [2:0].
 */
export function vgicSysregAttr(reg: number): number {
  const op0 = (reg >>> 19) & 3;
  const op1 = (reg >>> 16) & 7;
  const crn = (reg >>> 12) & 0xf;
  const crm = (reg >>> 8) & 0xf;
  const op2 = (reg >>> 5) & 7;
  return (op0 << 14) | (op1 << 11) | (crn << 7) | (crm << 3) | op2;
}

/** The inverse of {@link vgicSysregAttr}. */
export function sysregFromVgicAttr(attr: number): number {
  return (((attr >>> 14) & 3) << 19) | (((attr >>> 11) & 7) << 16) | (((attr >>> 7) & 0xf) << 12) | (((attr >>> 3) & 0xf) << 8) | ((attr & 7) << 5);
}
