/**
 * The ITS and GICv4.1 part of @irqlab/gic: the Interrupt Translation Service
 * (registers, command queue, every GICv3 command, MSI translation, translation
 * cache, "linux-kvm" and "qemu" behaviour profiles), GICv4.1 vPEs with the
 * V* commands, the redistributor VLPI_base frame with direct vLPI injection and
 * doorbells, and the host-side its_map_vlpi / its_unmap_vlpi equivalent with
 * the 1:1 pINTID:vINTID rule. Re-exported by the package's src/index.ts.
 *
 * @packageDocumentation
 */

/** The ITS device, its options, snapshot and error records. */
export { Its, type ItsOptions, type ItsState, type ItsCommandErrorRecord } from "./its.js";
/** Behaviour profiles of the ITS ("linux-kvm", "qemu") and what each fixes. */
export { itsProfile, ITS_PROFILE_NAMES, type ItsProfile, type ItsProfileName } from "./its-profiles.js";
/** Outcomes of {@link Its.translate} and {@link Its.executeCommand}. */
export {
  ITS_MSI_DELIVERED,
  ITS_MSI_DELIVERED_VIRTUAL,
  ITS_MSI_DISABLED,
  ITS_MSI_UNMAPPED,
  ITS_MSI_MEMORY_FAULT,
  CMD_OK as ITS_CMD_OK,
  CMD_ERROR as ITS_CMD_ERROR,
  CMD_STALL as ITS_CMD_STALL,
  itsErrorCode,
} from "./its-commands.js";
/** Command encoders (eight 32-bit words) and a helper to store one in guest memory. */
export { itsCommand, writeItsCommand, type ItsCommandWords } from "./its-command-encoding.js";
/** The translation cache type, as exposed by {@link Its.cache}. */
export { ItsTranslationCache, type ItsTranslationCacheStats } from "./its-translation-cache.js";
/** ITS register offsets and fields (IHI 0069H §12.19, Linux arm-gic-v3.h names). */
export {
  GITS_CTLR,
  GITS_IIDR,
  GITS_TYPER,
  GITS_MPIDR,
  GITS_CBASER,
  GITS_CWRITER,
  GITS_CREADR,
  GITS_BASER,
  GITS_BASER_NR_REGS,
  GITS_PIDR0,
  GITS_PIDR1,
  GITS_PIDR2,
  GITS_PIDR3,
  GITS_PIDR4,
  GITS_CIDR0,
  GITS_TRANSLATER,
  GITS_REGION_SIZE,
  GITS_TYPER_PLPIS,
  GITS_TYPER_VLPIS,
  GITS_TYPER_HI_VMOVP,
  GITS_TYPER_HI_VMAPP,
  GITS_CTLR_ENABLE,
  GITS_CTLR_QUIESCENT,
  GITS_CBASER_HI_VALID,
  GITS_CREADR_STALLED,
  GITS_BASER_HI_VALID,
  GITS_BASER_HI_INDIRECT,
  GITS_BASER_TYPE_NONE,
  GITS_BASER_TYPE_DEVICE,
  GITS_BASER_TYPE_VCPU,
  GITS_BASER_TYPE_COLLECTION,
  ITS_CMD_SIZE,
  itsCommandName,
  itsErrorName,
} from "./its-constants.js";
/** ITS command numbers (IHI 0069H §6.3). */
export {
  GITS_CMD_MOVI,
  GITS_CMD_INT,
  GITS_CMD_CLEAR,
  GITS_CMD_SYNC,
  GITS_CMD_MAPD,
  GITS_CMD_MAPC,
  GITS_CMD_MAPTI,
  GITS_CMD_MAPI,
  GITS_CMD_INV,
  GITS_CMD_INVALL,
  GITS_CMD_MOVALL,
  GITS_CMD_DISCARD,
  GITS_CMD_VMOVI,
  GITS_CMD_VMOVP,
  GITS_CMD_VSYNC,
  GITS_CMD_VMAPP,
  GITS_CMD_VMAPTI,
  GITS_CMD_VMAPI,
  GITS_CMD_VINVALL,
} from "./its-constants.js";
/** ITS command error codes with their Linux names. */
export {
  E_ITS_MOVI_UNMAPPED_INTERRUPT,
  E_ITS_MOVI_UNMAPPED_COLLECTION,
  E_ITS_INT_UNMAPPED_INTERRUPT,
  E_ITS_CLEAR_UNMAPPED_INTERRUPT,
  E_ITS_MAPD_DEVICE_OOR,
  E_ITS_MAPD_ITTSIZE_OOR,
  E_ITS_MAPC_PROCNUM_OOR,
  E_ITS_MAPC_COLLECTION_OOR,
  E_ITS_MAPTI_UNMAPPED_DEVICE,
  E_ITS_MAPTI_ID_OOR,
  E_ITS_MAPTI_PHYSICALID_OOR,
  E_ITS_INV_UNMAPPED_INTERRUPT,
  E_ITS_INVALL_UNMAPPED_COLLECTION,
  E_ITS_MOVALL_PROCNUM_OOR,
  E_ITS_DISCARD_UNMAPPED_INTERRUPT,
} from "./its-constants.js";
/** GICv4.1 vPEs: the shared vPE table, one vPE, doorbell callback. */
export { VpeTable, Vpe, type VpeTableOptions, type VpeTableState, type DoorbellHandler } from "../v4/vpe.js";
/** The redistributor VLPI_base frame (GICR_VPROPBASER/GICR_VPENDBASER), a DirectVlpiSource. */
export {
  GicrVlpiFrame,
  GICR_VPROPBASER,
  GICR_VPENDBASER,
  GICR_VSGIR,
  GICR_VSGIPENDR,
  GICR_VPENDBASER_HI_VALID,
  GICR_VPENDBASER_HI_DB,
  GICR_VPENDBASER_HI_PENDING_LAST,
  GICR_VPENDBASER_HI_DIRTY,
  GICR_VPENDBASER_HI_VGRP0EN,
  GICR_VPENDBASER_HI_VGRP1EN,
  type GicrVlpiFrameOptions,
  type GicrVlpiFrameState,
} from "../v4/gicr-vlpi-frame.js";
/** Host-side its_map_vlpi / its_unmap_vlpi with the 1:1 rule and its permissive profile. */
export {
  VlpiForwarding,
  VlpiMapError,
  SharedVlpiError,
  type VlpiMapProfile,
  type HostIrq,
  type VlpiMapInfo,
  type SharedVlpiViolation,
  type VlpiForwardingOptions,
  type VlpiForwardingState,
} from "../v4/vlpi-map.js";
