/**
 * ITS behaviour profiles: where an implementation may choose (IHI 0069H §6.3.2
 * makes command errors CONSTRAINED UNPREDICTABLE: stall or ignore), the two
 * implementations irqlab reproduces chose differently.
 *
 * - "linux-kvm": the emulated ITS of KVM (Linux arch/arm64/kvm/vgic/vgic-its.c),
 *   as mainline has it. Every command error is computed then discarded, CREADR
 *   always advances and GITS_CREADR.Stalled is never set
 *   (vgic_its_process_commands() ignores the return value of
 *   vgic_its_handle_command()); an unreadable command is skipped. Device,
 *   collection and ITT state live in kernel lists, not in guest memory, except
 *   that MAPD V=0 and DISCARD zero the guest's DTE / ITE (Linux 6.13:
 *   e9649129d33d, 7602ffd1d5e8, through vgic_its_write_entry_lock()).
 *   Translations are cached per (DeviceID, EventID).
 * - "linux-kvm-6.6": the same ITS as Linux v6.6 released it: MAPD V=0 and
 *   DISCARD leave the guest's tables alone, and MAPC range-checks RDbase
 *   against online_vcpus before looking at the Valid bit (removed by
 *   d455d366c451, Linux 6.7, which also made RDbase a vcpu_id: the LpiTarget's
 *   business, see LpiTarget.hasRedistributor); MOVALL retargets only the LPIs
 *   of RDbase1, and a GITS_BASER write frees tables only when it clears Valid.
 * - "qemu": QEMU's TCG ITS (hw/intc/arm_gicv3_its.c). A parameter error is
 *   logged (LOG_GUEST_ERROR) and the command skipped (CMD_CONTINUE); a failed
 *   guest-memory access while reading a command or a table entry stalls the
 *   queue (CMD_STALL, CREADR.Stalled = 1). Device, collection and ITT tables
 *   are the guest-memory tables described by GITS_BASER<n> (12-byte ITEs).
 *
 * Cross-check: Linux arch/arm64/kvm/vgic/vgic-its.c (vgic_its_process_commands,
 * vgic_its_handle_command, vgic_mmio_read_its_typer); QEMU hw/intc/arm_gicv3_its.c
 * (process_cmdq, gicv3_arm_its_realize).
 */

import * as C from "./its-constants.js";

/** Name of an ITS behaviour profile. */
export type ItsProfileName = "linux-kvm" | "linux-kvm-6.6" | "qemu";

/** The choices a profile fixes. */
export interface ItsProfile {
  readonly name: ItsProfileName;
  /** Whose command checks and their order apply: KVM's vgic_its_cmd_handle_*() or QEMU's process_*(). */
  readonly family: "linux-kvm" | "qemu";
  /** A guest-memory fault while reading a command or table stalls the queue (else: skip the command). */
  readonly stallOnMemoryFault: boolean;
  /** Device/collection/ITT tables live in guest memory (else: in the model, like KVM's lists). */
  readonly tablesInGuestMemory: boolean;
  /** Successful translations are cached per (DeviceID, EventID) (KVM ≥ 6.10 per-ITS xarray). */
  readonly translationCache: boolean;
  /** Bytes per ITT entry advertised in GITS_TYPER.ITT_entry_size (KVM 8, QEMU 12). */
  readonly ittEntrySize: number;
  /** GITS_TYPER.CIL = 1 with CIDbits = 16 (QEMU); KVM has CIL = 0 (16-bit ICIDs anyway). */
  readonly cil: boolean;
  /** GITS_CTLR.Enabled can be set only with valid CBASER, BASER0 and BASER1 (KVM). */
  readonly enableNeedsValidTables: boolean;
  /** A GITS_CBASER write also resets GITS_CWRITER (KVM); QEMU resets only CREADR. */
  readonly cbaserResetsCwriter: boolean;
  /** GITS_CBASER is forced to 64 KiB alignment (KVM masks bits [15:12]). */
  readonly cbaserAlign64k: boolean;
  /** A CWRITER offset ≥ queue size is stored anyway (QEMU logs it); KVM ignores the whole write. */
  readonly storeOutOfRangeCwriter: boolean;
  /** GITS_BASER<n>.Page_Size is forced to 64 KiB (KVM); QEMU keeps 4K/16K/64K. */
  readonly baserForce64k: boolean;
  /** MAPTI onto an existing ITE keeps the old ITE and succeeds silently (KVM); QEMU overwrites. */
  readonly maptiKeepsExisting: boolean;
  /** MAPD of a mapped DeviceID frees its ITEs (KVM); QEMU just rewrites the DTE. */
  readonly mapdFreesItes: boolean;
  /** MAPTI with an unknown ICID allocates an unmapped collection (KVM) instead of failing. */
  readonly maptiAllocatesCollection: boolean;
  /**
   * MAPD V=0 writes a zero DTE and DISCARD a zero ITE into the guest's tables
   * (KVM since 6.13, so that a later KVM_DEV_ARM_ITS_SAVE/RESTORE_TABLES does
   * not bring them back). QEMU's tables are guest memory anyway.
   */
  readonly unmapClearsGuestEntry: boolean;
  /** MAPC V=0 still range-checks its RDbase (KVM ≤ 6.6); later KVM and QEMU check it only for V=1. */
  readonly mapcUnmapChecksTarget: boolean;
  /**
   * What MOVALL retargets (KVM: every later MSI of a moved LPI goes to RDbase2,
   * as vgic_irq.target_vcpu changed, until MAPC or MOVI sets it from a collection again):
   * "every-lpi" — mainline vgic_its_cmd_handle_movall() walks the VM's whole lpi_xa and
   * calls update_affinity(irq, vcpu2) for each LPI, whatever vCPU it targeted;
   * "source-lpis" — Linux 6.6 took only the LPIs targeting RDbase1 (vgic_copy_lpi_list(kvm, vcpu1));
   * "pending-only" — QEMU moves the pending state and nothing else (gicv3_redist_movall_lpis).
   */
  readonly movall: "every-lpi" | "source-lpis" | "pending-only";
  /**
   * A GITS_BASER<n> write frees KVM's devices (n = 0) or collections (n = 1):
   * "any-change" — mainline vgic_mmio_write_its_baser() frees them whenever the value changes;
   * "valid-cleared" — Linux 6.6 only when the write leaves Valid = 0; "never" — QEMU.
   */
  readonly baserWriteFrees: "any-change" | "valid-cleared" | "never";
  /** GITS_IIDR value (KVM: ProductID 0x4B, Implementer 0x43B). */
  readonly iidr: number;
}

const LINUX_KVM: ItsProfile = {
  name: "linux-kvm",
  family: "linux-kvm",
  stallOnMemoryFault: false,
  tablesInGuestMemory: false,
  translationCache: true,
  ittEntrySize: 8,
  cil: false,
  enableNeedsValidTables: true,
  cbaserResetsCwriter: true,
  cbaserAlign64k: true,
  storeOutOfRangeCwriter: false,
  baserForce64k: true,
  maptiKeepsExisting: true,
  mapdFreesItes: true,
  maptiAllocatesCollection: true,
  unmapClearsGuestEntry: true,
  mapcUnmapChecksTarget: false,
  movall: "every-lpi",
  baserWriteFrees: "any-change",
  // vgic-its.c: PRODUCT_ID_KVM << 24 | IMPLEMENTER_ARM (0x43B), ABI revision 0.
  iidr: (0x4b << 24) | 0x43b,
};

/** Linux v6.6 as released (before the 6.13 table fixes reached its stable branch). */
const LINUX_KVM_6_6: ItsProfile = {
  ...LINUX_KVM,
  name: "linux-kvm-6.6",
  unmapClearsGuestEntry: false,
  mapcUnmapChecksTarget: true,
  movall: "source-lpis",
  baserWriteFrees: "valid-cleared",
};

const QEMU: ItsProfile = {
  name: "qemu",
  family: "qemu",
  stallOnMemoryFault: true,
  tablesInGuestMemory: true,
  translationCache: false,
  ittEntrySize: 12,
  cil: true,
  enableNeedsValidTables: false,
  cbaserResetsCwriter: false,
  cbaserAlign64k: false,
  storeOutOfRangeCwriter: true,
  baserForce64k: false,
  maptiKeepsExisting: false,
  mapdFreesItes: false,
  maptiAllocatesCollection: false,
  unmapClearsGuestEntry: false,
  mapcUnmapChecksTarget: false,
  movall: "pending-only",
  baserWriteFrees: "never",
  // hw/intc/arm_gicv3_its.c: GITS_IIDR implementer ARM (0x43B), product 0.
  iidr: 0x43b,
};

/** The profile called `name`. */
export function itsProfile(name: ItsProfileName): ItsProfile {
  return name === "linux-kvm" ? LINUX_KVM : name === "linux-kvm-6.6" ? LINUX_KVM_6_6 : QEMU;
}

/**
 * GITS_TYPER low word: Physical, Virtual (with a vPE table), ITT_entry_size − 1,
 * IDbits − 1, Devbits − 1; SEIS = 0 (no SError on command errors), PTA = 0
 * (RDbase is a processor number), HCC = 0.
 */
export function itsTyperLo(p: ItsProfile, idBits: number, devBits: number, virtual: boolean): number {
  return (
    (C.GITS_TYPER_PLPIS |
      (virtual ? C.GITS_TYPER_VLPIS : 0) |
      ((p.ittEntrySize - 1) << C.GITS_TYPER_ITT_ENTRY_SIZE_SHIFT) |
      ((idBits - 1) << C.GITS_TYPER_IDBITS_SHIFT) |
      ((devBits - 1) << C.GITS_TYPER_DEVBITS_SHIFT)) >>>
    0
  );
}

/**
 * GITS_TYPER high word: CIL with CIDbits = 16 (QEMU); with a vPE table VMOVP = 1
 * (one VMOVP moves the vPE for every ITS) and VMAPP = 1 (GICv4.1 command formats).
 */
export function itsTyperHi(p: ItsProfile, virtual: boolean): number {
  const cil = p.cil ? C.GITS_TYPER_HI_CIL | (15 << C.GITS_TYPER_HI_CIDBITS_SHIFT) : 0;
  return (cil | (virtual ? C.GITS_TYPER_HI_VMOVP | C.GITS_TYPER_HI_VMAPP : 0)) >>> 0;
}

/** Every profile name, for validation and documentation. */
export const ITS_PROFILE_NAMES: readonly ItsProfileName[] = ["linux-kvm", "linux-kvm-6.6", "qemu"];
