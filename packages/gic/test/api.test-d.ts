/**
 * The public API of @irqlab/gic as a user compiles against it: the value
 * exports, the Gicv3 and ITS entry points and their options, register offsets
 * of the GICv3 architecture specification (IHI 0069), and misuse the types
 * reject. Checked (never run) by vitest's typecheck project against the built
 * declarations, and by this package's `tsc --noEmit` against the sources.
 */
import * as gic from "@irqlab/gic";
import {
  GICD_CTLR,
  GICD_IROUTER,
  GICD_ISENABLER,
  GICD_TYPER,
  GICR_FRAME_SIZE,
  GICR_SGI_BASE,
  GICV3_MAX_CPUS,
  GIC_FIRST_LPI,
  GIC_FIRST_SPI,
  GIC_V4_REDIST_SIZE,
  GITS_CBASER,
  GITS_CMD_MAPD,
  GITS_CMD_MAPTI,
  GITS_CWRITER,
  GITS_TRANSLATER,
  Gicv3,
  INTID_SPURIOUS,
  ITS_CMD_SIZE,
  ITS_PROFILE_NAMES,
  Its,
  itsCommand,
  itsProfile,
  type Gicv3Distributor,
  type Gicv3Options,
  type Gicv3Profile,
  type Gicv3Snapshot,
  type ItsCommandWords,
  type ItsOptions,
  type ItsProfile,
  type ItsProfileName,
  type LpiTarget,
  type PeLineCallback,
} from "@irqlab/gic";
import { GuestMemory, type MmioDevice, type WideValue } from "@irqlab/sim";
import { describe, expectTypeOf, test } from "vitest";

/** Every value export: adding or removing one fails here until this list is updated. */
type ValueExports =
  | "E_ITS_CLEAR_UNMAPPED_INTERRUPT" | "E_ITS_DISCARD_UNMAPPED_INTERRUPT" | "E_ITS_INT_UNMAPPED_INTERRUPT"
  | "E_ITS_INVALL_UNMAPPED_COLLECTION" | "E_ITS_INV_UNMAPPED_INTERRUPT" | "E_ITS_MAPC_COLLECTION_OOR"
  | "E_ITS_MAPC_PROCNUM_OOR" | "E_ITS_MAPD_DEVICE_OOR" | "E_ITS_MAPD_ITTSIZE_OOR" | "E_ITS_MAPTI_ID_OOR"
  | "E_ITS_MAPTI_PHYSICALID_OOR" | "E_ITS_MAPTI_UNMAPPED_DEVICE" | "E_ITS_MOVALL_PROCNUM_OOR"
  | "E_ITS_MOVI_UNMAPPED_COLLECTION" | "E_ITS_MOVI_UNMAPPED_INTERRUPT" | "GICD_CTLR" | "GICD_CTLR_ARE_NS"
  | "GICD_CTLR_DS" | "GICD_CTLR_ENABLE_SS_G0" | "GICD_CTLR_ENABLE_SS_G1" | "GICD_CTLR_RWP"
  | "GICD_CTLR_nASSGIreq" | "GICD_ICACTIVER" | "GICD_ICENABLER" | "GICD_ICFGR" | "GICD_ICPENDR"
  | "GICD_IGROUPR" | "GICD_IGRPMODR" | "GICD_IIDR" | "GICD_IPRIORITYR" | "GICD_IROUTER" | "GICD_ISACTIVER"
  | "GICD_ISENABLER" | "GICD_ISPENDR" | "GICD_ITARGETSR" | "GICD_NSACR" | "GICD_PIDR2" | "GICD_SGIR"
  | "GICD_SIZE" | "GICD_STATUSR" | "GICD_TYPER" | "GICD_TYPER2" | "GICD_TYPER2_nASSGIcap" | "GICD_TYPER_LPIS"
  | "GICR_CTLR" | "GICR_CTLR_CES" | "GICR_CTLR_ENABLE_LPIS" | "GICR_CTLR_IR" | "GICR_CTLR_RWP"
  | "GICR_FRAME_SIZE" | "GICR_ICACTIVER0" | "GICR_ICENABLER0" | "GICR_ICFGR0" | "GICR_ICFGR1"
  | "GICR_ICPENDR0" | "GICR_IGROUPR0" | "GICR_IGRPMODR0" | "GICR_IIDR" | "GICR_INVALLR" | "GICR_INVLPIR"
  | "GICR_IPRIORITYR0" | "GICR_ISACTIVER0" | "GICR_ISENABLER0" | "GICR_ISPENDR0" | "GICR_NSACR"
  | "GICR_PENDBASER" | "GICR_PIDR2" | "GICR_PROPBASER" | "GICR_SGI_BASE" | "GICR_STATUSR" | "GICR_SYNCR"
  | "GICR_TYPER" | "GICR_TYPER_DirectLPIS" | "GICR_TYPER_LAST" | "GICR_TYPER_PLPIS" | "GICR_TYPER_RVPEID"
  | "GICR_TYPER_VLPIS" | "GICR_VLPI_BASE" | "GICR_VPENDBASER" | "GICR_VPENDBASER_HI_DB"
  | "GICR_VPENDBASER_HI_DIRTY" | "GICR_VPENDBASER_HI_PENDING_LAST" | "GICR_VPENDBASER_HI_VALID"
  | "GICR_VPENDBASER_HI_VGRP0EN" | "GICR_VPENDBASER_HI_VGRP1EN" | "GICR_VPROPBASER" | "GICR_VSGIPENDR"
  | "GICR_VSGIR" | "GICR_WAKER" | "GICR_WAKER_ChildrenAsleep" | "GICR_WAKER_ProcessorSleep" | "GICV3_MAX_CPUS"
  | "GIC_FIRST_LPI" | "GIC_FIRST_PPI" | "GIC_FIRST_SPI" | "GIC_MAX_SPI" | "GIC_V3_REDIST_SIZE"
  | "GIC_V4_REDIST_SIZE" | "GITS_BASER" | "GITS_BASER_HI_INDIRECT" | "GITS_BASER_HI_VALID"
  | "GITS_BASER_NR_REGS" | "GITS_BASER_TYPE_COLLECTION" | "GITS_BASER_TYPE_DEVICE" | "GITS_BASER_TYPE_NONE"
  | "GITS_BASER_TYPE_VCPU" | "GITS_CBASER" | "GITS_CBASER_HI_VALID" | "GITS_CIDR0" | "GITS_CMD_CLEAR"
  | "GITS_CMD_DISCARD" | "GITS_CMD_INT" | "GITS_CMD_INV" | "GITS_CMD_INVALL" | "GITS_CMD_MAPC"
  | "GITS_CMD_MAPD" | "GITS_CMD_MAPI" | "GITS_CMD_MAPTI" | "GITS_CMD_MOVALL" | "GITS_CMD_MOVI"
  | "GITS_CMD_SYNC" | "GITS_CMD_VINVALL" | "GITS_CMD_VMAPI" | "GITS_CMD_VMAPP" | "GITS_CMD_VMAPTI"
  | "GITS_CMD_VMOVI" | "GITS_CMD_VMOVP" | "GITS_CMD_VSYNC" | "GITS_CREADR" | "GITS_CREADR_STALLED"
  | "GITS_CTLR" | "GITS_CTLR_ENABLE" | "GITS_CTLR_QUIESCENT" | "GITS_CWRITER" | "GITS_IIDR" | "GITS_MPIDR"
  | "GITS_PIDR0" | "GITS_PIDR1" | "GITS_PIDR2" | "GITS_PIDR3" | "GITS_PIDR4" | "GITS_REGION_SIZE"
  | "GITS_TRANSLATER" | "GITS_TYPER" | "GITS_TYPER_HI_VMAPP" | "GITS_TYPER_HI_VMOVP" | "GITS_TYPER_PLPIS"
  | "GITS_TYPER_VLPIS" | "GicrVlpiFrame" | "Gicv3" | "Gicv3CpuInterface" | "Gicv3Distributor"
  | "Gicv3HypInterface" | "Gicv3IrqAccess" | "Gicv3Redistributors" | "ICC_AP0Rn_EL1" | "ICC_AP1Rn_EL1"
  | "ICC_ASGI1R_EL1" | "ICC_BPR0_EL1" | "ICC_BPR1_EL1" | "ICC_CTLR_EL1" | "ICC_CTLR_EL1_CBPR"
  | "ICC_CTLR_EL1_EOImode_drop" | "ICC_DIR_EL1" | "ICC_EOIR0_EL1" | "ICC_EOIR1_EL1" | "ICC_HPPIR0_EL1"
  | "ICC_HPPIR1_EL1" | "ICC_IAR0_EL1" | "ICC_IAR1_EL1" | "ICC_IGRPEN0_EL1" | "ICC_IGRPEN1_EL1" | "ICC_PMR_EL1"
  | "ICC_REGISTERS" | "ICC_RPR_EL1" | "ICC_SGI0R_EL1" | "ICC_SGI1R_EL1" | "ICC_SRE_EL1" | "ICH_AP0Rn_EL2"
  | "ICH_AP1Rn_EL2" | "ICH_EISR_EL2" | "ICH_ELRSR_EL2" | "ICH_HCR_EL2" | "ICH_HCR_EL2_EOIcount_SHIFT"
  | "ICH_HCR_EL2_En" | "ICH_HCR_EL2_LRENPIE" | "ICH_HCR_EL2_NPIE" | "ICH_HCR_EL2_UIE" | "ICH_HCR_EL2_VGrp0DIE"
  | "ICH_HCR_EL2_VGrp0EIE" | "ICH_HCR_EL2_VGrp1DIE" | "ICH_HCR_EL2_VGrp1EIE" | "ICH_LR_STATE_ACTIVE"
  | "ICH_LR_STATE_INVALID" | "ICH_LR_STATE_PENDING" | "ICH_LR_STATE_PENDING_ACTIVE" | "ICH_LRn_EL2"
  | "ICH_MISR_EL2" | "ICH_MISR_EL2_EOI" | "ICH_MISR_EL2_LRENP" | "ICH_MISR_EL2_NP" | "ICH_MISR_EL2_U"
  | "ICH_MISR_EL2_VGrp0D" | "ICH_MISR_EL2_VGrp0E" | "ICH_MISR_EL2_VGrp1D" | "ICH_MISR_EL2_VGrp1E"
  | "ICH_VMCR_EL2" | "ICH_VMCR_EL2_VBPR0_SHIFT" | "ICH_VMCR_EL2_VBPR1_SHIFT" | "ICH_VMCR_EL2_VCBPR"
  | "ICH_VMCR_EL2_VENG0" | "ICH_VMCR_EL2_VENG1" | "ICH_VMCR_EL2_VEOIM" | "ICH_VMCR_EL2_VPMR_SHIFT"
  | "ICH_VTR_EL2" | "IMPLEMENTER_ARM" | "INTID_SPURIOUS" | "ITS_CMD_ERROR" | "ITS_CMD_OK" | "ITS_CMD_SIZE"
  | "ITS_CMD_STALL" | "ITS_MSI_DELIVERED" | "ITS_MSI_DELIVERED_VIRTUAL" | "ITS_MSI_DISABLED"
  | "ITS_MSI_MEMORY_FAULT" | "ITS_MSI_UNMAPPED" | "ITS_PROFILE_NAMES" | "Its" | "ItsTranslationCache"
  | "LPI_ID_BITS" | "LPI_PROP_ENABLED" | "LPI_PROP_GROUP1" | "LPI_PROP_PRIORITY_MASK" | "LpiRedistributor"
  | "MAX_LPIS" | "PRODUCT_ID_KVM" | "PriorityModel" | "SharedVlpiError" | "VlpiForwarding" | "VlpiMapError"
  | "Vpe" | "VpeTable" | "decodeLr" | "defaultAffinity" | "encodeLr" | "isIchRegister" | "itsCommand"
  | "itsCommandName" | "itsErrorCode" | "itsErrorName" | "itsProfile" | "readIch" | "writeIch"
  | "writeItsCommand";

describe("@irqlab/gic public API", () => {
  test("the value exports are exactly the pinned list", () => {
    expectTypeOf<Exclude<keyof typeof gic, ValueExports>>().toBeNever(); // exported, not pinned
    expectTypeOf<Exclude<ValueExports, keyof typeof gic>>().toBeNever(); // pinned, not exported
  });

  test("INTID ranges and frame offsets are the architecture's literals", () => {
    // IHI 0069 §2.2 (INTID ranges), §12.8 (GICD), §12.10 (GICR frames), §12.19 (GITS).
    expectTypeOf<[typeof GIC_FIRST_SPI, typeof INTID_SPURIOUS, typeof GIC_FIRST_LPI]>().toEqualTypeOf<[32, 1023, 8192]>();
    expectTypeOf<[typeof GICD_CTLR, typeof GICD_TYPER, typeof GICD_ISENABLER, typeof GICD_IROUTER]>().toEqualTypeOf<[0, 4, 0x100, 0x6000]>();
    expectTypeOf<[typeof GICR_FRAME_SIZE, typeof GICR_SGI_BASE, typeof GIC_V4_REDIST_SIZE]>().toEqualTypeOf<[0x1_0000, 0x1_0000, 0x4_0000]>();
    expectTypeOf<[typeof GITS_CBASER, typeof GITS_CWRITER, typeof GITS_TRANSLATER]>().toEqualTypeOf<[0x80, 0x88, 0x1_0040]>();
    // ITS commands are 32 bytes; MAPD is 0x08 and MAPTI 0x0a (§6.3).
    expectTypeOf<[typeof ITS_CMD_SIZE, typeof GITS_CMD_MAPD, typeof GITS_CMD_MAPTI]>().toEqualTypeOf<[32, 0x08, 0x0a]>();
    expectTypeOf<typeof GICV3_MAX_CPUS>().toEqualTypeOf<512>();
  });

  test("Gicv3: options, frames as MMIO devices, system registers and lines", () => {
    expectTypeOf<ConstructorParameters<typeof Gicv3>>().toEqualTypeOf<[options: Gicv3Options]>();
    expectTypeOf<Gicv3Options["cpus"]>().toEqualTypeOf<number>();
    expectTypeOf<Gicv3Options["profile"]>().toEqualTypeOf<Gicv3Profile | undefined>();
    expectTypeOf<Gicv3Profile>().toEqualTypeOf<"kvm" | "qemu">();
    expectTypeOf<Gicv3["distributor"]>().toEqualTypeOf<Gicv3Distributor>();
    expectTypeOf<Gicv3Distributor>().toExtend<MmioDevice>();
    expectTypeOf<Gicv3>().toExtend<LpiTarget>();
    expectTypeOf<Gicv3["readSysReg"]>().toEqualTypeOf<(pe: number, reg: number, wide?: WideValue) => number>();
    expectTypeOf<Gicv3["writeSysReg"]>().toEqualTypeOf<(pe: number, reg: number, value: number, hi?: number) => void>();
    expectTypeOf<Gicv3["quietSysReg"]>().toEqualTypeOf<(reg: number, write: boolean, value: number) => boolean>();
    expectTypeOf<Gicv3Distributor["quietReads"]>().toEqualTypeOf<true>();
    expectTypeOf<Gicv3["setSpiLevel"]>().toEqualTypeOf<(intid: number, level: boolean) => void>();
    expectTypeOf<Gicv3["setPpiLevel"]>().toEqualTypeOf<(pe: number, intid: number, level: boolean) => void>();
    expectTypeOf<PeLineCallback>().toEqualTypeOf<(pe: number, level: boolean) => void>();
    expectTypeOf<Gicv3["state"]>().returns.toEqualTypeOf<Gicv3Snapshot>();
    expectTypeOf<Gicv3Snapshot["version"]>().toEqualTypeOf<1>();
    const g = new Gicv3({ cpus: 2 });
    g.onIrq = (pe, level) => {
      expectTypeOf(pe).toEqualTypeOf<number>();
      expectTypeOf(level).toEqualTypeOf<boolean>();
    };
    // @ts-expect-error -- cpus is required
    new Gicv3({ nrIrqs: 256 });
    // @ts-expect-error -- the profiles are "kvm" and "qemu"
    new Gicv3({ cpus: 1, profile: "tcg" });
    // @ts-expect-error -- a level is a boolean, not 0/1
    g.setSpiLevel(40, 1);
  });

  test("Its: profile, target and memory; commands as eight words", () => {
    expectTypeOf<ConstructorParameters<typeof Its>>().toEqualTypeOf<[options: ItsOptions]>();
    expectTypeOf<Its>().toExtend<MmioDevice>();
    expectTypeOf<ItsOptions["profile"]>().toEqualTypeOf<ItsProfileName>();
    expectTypeOf<ItsOptions["target"]>().toEqualTypeOf<LpiTarget>();
    expectTypeOf<ItsOptions["memory"]>().toEqualTypeOf<GuestMemory>();
    expectTypeOf<ItsProfileName>().toEqualTypeOf<"linux-kvm" | "linux-kvm-6.6" | "qemu">();
    expectTypeOf(ITS_PROFILE_NAMES).toEqualTypeOf<readonly ItsProfileName[]>();
    expectTypeOf(itsProfile).toEqualTypeOf<(name: ItsProfileName) => ItsProfile>();
    expectTypeOf<Its["translate"]>().toEqualTypeOf<(deviceId: number, eventId: number) => number>();
    expectTypeOf<Its["executeCommand"]>().toEqualTypeOf<(words: ArrayLike<number>) => number>();
    expectTypeOf<typeof itsCommand.mapti>().toEqualTypeOf<(deviceId: number, eventId: number, pintid: number, icid: number) => ItsCommandWords>();
    const memory = new GuestMemory();
    const target: LpiTarget = {
      redistributorCount: 1,
      setLpiPending: () => undefined,
      clearLpiPending: () => undefined,
      isLpiPending: () => false,
      invalidateLpi: () => undefined,
      invalidateAllLpis: () => undefined,
    };
    new Its({ profile: "qemu", target, memory });
    // @ts-expect-error -- "kvm" is a Gicv3 profile; the ITS's are "linux-kvm", "linux-kvm-6.6" and "qemu"
    new Its({ profile: "kvm", target, memory });
    // @ts-expect-error -- an ITS needs the guest memory its command queue lives in
    new Its({ profile: "qemu", target });
    // @ts-expect-error -- an ITS profile is looked up by its name only
    itsProfile("linux-kvm-6.1");
  });
});
