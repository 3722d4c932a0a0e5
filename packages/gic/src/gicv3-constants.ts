/**
 * GICv3 register offsets, bit fields and system-register encodings.
 *
 * Spec: Arm GIC Architecture Specification, IHI 0069H: §12.9 (distributor
 * register map, GICD_*), §12.10 (redistributor, GICR_*), §12.2 (CPU interface
 * system registers, ICC_*), §12.4–12.5 (hypervisor interface ICH_*, virtual
 * ICV_*). Names and values as in Linux include/linux/irqchip/arm-gic-v3.h and
 * arch/arm64/include/asm/sysreg.h; cross-check: QEMU hw/intc/gicv3_internal.h.
 */

import { sysReg } from "@irqlab/sim";

// ---- INTID space (§2.2) ----------------------------------------------------

/** First PPI INTID. */
export const GIC_FIRST_PPI = 16;
/** First SPI INTID. */
export const GIC_FIRST_SPI = 32;
/** Largest SPI INTID (Linux VGIC_MAX_SPI). */
export const GIC_MAX_SPI = 1019;
/** INTID returned by IAR/HPPIR when nothing can be acknowledged (§2.2.1). */
export const INTID_SPURIOUS = 1023;
/** First LPI INTID (Linux VGIC_MIN_LPI). */
export const GIC_FIRST_LPI = 8192;
/** LPI INTID bits implemented (KVM INTERRUPT_ID_BITS_ITS = 16). */
export const LPI_ID_BITS = 16;

// ---- Distributor, 64 KiB frame (§12.9, Table 12-25) -------------------------

/** Size of the GICD frame. */
export const GICD_SIZE = 0x10000;
export const GICD_CTLR = 0x0000;
export const GICD_TYPER = 0x0004;
export const GICD_IIDR = 0x0008;
export const GICD_TYPER2 = 0x000c;
export const GICD_STATUSR = 0x0010;
export const GICD_SETSPI_NSR = 0x0040;
export const GICD_CLRSPI_NSR = 0x0048;
export const GICD_SETSPI_SR = 0x0050;
export const GICD_CLRSPI_SR = 0x0058;
export const GICD_IGROUPR = 0x0080;
export const GICD_ISENABLER = 0x0100;
export const GICD_ICENABLER = 0x0180;
export const GICD_ISPENDR = 0x0200;
export const GICD_ICPENDR = 0x0280;
export const GICD_ISACTIVER = 0x0300;
export const GICD_ICACTIVER = 0x0380;
export const GICD_IPRIORITYR = 0x0400;
export const GICD_ITARGETSR = 0x0800;
export const GICD_ICFGR = 0x0c00;
export const GICD_IGRPMODR = 0x0d00;
export const GICD_NSACR = 0x0e00;
export const GICD_SGIR = 0x0f00;
export const GICD_CPENDSGIR = 0x0f10;
export const GICD_SPENDSGIR = 0x0f20;
export const GICD_IROUTER = 0x6000;
export const GICD_IDREGS = 0xffd0;
export const GICD_PIDR2 = 0xffe8;

/** GICD_CTLR.EnableGrp0 with a single security state (Linux GICD_CTLR_ENABLE_SS_G0). */
export const GICD_CTLR_ENABLE_SS_G0 = 1 << 0;
/** GICD_CTLR.EnableGrp1 with a single security state (Linux GICD_CTLR_ENABLE_SS_G1). */
export const GICD_CTLR_ENABLE_SS_G1 = 1 << 1;
/** GICD_CTLR.ARE (affinity routing enable). */
export const GICD_CTLR_ARE_NS = 1 << 4;
/** GICD_CTLR.DS (disable security: a single security state). */
export const GICD_CTLR_DS = 1 << 6;
/** GICD_CTLR.nASSGIreq (GICv4.1 SGIs without active state). */
export const GICD_CTLR_nASSGIreq = 1 << 8;
/** GICD_CTLR.RWP (register write pending). */
export const GICD_CTLR_RWP = 1 << 31;
/** GICD_TYPER.LPIS. */
export const GICD_TYPER_LPIS = 1 << 17;
/** GICD_TYPER2.nASSGIcap. */
export const GICD_TYPER2_nASSGIcap = 1 << 8;
/** GICD_IROUTER.Interrupt_Routing_Mode (1 of N). */
export const GICD_IROUTER_SPI_MODE_ANY = 1 << 31;
/** Implementer code of Arm in IIDR (JEP106 0x43B). */
export const IMPLEMENTER_ARM = 0x43b;
/** ProductID that KVM reports in GICD_IIDR/GICR_IIDR. */
export const PRODUCT_ID_KVM = 0x4b;
/** IIDR revision 3: GICR_CTLR.{IR,CES,RWP} (Linux KVM_VGIC_IMP_REV_3). */
export const KVM_VGIC_IMP_REV_3 = 3;

// ---- Redistributor: RD_base + SGI_base (+ VLPI_base + reserved) (§12.10) -----

/** One redistributor frame. */
export const GICR_FRAME_SIZE = 0x10000;
/** SGI_base frame offset from RD_base. */
export const GICR_SGI_BASE = 0x10000;
/** VLPI_base frame offset from RD_base (GICv4). */
export const GICR_VLPI_BASE = 0x20000;
/** Redistributor size of a GICv3 part (Linux GIC_V3_REDIST_SIZE). */
export const GIC_V3_REDIST_SIZE = 0x20000;
/** Redistributor size of a GICv4 part (QEMU GICV4_REDIST_SIZE). */
export const GIC_V4_REDIST_SIZE = 0x40000;
export const GICR_CTLR = 0x0000;
export const GICR_IIDR = 0x0004;
export const GICR_TYPER = 0x0008;
export const GICR_STATUSR = 0x0010;
export const GICR_WAKER = 0x0014;
export const GICR_SETLPIR = 0x0040;
export const GICR_CLRLPIR = 0x0048;
export const GICR_PROPBASER = 0x0070;
export const GICR_PENDBASER = 0x0078;
export const GICR_INVLPIR = 0x00a0;
export const GICR_INVALLR = 0x00b0;
export const GICR_SYNCR = 0x00c0;
export const GICR_IDREGS = 0xffd0;
export const GICR_PIDR2 = 0xffe8;
/** SGI_base-relative offsets of the banked private-interrupt registers. */
export const GICR_IGROUPR0 = 0x0080;
export const GICR_ISENABLER0 = 0x0100;
export const GICR_ICENABLER0 = 0x0180;
export const GICR_ISPENDR0 = 0x0200;
export const GICR_ICPENDR0 = 0x0280;
export const GICR_ISACTIVER0 = 0x0300;
export const GICR_ICACTIVER0 = 0x0380;
export const GICR_IPRIORITYR0 = 0x0400;
export const GICR_ICFGR0 = 0x0c00;
export const GICR_ICFGR1 = 0x0c04;
export const GICR_IGRPMODR0 = 0x0d00;
export const GICR_NSACR = 0x0e00;

export const GICR_CTLR_ENABLE_LPIS = 1 << 0;
export const GICR_CTLR_CES = 1 << 1;
export const GICR_CTLR_IR = 1 << 2;
export const GICR_CTLR_RWP = 1 << 3;
export const GICR_TYPER_PLPIS = 1 << 0;
export const GICR_TYPER_VLPIS = 1 << 1;
export const GICR_TYPER_DirectLPIS = 1 << 3;
export const GICR_TYPER_LAST = 1 << 4;
export const GICR_TYPER_RVPEID = 1 << 7;
export const GICR_WAKER_ProcessorSleep = 1 << 1;
export const GICR_WAKER_ChildrenAsleep = 1 << 2;
/** GICR_PENDBASER.PTZ (pending table zero), bit 62 = bit 30 of the high word. */
export const GICR_PENDBASER_PTZ_HI = 1 << 30;

// ---- LPI configuration table byte (§5.1.1) ----------------------------------

/** Config byte bit 0: the LPI is enabled. */
export const LPI_PROP_ENABLED = 1 << 0;
/** Config byte bit 1: RES1 (Linux LPI_PROP_GROUP1). */
export const LPI_PROP_GROUP1 = 1 << 1;
/** Config byte bits [7:2]: priority (KVM keeps `prop & 0xfc`). */
export const LPI_PROP_PRIORITY_MASK = 0xfc;

// ---- CPU interface system registers (sysreg.h, §12.2) ----------------------

export const ICC_PMR_EL1 = sysReg(3, 0, 4, 6, 0);
export const ICC_IAR0_EL1 = sysReg(3, 0, 12, 8, 0);
export const ICC_EOIR0_EL1 = sysReg(3, 0, 12, 8, 1);
export const ICC_HPPIR0_EL1 = sysReg(3, 0, 12, 8, 2);
export const ICC_BPR0_EL1 = sysReg(3, 0, 12, 8, 3);
/** ICC_AP0R<n>_EL1 (n = 0..3). */
export function ICC_AP0Rn_EL1(n: number): number {
  return sysReg(3, 0, 12, 8, 4 + n);
}
/** ICC_AP1R<n>_EL1 (n = 0..3). */
export function ICC_AP1Rn_EL1(n: number): number {
  return sysReg(3, 0, 12, 9, n);
}
export const ICC_DIR_EL1 = sysReg(3, 0, 12, 11, 1);
export const ICC_RPR_EL1 = sysReg(3, 0, 12, 11, 3);
export const ICC_SGI1R_EL1 = sysReg(3, 0, 12, 11, 5);
export const ICC_ASGI1R_EL1 = sysReg(3, 0, 12, 11, 6);
export const ICC_SGI0R_EL1 = sysReg(3, 0, 12, 11, 7);
export const ICC_IAR1_EL1 = sysReg(3, 0, 12, 12, 0);
export const ICC_EOIR1_EL1 = sysReg(3, 0, 12, 12, 1);
export const ICC_HPPIR1_EL1 = sysReg(3, 0, 12, 12, 2);
export const ICC_BPR1_EL1 = sysReg(3, 0, 12, 12, 3);
export const ICC_CTLR_EL1 = sysReg(3, 0, 12, 12, 4);
export const ICC_SRE_EL1 = sysReg(3, 0, 12, 12, 5);
export const ICC_IGRPEN0_EL1 = sysReg(3, 0, 12, 12, 6);
export const ICC_IGRPEN1_EL1 = sysReg(3, 0, 12, 12, 7);

export const ICC_CTLR_EL1_CBPR = 1 << 0;
export const ICC_CTLR_EL1_EOImode_drop = 1 << 1;
export const ICC_CTLR_EL1_PRI_BITS_SHIFT = 8;
export const ICC_CTLR_EL1_ID_BITS_SHIFT = 11;
export const ICC_CTLR_EL1_A3V = 1 << 15;
/** ICC_SRE_EL1: SRE | DFB | DIB, RAO/WI for a GICv3 guest. */
export const ICC_SRE_EL1_RAO = 0x7;

// ---- Hypervisor interface (§12.4) ---------------------------------------------

/** ICH_AP0R<n>_EL2. */
export function ICH_AP0Rn_EL2(n: number): number {
  return sysReg(3, 4, 12, 8, n);
}
/** ICH_AP1R<n>_EL2. */
export function ICH_AP1Rn_EL2(n: number): number {
  return sysReg(3, 4, 12, 9, n);
}
export const ICH_HCR_EL2 = sysReg(3, 4, 12, 11, 0);
export const ICH_VTR_EL2 = sysReg(3, 4, 12, 11, 1);
export const ICH_MISR_EL2 = sysReg(3, 4, 12, 11, 2);
export const ICH_EISR_EL2 = sysReg(3, 4, 12, 11, 3);
export const ICH_ELRSR_EL2 = sysReg(3, 4, 12, 11, 5);
export const ICH_VMCR_EL2 = sysReg(3, 4, 12, 11, 7);
/** ICH_LR<n>_EL2 (n = 0..15). */
export function ICH_LRn_EL2(n: number): number {
  return sysReg(3, 4, 12, 12 + (n >> 3), n & 7);
}

export const ICH_HCR_EL2_En = 1 << 0;
export const ICH_HCR_EL2_UIE = 1 << 1;
export const ICH_HCR_EL2_LRENPIE = 1 << 2;
export const ICH_HCR_EL2_NPIE = 1 << 3;
export const ICH_HCR_EL2_VGrp0EIE = 1 << 4;
export const ICH_HCR_EL2_VGrp0DIE = 1 << 5;
export const ICH_HCR_EL2_VGrp1EIE = 1 << 6;
export const ICH_HCR_EL2_VGrp1DIE = 1 << 7;
export const ICH_HCR_EL2_EOIcount_SHIFT = 27;
export const ICH_MISR_EL2_EOI = 1 << 0;
export const ICH_MISR_EL2_U = 1 << 1;
export const ICH_MISR_EL2_LRENP = 1 << 2;
export const ICH_MISR_EL2_NP = 1 << 3;
export const ICH_MISR_EL2_VGrp0E = 1 << 4;
export const ICH_MISR_EL2_VGrp0D = 1 << 5;
export const ICH_MISR_EL2_VGrp1E = 1 << 6;
export const ICH_MISR_EL2_VGrp1D = 1 << 7;
export const ICH_VMCR_EL2_VENG0 = 1 << 0;
export const ICH_VMCR_EL2_VENG1 = 1 << 1;
export const ICH_VMCR_EL2_VCBPR = 1 << 4;
export const ICH_VMCR_EL2_VEOIM = 1 << 9;
export const ICH_VMCR_EL2_VBPR1_SHIFT = 18;
export const ICH_VMCR_EL2_VBPR0_SHIFT = 21;
export const ICH_VMCR_EL2_VPMR_SHIFT = 24;

/** ICH_LR<n>_EL2 high-word fields (bit − 32). */
export const ICH_LR_EOI_HI = 1 << 9; // bit 41 (HW = 0)
export const ICH_LR_PINTID_HI_MASK = 0x3ff; // bits [41:32] (HW = 1)
export const ICH_LR_PRIORITY_HI_SHIFT = 16; // bits [55:48]
export const ICH_LR_GROUP_HI = 1 << 28; // bit 60
export const ICH_LR_HW_HI = 1 << 29; // bit 61
export const ICH_LR_STATE_HI_SHIFT = 30; // bits [63:62]
/** LR states (ICH_LR<n>_EL2.State). */
export const ICH_LR_STATE_INVALID = 0;
export const ICH_LR_STATE_PENDING = 1;
export const ICH_LR_STATE_ACTIVE = 2;
export const ICH_LR_STATE_PENDING_ACTIVE = 3;
