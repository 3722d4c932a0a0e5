/**
 * Barrel of the arm64 in-kernel vgic (KVM_DEV_TYPE_ARM_VGIC_V3; the vITS,
 * KVM_DEV_TYPE_ARM_VGIC_ITS, comes from ./its).
 */

/** The vgic-v3 of a VM: the VmIrqChip, its init behaviours and the vITS hook. */
export { VgicV3, VGIC_INIT_MODES, type VgicInitMode, type VgicMsiController, type VgicV3Snapshot } from "./vgic-v3.js";
/** The vgic's CPU side of one vCPU, and what a GICv4.1 forwarding gives it (vPE residency, direct vLPIs). */
export { VgicVcpu, type VgicV4Residency } from "./vgic-vcpu.js";
/** KVM_DEV_TYPE_ARM_VGIC_V3 registration and its attribute groups. */
export { registerVgicV3, vgicV3DeviceOps, type VgicV3Options } from "./vgic-device.js";
/** GRP_ADDR bookkeeping (distributor, redistributor regions, Last bits). */
export { VgicAddresses, type RedistRegion, type RedistSlot } from "./vgic-addr.js";
/** A redistributor frame on the kernel MMIO bus. */
export { VgicRedistFrame } from "./vgic-frames.js";
/** vgic device UAPI constants and attribute encoders. */
export {
  KVM_DEV_ARM_VGIC_GRP_ADDR,
  KVM_DEV_ARM_VGIC_GRP_DIST_REGS,
  KVM_DEV_ARM_VGIC_GRP_CPU_REGS,
  KVM_DEV_ARM_VGIC_GRP_NR_IRQS,
  KVM_DEV_ARM_VGIC_GRP_CTRL,
  KVM_DEV_ARM_VGIC_GRP_REDIST_REGS,
  KVM_DEV_ARM_VGIC_GRP_CPU_SYSREGS,
  KVM_DEV_ARM_VGIC_GRP_LEVEL_INFO,
  KVM_DEV_ARM_VGIC_GRP_ITS_REGS,
  KVM_DEV_ARM_VGIC_CTRL_INIT,
  KVM_DEV_ARM_ITS_SAVE_TABLES,
  KVM_DEV_ARM_ITS_RESTORE_TABLES,
  KVM_DEV_ARM_VGIC_SAVE_PENDING_TABLES,
  KVM_DEV_ARM_ITS_CTRL_RESET,
  KVM_VGIC_V3_ADDR_TYPE_DIST,
  KVM_VGIC_V3_ADDR_TYPE_REDIST,
  KVM_VGIC_ITS_ADDR_TYPE,
  KVM_VGIC_V3_ADDR_TYPE_REDIST_REGION,
  KVM_VGIC_V3_DIST_SIZE,
  KVM_VGIC_V3_REDIST_SIZE,
  KVM_VGIC_V3_ITS_SIZE,
  KVM_VGIC_V3_RDIST_INDEX_MASK,
  KVM_VGIC_V3_RDIST_FLAGS_MASK,
  KVM_VGIC_V3_RDIST_BASE_MASK,
  KVM_VGIC_V3_RDIST_COUNT_SHIFT,
  KVM_DEV_ARM_VGIC_LINE_LEVEL_INFO_SHIFT,
  KVM_DEV_ARM_VGIC_LINE_LEVEL_INTID_MASK,
  VGIC_LEVEL_INFO_LINE_LEVEL,
  VGIC_ADDR_UNDEF,
  VGIC_V3_MAX_CPUS,
  VGIC_NR_IRQS_LEGACY,
  VGIC_NR_PRIVATE_IRQS,
  VGIC_MAX_RESERVED,
  redistRegionAttr,
  vgicRegAttr,
  vgicSysregAttr,
  sysregFromVgicAttr,
} from "./vgic-uapi.js";
/** KVM_IRQFD flags and arguments, the VM's irqfd registry, the host's irq bypass manager. */
export { KVM_IRQFD_FLAG_DEASSIGN, KVM_IRQFD_FLAG_RESAMPLE, Irqfd, VmIrqfds, type IrqfdArgs } from "../irqfd/vm-irqfds.js";
/** A minimal GICv3 guest driver (architectural registers only) for tests, benchmarks and demos. */
export { gicv3GuestImage, type GicGuestOptions, type GicGuestSpi } from "./gic-guest.js";
export * from "./its/index.js";
