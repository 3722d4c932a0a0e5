/**
 * ITS register offsets, field layouts, command numbers and command error codes.
 *
 * Spec: Arm GIC architecture specification (IHI 0069H) §12.19 (ITS register
 * map), §6.3 (ITS commands), §6.3.2 (command errors). Names and values as in
 * Linux include/linux/irqchip/arm-gic-v3.h (GITS_*, GITS_CMD_*, E_ITS_*).
 * Cross-check: QEMU hw/intc/gicv3_internal.h; Linux arch/arm64/kvm/vgic/vgic-its.c.
 */

// ---------------------------------------------------------------------------
// Register map (offsets from ITS_base; the translation frame is ITS_base + 64 KiB)

/** GITS_CTLR: Enabled[0], ImDe[1] (v4.1), ITS_Number[7:4], Quiescent[31]. */
export const GITS_CTLR = 0x0000;
/** GITS_IIDR: Implementer[11:0], Revision[15:12], Variant[19:16], ProductID[31:24]. */
export const GITS_IIDR = 0x0004;
/** GITS_TYPER (64-bit): see the GITS_TYPER_* fields. */
export const GITS_TYPER = 0x0008;
/** GITS_MPIDR (GICv4.1, PTA = 1 only): RAZ here. */
export const GITS_MPIDR = 0x0018;
/** GITS_CBASER (64-bit): command queue base, size and validity. */
export const GITS_CBASER = 0x0080;
/** GITS_CWRITER (64-bit): Retry[0], Offset[19:5]. */
export const GITS_CWRITER = 0x0088;
/** GITS_CREADR (64-bit): Stalled[0], Offset[19:5]. */
export const GITS_CREADR = 0x0090;
/** GITS_BASER<n> (64-bit, n < 8) at 0x100 + 8n. */
export const GITS_BASER = 0x0100;
/** Number of GITS_BASER<n> registers. */
export const GITS_BASER_NR_REGS = 8;
/** GITS_PIDR4 .. GITS_CIDR3 identification block. */
export const GITS_PIDR4 = 0xffd0;
/** GITS_PIDR0. */
export const GITS_PIDR0 = 0xffe0;
/** GITS_PIDR1. */
export const GITS_PIDR1 = 0xffe4;
/** GITS_PIDR2: ArchRev[7:4] (3 = GICv3, 4 = GICv4). */
export const GITS_PIDR2 = 0xffe8;
/** GITS_PIDR3. */
export const GITS_PIDR3 = 0xffec;
/** GITS_CIDR0 .. CIDR3 at 0xFFF0 + 4n. */
export const GITS_CIDR0 = 0xfff0;
/** GITS_TRANSLATER: offset inside the translation frame (ITS_base + 0x10040). */
export const GITS_TRANSLATER = 0x10040;
/** Size of the ITS register region (control frame + translation frame). */
export const GITS_REGION_SIZE = 0x20000;

/** GITS_CTLR.Enabled. */
export const GITS_CTLR_ENABLE = 1 << 0;
/** GITS_CTLR.Quiescent (bit 31). */
export const GITS_CTLR_QUIESCENT = 0x8000_0000;

/** GITS_TYPER.Physical. */
export const GITS_TYPER_PLPIS = 1 << 0;
/** GITS_TYPER.Virtual (GICv4). */
export const GITS_TYPER_VLPIS = 1 << 1;
/** GITS_TYPER.ITT_entry_size − 1 field shift. */
export const GITS_TYPER_ITT_ENTRY_SIZE_SHIFT = 4;
/** GITS_TYPER.IDbits − 1 field shift. */
export const GITS_TYPER_IDBITS_SHIFT = 8;
/** GITS_TYPER.Devbits − 1 field shift. */
export const GITS_TYPER_DEVBITS_SHIFT = 13;
/** GITS_TYPER.CIDbits − 1: bits [35:32] (high word bits [3:0]). */
export const GITS_TYPER_HI_CIDBITS_SHIFT = 0;
/** GITS_TYPER.CIL: bit 36 (high word bit 4). */
export const GITS_TYPER_HI_CIL = 1 << 4;
/** GITS_TYPER.VMOVP: bit 37 (high word bit 5). */
export const GITS_TYPER_HI_VMOVP = 1 << 5;
/** GITS_TYPER.VMAPP: bit 40 (high word bit 8), the GICv4.1 VMAPP format (Linux is_v4_1()). */
export const GITS_TYPER_HI_VMAPP = 1 << 8;

/** GITS_CBASER.Valid: bit 63 (high word bit 31). */
export const GITS_CBASER_HI_VALID = 0x8000_0000;
/** GITS_CWRITER.Retry. */
export const GITS_CWRITER_RETRY = 1;
/** GITS_CREADR.Stalled. */
export const GITS_CREADR_STALLED = 1;
/** Offset field of CWRITER / CREADR: bits [19:5]. */
export const GITS_CMDQ_OFFSET_MASK = 0x000f_ffe0;

/** GITS_BASER.Type values (bits [58:56]). */
export const GITS_BASER_TYPE_NONE = 0;
/** Device table. */
export const GITS_BASER_TYPE_DEVICE = 1;
/** vPE table (GICv4). */
export const GITS_BASER_TYPE_VCPU = 2;
/** Collection table. */
export const GITS_BASER_TYPE_COLLECTION = 4;
/** High-word masks of GITS_BASER: Valid[63], Indirect[62]. */
export const GITS_BASER_HI_VALID = 0x8000_0000;
/** GITS_BASER.Indirect (bit 62). */
export const GITS_BASER_HI_INDIRECT = 0x4000_0000;
/** GITS_BASER.Type (bits [58:56]) in the high word. */
export const GITS_BASER_HI_TYPE_SHIFT = 24;
/** GITS_BASER.Entry_Size − 1 (bits [52:48]) in the high word. */
export const GITS_BASER_HI_ENTRY_SIZE_SHIFT = 16;
/** GITS_BASER.Page_Size (bits [9:8]): 0 = 4 KiB, 1 = 16 KiB, 2 = 64 KiB. */
export const GITS_BASER_PAGE_SIZE_SHIFT = 8;
/** GITS_BASER.Page_Size encoding of 64 KiB. */
export const GITS_BASER_PAGE_SIZE_64K = 2;

/** Whether `offset` is the base of a 64-bit ITS register (32-bit halves are accepted too). */
export function isGits64Register(offset: number): boolean {
  return (
    offset === GITS_TYPER ||
    offset === GITS_CBASER ||
    offset === GITS_CWRITER ||
    offset === GITS_CREADR ||
    offset === GITS_MPIDR ||
    (offset >= GITS_BASER && offset < GITS_BASER + 8 * GITS_BASER_NR_REGS)
  );
}

/**
 * GITS_PIDR4/PIDR0-3/CIDR0-3 at `offset` (KVM vgic-its.c: PIDR0 0x92, PIDR1
 * 0xB4, PIDR2 0x3B with ArchRev 3 — 0x4B for a GICv4 ITS — PIDR4 0x40, CIDR
 * 0x0D 0xF0 0x05 0xB1); 0 for the other offsets of the block.
 */
export function gitsIdRegister(offset: number, v4: boolean): number {
  switch (offset) {
    case GITS_PIDR0: return 0x92;
    case GITS_PIDR1: return 0xb4;
    case GITS_PIDR2: return v4 ? 0x4b : 0x3b;
    case GITS_PIDR4: return 0x40;
    case GITS_CIDR0: return 0x0d;
    case GITS_CIDR0 + 4: return 0xf0;
    case GITS_CIDR0 + 8: return 0x05;
    case GITS_CIDR0 + 12: return 0xb1;
    default: return 0;
  }
}

// ---------------------------------------------------------------------------
// Commands (DW0[7:0]), IHI 0069H §6.3

/** MOVI. */
export const GITS_CMD_MOVI = 0x01;
/** INT. */
export const GITS_CMD_INT = 0x03;
/** CLEAR. */
export const GITS_CMD_CLEAR = 0x04;
/** SYNC. */
export const GITS_CMD_SYNC = 0x05;
/** MAPD. */
export const GITS_CMD_MAPD = 0x08;
/** MAPC. */
export const GITS_CMD_MAPC = 0x09;
/** MAPTI. */
export const GITS_CMD_MAPTI = 0x0a;
/** MAPI. */
export const GITS_CMD_MAPI = 0x0b;
/** INV. */
export const GITS_CMD_INV = 0x0c;
/** INVALL. */
export const GITS_CMD_INVALL = 0x0d;
/** MOVALL. */
export const GITS_CMD_MOVALL = 0x0e;
/** DISCARD. */
export const GITS_CMD_DISCARD = 0x0f;
/** VMOVI (GICv4). */
export const GITS_CMD_VMOVI = 0x21;
/** VMOVP (GICv4). */
export const GITS_CMD_VMOVP = 0x22;
/** VSYNC (GICv4). */
export const GITS_CMD_VSYNC = 0x25;
/** VMAPP (GICv4). */
export const GITS_CMD_VMAPP = 0x29;
/** VMAPTI (GICv4). */
export const GITS_CMD_VMAPTI = 0x2a;
/** VMAPI (GICv4). */
export const GITS_CMD_VMAPI = 0x2b;
/** VINVALL (GICv4). */
export const GITS_CMD_VINVALL = 0x2d;

/** Size of one command in the queue, in bytes. */
export const ITS_CMD_SIZE = 32;

/** Name of a command number, for traces ("0x42" for unknown ones). */
export function itsCommandName(cmd: number): string {
  switch (cmd) {
    case GITS_CMD_MOVI: return "MOVI";
    case GITS_CMD_INT: return "INT";
    case GITS_CMD_CLEAR: return "CLEAR";
    case GITS_CMD_SYNC: return "SYNC";
    case GITS_CMD_MAPD: return "MAPD";
    case GITS_CMD_MAPC: return "MAPC";
    case GITS_CMD_MAPTI: return "MAPTI";
    case GITS_CMD_MAPI: return "MAPI";
    case GITS_CMD_INV: return "INV";
    case GITS_CMD_INVALL: return "INVALL";
    case GITS_CMD_MOVALL: return "MOVALL";
    case GITS_CMD_DISCARD: return "DISCARD";
    case GITS_CMD_VMOVI: return "VMOVI";
    case GITS_CMD_VMOVP: return "VMOVP";
    case GITS_CMD_VSYNC: return "VSYNC";
    case GITS_CMD_VMAPP: return "VMAPP";
    case GITS_CMD_VMAPTI: return "VMAPTI";
    case GITS_CMD_VMAPI: return "VMAPI";
    case GITS_CMD_VINVALL: return "VINVALL";
    default: return `0x${cmd.toString(16).padStart(2, "0")}`;
  }
}

// ---------------------------------------------------------------------------
// Command error codes (encoding class 0x01 | command << 8 | cause), Linux names.

/** MOVI: no ITE for (DeviceID, EventID). */
export const E_ITS_MOVI_UNMAPPED_INTERRUPT = 0x010107;
/** MOVI: the ITE's or the new collection is unmapped. */
export const E_ITS_MOVI_UNMAPPED_COLLECTION = 0x010109;
/** INT: no ITE, or its collection is unmapped. */
export const E_ITS_INT_UNMAPPED_INTERRUPT = 0x010307;
/** CLEAR: no ITE. */
export const E_ITS_CLEAR_UNMAPPED_INTERRUPT = 0x010507;
/** MAPD: DeviceID out of range of the device table. */
export const E_ITS_MAPD_DEVICE_OOR = 0x010801;
/** MAPD: ITT size larger than GITS_TYPER.IDbits allows. */
export const E_ITS_MAPD_ITTSIZE_OOR = 0x010802;
/** MAPC: RDbase is not a redistributor. */
export const E_ITS_MAPC_PROCNUM_OOR = 0x010902;
/** MAPC: ICID out of range of the collection table. */
export const E_ITS_MAPC_COLLECTION_OOR = 0x010903;
/** MAPTI/MAPI: DeviceID not mapped. */
export const E_ITS_MAPTI_UNMAPPED_DEVICE = 0x010a04;
/** MAPTI/MAPI: EventID out of range of the ITT. */
export const E_ITS_MAPTI_ID_OOR = 0x010a05;
/** MAPTI/MAPI: pINTID not an implemented LPI. */
export const E_ITS_MAPTI_PHYSICALID_OOR = 0x010a06;
/** INV: no ITE. */
export const E_ITS_INV_UNMAPPED_INTERRUPT = 0x010c07;
/** INVALL: collection unmapped. */
export const E_ITS_INVALL_UNMAPPED_COLLECTION = 0x010d09;
/** MOVALL: an RDbase is not a redistributor. */
export const E_ITS_MOVALL_PROCNUM_OOR = 0x010e01;
/** DISCARD: no ITE, or its collection is unmapped. */
export const E_ITS_DISCARD_UNMAPPED_INTERRUPT = 0x010f07;

/** Linux name of an error code, or "" when it has none. */
export function itsErrorName(code: number): string {
  switch (code) {
    case E_ITS_MOVI_UNMAPPED_INTERRUPT: return "E_ITS_MOVI_UNMAPPED_INTERRUPT";
    case E_ITS_MOVI_UNMAPPED_COLLECTION: return "E_ITS_MOVI_UNMAPPED_COLLECTION";
    case E_ITS_INT_UNMAPPED_INTERRUPT: return "E_ITS_INT_UNMAPPED_INTERRUPT";
    case E_ITS_CLEAR_UNMAPPED_INTERRUPT: return "E_ITS_CLEAR_UNMAPPED_INTERRUPT";
    case E_ITS_MAPD_DEVICE_OOR: return "E_ITS_MAPD_DEVICE_OOR";
    case E_ITS_MAPD_ITTSIZE_OOR: return "E_ITS_MAPD_ITTSIZE_OOR";
    case E_ITS_MAPC_PROCNUM_OOR: return "E_ITS_MAPC_PROCNUM_OOR";
    case E_ITS_MAPC_COLLECTION_OOR: return "E_ITS_MAPC_COLLECTION_OOR";
    case E_ITS_MAPTI_UNMAPPED_DEVICE: return "E_ITS_MAPTI_UNMAPPED_DEVICE";
    case E_ITS_MAPTI_ID_OOR: return "E_ITS_MAPTI_ID_OOR";
    case E_ITS_MAPTI_PHYSICALID_OOR: return "E_ITS_MAPTI_PHYSICALID_OOR";
    case E_ITS_INV_UNMAPPED_INTERRUPT: return "E_ITS_INV_UNMAPPED_INTERRUPT";
    case E_ITS_INVALL_UNMAPPED_COLLECTION: return "E_ITS_INVALL_UNMAPPED_COLLECTION";
    case E_ITS_MOVALL_PROCNUM_OOR: return "E_ITS_MOVALL_PROCNUM_OOR";
    case E_ITS_DISCARD_UNMAPPED_INTERRUPT: return "E_ITS_DISCARD_UNMAPPED_INTERRUPT";
    default: return "";
  }
}

/** First LPI INTID (IHI 0069H §1.2.1). */
export const LPI_INTID_BASE = 8192;
/** The "no doorbell" INTID of VMAPTI/VMAPP (1023, spurious). */
export const INTID_SPURIOUS = 1023;
