/**
 * APLIC constants: the interrupt domain control region's register offsets and
 * field layouts.
 *
 * Spec: RISC-V AIA 1.0, riscv/riscv-aia src/AdvPLIC.adoc §4.5 "Memory-mapped
 * control region for an interrupt domain" (Table 4.2 offsets), §4.5.1
 * `domaincfg`, §4.5.2 `sourcecfg`, §4.5.3–§4.5.4 MSI address configuration,
 * §4.5.15 `genmsi`, §4.5.16 `target`, §4.8.1 IDC structure. Cross-check:
 * QEMU hw/intc/riscv_aplic.c (APLIC_* offsets), Linux
 * include/linux/irqchip/riscv-aplic.h.
 */

// ---- Limits ----

/** Largest number of interrupt sources (1..1023; source 0 does not exist). */
export const APLIC_MAX_SOURCES = 1023;
/** Number of hart indices a domain can name (14-bit Hart Index). */
export const APLIC_MAX_HARTS = 16384;
/** Size of the non-IDC part of a control region (16 KiB). */
export const APLIC_IDC_BASE = 0x4000;
/** Size of one IDC structure. */
export const APLIC_IDC_SIZE = 32;

// ---- Control region offsets (§4.5, Table 4.2) ----

/** `domaincfg`. */
export const APLIC_DOMAINCFG = 0x0000;
/** `sourcecfg[1]`; `sourcecfg[i]` is at 0x0004 + 4·(i − 1). */
export const APLIC_SOURCECFG_BASE = 0x0004;
/** `mmsiaddrcfg`. */
export const APLIC_MMSIADDRCFG = 0x1bc0;
/** `mmsiaddrcfgh`. */
export const APLIC_MMSIADDRCFGH = 0x1bc4;
/** `smsiaddrcfg`. */
export const APLIC_SMSIADDRCFG = 0x1bc8;
/** `smsiaddrcfgh`. */
export const APLIC_SMSIADDRCFGH = 0x1bcc;
/** `setip[0]`; 32 words. */
export const APLIC_SETIP_BASE = 0x1c00;
/** `setipnum`. */
export const APLIC_SETIPNUM = 0x1cdc;
/** `in_clrip[0]`; 32 words. */
export const APLIC_IN_CLRIP_BASE = 0x1d00;
/** `clripnum`. */
export const APLIC_CLRIPNUM = 0x1ddc;
/** `setie[0]`; 32 words. */
export const APLIC_SETIE_BASE = 0x1e00;
/** `setienum`. */
export const APLIC_SETIENUM = 0x1edc;
/** `clrie[0]`; 32 words. */
export const APLIC_CLRIE_BASE = 0x1f00;
/** `clrienum`. */
export const APLIC_CLRIENUM = 0x1fdc;
/** `setipnum_le`. */
export const APLIC_SETIPNUM_LE = 0x2000;
/** `setipnum_be`. */
export const APLIC_SETIPNUM_BE = 0x2004;
/** `genmsi`. */
export const APLIC_GENMSI = 0x3000;
/** `target[1]`; `target[i]` is at 0x3004 + 4·(i − 1). */
export const APLIC_TARGET_BASE = 0x3004;

// ---- IDC registers, offsets within one IDC (§4.8.1) ----

/** `idelivery`. */
export const APLIC_IDC_IDELIVERY = 0x00;
/** `iforce`. */
export const APLIC_IDC_IFORCE = 0x04;
/** `ithreshold`. */
export const APLIC_IDC_ITHRESHOLD = 0x08;
/** `topi`. */
export const APLIC_IDC_TOPI = 0x18;
/** `claimi`. */
export const APLIC_IDC_CLAIMI = 0x1c;
/** `topi` identity position (bits 25:16). */
export const APLIC_TOPI_ID_SHIFT = 16;

// ---- domaincfg fields (§4.5.1) ----

/** Read-only 0x80 in bits 31:24. */
export const APLIC_DOMAINCFG_RDONLY = 0x80000000;
/** IE: interrupt enable. */
export const APLIC_DOMAINCFG_IE = 1 << 8;
/** DM: delivery mode (1 = MSI). */
export const APLIC_DOMAINCFG_DM = 1 << 2;
/** BE: big-endian. */
export const APLIC_DOMAINCFG_BE = 1 << 0;

// ---- sourcecfg fields (§4.5.2) ----

/** D: delegate. */
export const APLIC_SOURCECFG_D = 1 << 10;
/** Child Index (when D = 1). */
export const APLIC_SOURCECFG_CHILDIDX_MASK = 0x3ff;
/** SM: source mode (when D = 0). */
export const APLIC_SOURCECFG_SM_MASK = 0x7;
/** Source mode Inactive. */
export const APLIC_SM_INACTIVE = 0;
/** Source mode Detached. */
export const APLIC_SM_DETACHED = 1;
/** Source mode Edge1 (rising edge). */
export const APLIC_SM_EDGE_RISE = 4;
/** Source mode Edge0 (falling edge). */
export const APLIC_SM_EDGE_FALL = 5;
/** Source mode Level1 (high). */
export const APLIC_SM_LEVEL_HIGH = 6;
/** Source mode Level0 (low). */
export const APLIC_SM_LEVEL_LOW = 7;

// ---- target fields (§4.5.16) ----

/** Hart Index position (bits 31:18). */
export const APLIC_TARGET_HART_SHIFT = 18;
/** Hart Index mask after shifting (14 bits). */
export const APLIC_TARGET_HART_MASK = 0x3fff;
/** Guest Index position (bits 17:12, MSI mode). */
export const APLIC_TARGET_GUEST_SHIFT = 12;
/** Guest Index mask after shifting (6 bits). */
export const APLIC_TARGET_GUEST_MASK = 0x3f;
/** EIID mask (bits 10:0, MSI mode). */
export const APLIC_TARGET_EIID_MASK = 0x7ff;
/** IPRIO mask of the widest IPRIOLEN (bits 7:0, direct mode). */
export const APLIC_TARGET_IPRIO_MASK = 0xff;

// ---- genmsi (§4.5.15) ----

/** Busy (read-only). */
export const APLIC_GENMSI_BUSY = 1 << 12;

// ---- mmsiaddrcfgh / smsiaddrcfgh fields (§4.5.3, §4.5.4) ----

/** L: lock (mmsiaddrcfgh bit 31). */
export const APLIC_xMSICFGADDRH_L = 1 << 31;
/** HHXS position (bits 28:24), 5 bits. */
export const APLIC_xMSICFGADDRH_HHXS_SHIFT = 24;
/** LHXS position (bits 22:20), 3 bits. */
export const APLIC_xMSICFGADDRH_LHXS_SHIFT = 20;
/** HHXW position (bits 18:16), 3 bits. */
export const APLIC_xMSICFGADDRH_HHXW_SHIFT = 16;
/** LHXW position (bits 15:12), 4 bits. */
export const APLIC_xMSICFGADDRH_LHXW_SHIFT = 12;
/** High Base PPN mask (bits 11:0). */
export const APLIC_xMSICFGADDRH_BAPPN_MASK = 0xfff;
/** Writable bits of mmsiaddrcfgh. */
export const APLIC_MMSIADDRCFGH_MASK = 0x9f77ffff;
/** Writable bits of smsiaddrcfgh. */
export const APLIC_SMSIADDRCFGH_MASK = 0x700fff;

/** Control-region size of a domain with `harts` IDC structures: 16 KiB plus the IDCs, rounded up to 4 KiB. */
export function aplicRegionSize(harts: number): number {
  return APLIC_IDC_BASE + Math.ceil((harts * APLIC_IDC_SIZE) / 0x1000) * 0x1000;
}

/**
 * The `*num` register at `offset` as an operation: 0 set pending (setipnum,
 * setipnum_le, setipnum_be), 1 clear pending (clripnum), 2 set enable
 * (setienum), 3 clear enable (clrienum); -1 for any other offset.
 */
export function aplicNumOp(offset: number): number {
  switch (offset) {
    case APLIC_SETIPNUM:
    case APLIC_SETIPNUM_LE:
    case APLIC_SETIPNUM_BE:
      return 0;
    case APLIC_CLRIPNUM:
      return 1;
    case APLIC_SETIENUM:
      return 2;
    case APLIC_CLRIENUM:
      return 3;
    default:
      return -1;
  }
}

/** True for source modes that make a source active (Detached, Edge1/0, Level1/0). */
export function isActiveMode(sm: number): boolean {
  return sm === APLIC_SM_DETACHED || (sm >= APLIC_SM_EDGE_RISE && sm <= APLIC_SM_LEVEL_LOW);
}

/** True for Level1/Level0. */
export function isLevelMode(sm: number): boolean {
  return sm === APLIC_SM_LEVEL_HIGH || sm === APLIC_SM_LEVEL_LOW;
}

/** Rectified input (§4.5.2): wire XOR inverted for edge/level modes, 0 otherwise. */
export function rectify(sm: number, wire: number): number {
  switch (sm) {
    case APLIC_SM_EDGE_RISE:
    case APLIC_SM_LEVEL_HIGH:
      return wire;
    case APLIC_SM_EDGE_FALL:
    case APLIC_SM_LEVEL_LOW:
      return wire ^ 1;
    default:
      return 0;
  }
}
