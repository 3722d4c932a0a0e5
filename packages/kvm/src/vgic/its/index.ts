/**
 * The arm64 in-kernel vITS (KVM_DEV_TYPE_ARM_VGIC_ITS), MSI injection through
 * it (KVM_SIGNAL_MSI, MSI routes), and GICv4.1 forwarding of host interrupts
 * to vLPIs with the three vgic-v4 behaviours of seed 001.
 *
 * @packageDocumentation
 */

/** The vITS device, its registration and the GRP_ITS_REGS register offsets. */
export { VgicItsDevice, registerVgicItsDevice, NR_ITS_ABIS, VITS_UACCESS_REGISTERS, type VgicItsRegistration } from "./vits-device.js";
/** The vgic-v3 hook (attach the VM's Gicv3), the per-VM context and the forwarding hooks contract. */
export {
  attachVgicV3ForIts,
  vitsContext,
  vmHasIts,
  VitsVmContext,
  VitsLpiTarget,
  VITS_FRAME_SIZE,
  VITS_BEHAVIOURS,
  type VitsBehaviour,
  type VitsForwardingHooks,
  type VitsDeviceLike,
} from "./vits-vm.js";
/** vgic_its_inject_msi(): what VmIrqChip.injectMsi delegates to; LPI resolution helpers. */
export { vgicItsInjectMsi, resolveLpi, resolveTarget } from "./vits-msi.js";
/** KVM_DEV_ARM_ITS_SAVE_TABLES / RESTORE_TABLES (table ABI rev 0). */
export { saveItsTables, restoreItsTables } from "./vits-tables.js";
/** The host GICv4.1: physical ITS, vPEs, VLPI frames, passthrough MSI vectors. */
export { HostGicv4, type HostGicv4Options, type HostMsiVector } from "./host-gicv4.js";
/** kvm_vgic_v4_set/unset_forwarding with the linux-6.16, linux-6.6 and rfc-shared-vlpi behaviours. */
export {
  VgicV4Forwarding,
  GICV4_BEHAVIOURS,
  enableVgicV4,
  vgicV4Forwarding,
  vgicV4SetForwarding,
  vgicV4UnsetForwarding,
  type Gicv4Behaviour,
  type VgicV4Options,
  type VgicV4Stats,
} from "./vgic-v4-forwarding.js";
