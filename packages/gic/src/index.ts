/**
 * @irqlab/gic — an executable model of the Arm GICv3 architecture (IHI 0069)
 * as Linux KVM's vgic and QEMU implement it: distributor, redistributors, CPU
 * interface system registers, LPIs, the hypervisor interface with list
 * registers, and (from the ITS module) the ITS and GICv4.1 vPEs.
 *
 * @packageDocumentation
 */

/** The composed GIC, its options, snapshot type, defaults and limits. */
export { Gicv3, GICV3_MAX_CPUS, defaultAffinity, type Gicv3Options, type Gicv3Snapshot } from "./gicv3.js";
/** Callback type of the per-PE IRQ/FIQ outputs. */
export type { PeLineCallback } from "./gicv3-core.js";
/** KVM or QEMU behaviour where they differ. */
export type { Gicv3Profile } from "./gicv3-irq-state.js";
/** The GICD frame device. */
export { Gicv3Distributor, type DistributorSnapshot } from "./gicv3-distributor.js";
/** The redistributor region device. */
export { Gicv3Redistributors, type RedistributorSnapshot } from "./gicv3-redistributor.js";
/** The ICC_* system registers and the list of implemented encodings. */
export { Gicv3CpuInterface, ICC_REGISTERS } from "./gicv3-cpu-interface.js";
/** The hypervisor interface (ICH_*) and virtual CPU interface (ICV_*) of one PE. */
export {
  Gicv3HypInterface,
  type HypInterfaceOptions,
  type HypInterfaceOutputs,
  type HypInterfaceSnapshot,
} from "./gicv3-hyp-interface.js";
/** Per-interrupt state access for a software vgic. */
export { Gicv3IrqAccess, type IrqStatus } from "./gicv3-irq-access.js";
/** List-register encoding and ICH_*_EL2 access by encoding. */
export { encodeLr, decodeLr, readIch, writeIch, isIchRegister, type ListRegister } from "./gicv3-list-register.js";
/** Priority arithmetic (binary point, active priorities, running priority). */
export { PriorityModel } from "./gicv3-priority.js";
/** LPI state of one redistributor and its snapshot type. */
export { LpiRedistributor, MAX_LPIS, type LpiSnapshot } from "./gicv3-lpi.js";
/** Per-INTID state snapshot type. */
export type { IrqStateSnapshot } from "./gicv3-irq-state.js";
/** The contract an ITS drives the redistributors through. */
export type { LpiTarget } from "./lpi-target.js";
/** The contract of GICv4.1 directly injected vLPIs seen by the virtual CPU interface. */
export type { DirectVlpiSource } from "./direct-vlpi.js";
/** Register offsets, bits and system-register encodings (IHI 0069 / Linux arm-gic-v3.h names). */
export {
  GIC_FIRST_PPI,
  GIC_FIRST_SPI,
  GIC_MAX_SPI,
  GIC_FIRST_LPI,
  INTID_SPURIOUS,
  LPI_ID_BITS,
  GICD_SIZE,
  GICD_CTLR,
  GICD_TYPER,
  GICD_IIDR,
  GICD_TYPER2,
  GICD_STATUSR,
  GICD_IGROUPR,
  GICD_ISENABLER,
  GICD_ICENABLER,
  GICD_ISPENDR,
  GICD_ICPENDR,
  GICD_ISACTIVER,
  GICD_ICACTIVER,
  GICD_IPRIORITYR,
  GICD_ITARGETSR,
  GICD_ICFGR,
  GICD_IGRPMODR,
  GICD_NSACR,
  GICD_SGIR,
  GICD_IROUTER,
  GICD_PIDR2,
  GICD_CTLR_ENABLE_SS_G0,
  GICD_CTLR_ENABLE_SS_G1,
  GICD_CTLR_ARE_NS,
  GICD_CTLR_DS,
  GICD_CTLR_nASSGIreq,
  GICD_CTLR_RWP,
  GICD_TYPER_LPIS,
  GICD_TYPER2_nASSGIcap,
  IMPLEMENTER_ARM,
  PRODUCT_ID_KVM,
  GICR_FRAME_SIZE,
  GICR_SGI_BASE,
  GICR_VLPI_BASE,
  GIC_V3_REDIST_SIZE,
  GIC_V4_REDIST_SIZE,
  GICR_CTLR,
  GICR_IIDR,
  GICR_TYPER,
  GICR_STATUSR,
  GICR_WAKER,
  GICR_PROPBASER,
  GICR_PENDBASER,
  GICR_INVLPIR,
  GICR_INVALLR,
  GICR_SYNCR,
  GICR_PIDR2,
  GICR_IGROUPR0,
  GICR_ISENABLER0,
  GICR_ICENABLER0,
  GICR_ISPENDR0,
  GICR_ICPENDR0,
  GICR_ISACTIVER0,
  GICR_ICACTIVER0,
  GICR_IPRIORITYR0,
  GICR_ICFGR0,
  GICR_ICFGR1,
  GICR_IGRPMODR0,
  GICR_NSACR,
  GICR_CTLR_ENABLE_LPIS,
  GICR_CTLR_CES,
  GICR_CTLR_IR,
  GICR_CTLR_RWP,
  GICR_TYPER_PLPIS,
  GICR_TYPER_VLPIS,
  GICR_TYPER_DirectLPIS,
  GICR_TYPER_LAST,
  GICR_TYPER_RVPEID,
  GICR_WAKER_ProcessorSleep,
  GICR_WAKER_ChildrenAsleep,
  LPI_PROP_ENABLED,
  LPI_PROP_GROUP1,
  LPI_PROP_PRIORITY_MASK,
  ICC_PMR_EL1,
  ICC_IAR0_EL1,
  ICC_EOIR0_EL1,
  ICC_HPPIR0_EL1,
  ICC_BPR0_EL1,
  ICC_AP0Rn_EL1,
  ICC_AP1Rn_EL1,
  ICC_DIR_EL1,
  ICC_RPR_EL1,
  ICC_SGI1R_EL1,
  ICC_ASGI1R_EL1,
  ICC_SGI0R_EL1,
  ICC_IAR1_EL1,
  ICC_EOIR1_EL1,
  ICC_HPPIR1_EL1,
  ICC_BPR1_EL1,
  ICC_CTLR_EL1,
  ICC_SRE_EL1,
  ICC_IGRPEN0_EL1,
  ICC_IGRPEN1_EL1,
  ICC_CTLR_EL1_CBPR,
  ICC_CTLR_EL1_EOImode_drop,
  ICH_AP0Rn_EL2,
  ICH_AP1Rn_EL2,
  ICH_HCR_EL2,
  ICH_VTR_EL2,
  ICH_MISR_EL2,
  ICH_EISR_EL2,
  ICH_ELRSR_EL2,
  ICH_VMCR_EL2,
  ICH_LRn_EL2,
  ICH_HCR_EL2_En,
  ICH_HCR_EL2_UIE,
  ICH_HCR_EL2_LRENPIE,
  ICH_HCR_EL2_NPIE,
  ICH_HCR_EL2_VGrp0EIE,
  ICH_HCR_EL2_VGrp0DIE,
  ICH_HCR_EL2_VGrp1EIE,
  ICH_HCR_EL2_VGrp1DIE,
  ICH_HCR_EL2_EOIcount_SHIFT,
  ICH_MISR_EL2_EOI,
  ICH_MISR_EL2_U,
  ICH_MISR_EL2_LRENP,
  ICH_MISR_EL2_NP,
  ICH_MISR_EL2_VGrp0E,
  ICH_MISR_EL2_VGrp0D,
  ICH_MISR_EL2_VGrp1E,
  ICH_MISR_EL2_VGrp1D,
  ICH_VMCR_EL2_VENG0,
  ICH_VMCR_EL2_VENG1,
  ICH_VMCR_EL2_VCBPR,
  ICH_VMCR_EL2_VEOIM,
  ICH_VMCR_EL2_VBPR1_SHIFT,
  ICH_VMCR_EL2_VBPR0_SHIFT,
  ICH_VMCR_EL2_VPMR_SHIFT,
  ICH_LR_STATE_INVALID,
  ICH_LR_STATE_PENDING,
  ICH_LR_STATE_ACTIVE,
  ICH_LR_STATE_PENDING_ACTIVE,
} from "./gicv3-constants.js";

/** The ITS and GICv4.1 vPE model. */
export * from "./its/index.js";
