/**
 * Barrel of the RISC-V in-kernel AIA (KVM_DEV_TYPE_RISCV_AIA) and VS-file handling.
 */

/** UAPI constants of KVM_DEV_TYPE_RISCV_AIA (Linux names and values). */
export * from "./aia-uapi.js";
/** The host's VS-files: per-hart IMSICs with guest files, the HGEI allocator, owners, hart offline. */
export { RiscvAiaHost, type RiscvAiaHostOptions, type VsFileOwner, type VsFileFailure } from "./aia-host.js";
/** A vCPU's AIA irqchip: VS-file or SW-file, the entry-time VS-file update, trap-and-emulate. */
export { AiaVcpuChip, CSR_SISELECT, CSR_SIREG, CSR_STOPEI, moveState as moveImsicState, clearFile as clearImsicFile, type AiaVmView } from "./aia-vcpu.js";
/** The KVM_DEV_TYPE_RISCV_AIA device of a VM (attribute groups, CTRL_INIT, KVM_IRQ_LINE, MSI injection). */
export { RiscvAiaDevice } from "./aia-device.js";
/** KVM's in-kernel APLIC (MSI mode) of a VM. */
export { KvmAplic, msiAddrCfg as kvmAplicMsiAddrCfg, type KvmAplicLayout } from "./aia-aplic.js";
/** Registers the AIA device type and the host's VS-files on a Kvm. */
export { registerRiscvAia, type RegisterRiscvAiaOptions } from "./aia-register.js";
/** vCPU placement by the host scheduler, optionally with the kernel-migrate VS-file remedy. */
export { SchedulerPlacement, type SchedulerPlacementOptions } from "../vsfile/vsfile-placement.js";
