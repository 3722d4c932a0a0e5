/**
 * The public API of @irqlab/aia as a user compiles against it: the value
 * exports, the IMSIC and APLIC entry points and their options, register
 * numbers of the AIA specification, and misuse the types reject. Checked
 * (never run) by vitest's typecheck project against the built declarations,
 * and by this package's `tsc --noEmit` against the sources.
 */
import * as aia from "@irqlab/aia";
import {
  APLIC_DOMAINCFG,
  APLIC_GENMSI,
  APLIC_IDC_BASE,
  APLIC_SETIPNUM,
  APLIC_SOURCECFG_BASE,
  APLIC_TARGET_BASE,
  Aplic,
  CSR_HGEIP,
  CSR_STOPEI,
  CSR_VSTOPEI,
  ISELECT_EIDELIVERY,
  ISELECT_EITHRESHOLD,
  ImsicFile,
  ImsicHart,
  ImsicLayout,
  aiaProfile,
  type AiaProfile,
  type AiaProfileName,
  type AplicConfig,
  type AplicDomain,
  type AplicDomainConfig,
  type AplicLevel,
  type ImsicFileOptions,
  type ImsicHartOptions,
  type ImsicLayoutConfig,
  type IregStatus,
  type IregValue,
  type MsiAddrCfg,
  type Xlen,
} from "@irqlab/aia";
import { MmioBus, type MmioDevice } from "@irqlab/sim";
import { describe, expectTypeOf, test } from "vitest";

/** Every value export: adding or removing one fails here until this list is updated. */
type ValueExports =
  | "APLIC_CLRIENUM" | "APLIC_CLRIE_BASE" | "APLIC_CLRIPNUM" | "APLIC_DOMAINCFG" | "APLIC_DOMAINCFG_BE"
  | "APLIC_DOMAINCFG_DM" | "APLIC_DOMAINCFG_IE" | "APLIC_DOMAINCFG_RDONLY" | "APLIC_GENMSI"
  | "APLIC_GENMSI_BUSY" | "APLIC_IDC_BASE" | "APLIC_IDC_CLAIMI" | "APLIC_IDC_IDELIVERY" | "APLIC_IDC_IFORCE"
  | "APLIC_IDC_ITHRESHOLD" | "APLIC_IDC_SIZE" | "APLIC_IDC_TOPI" | "APLIC_IN_CLRIP_BASE" | "APLIC_MAX_HARTS"
  | "APLIC_MAX_SOURCES" | "APLIC_MMSIADDRCFG" | "APLIC_MMSIADDRCFGH" | "APLIC_MMSIADDRCFGH_MASK"
  | "APLIC_SETIENUM" | "APLIC_SETIE_BASE" | "APLIC_SETIPNUM" | "APLIC_SETIPNUM_BE" | "APLIC_SETIPNUM_LE"
  | "APLIC_SETIP_BASE" | "APLIC_SMSIADDRCFG" | "APLIC_SMSIADDRCFGH" | "APLIC_SMSIADDRCFGH_MASK"
  | "APLIC_SM_DETACHED" | "APLIC_SM_EDGE_FALL" | "APLIC_SM_EDGE_RISE" | "APLIC_SM_INACTIVE"
  | "APLIC_SM_LEVEL_HIGH" | "APLIC_SM_LEVEL_LOW" | "APLIC_SOURCECFG_BASE" | "APLIC_SOURCECFG_CHILDIDX_MASK"
  | "APLIC_SOURCECFG_D" | "APLIC_SOURCECFG_SM_MASK" | "APLIC_TARGET_BASE" | "APLIC_TARGET_EIID_MASK"
  | "APLIC_TARGET_GUEST_MASK" | "APLIC_TARGET_GUEST_SHIFT" | "APLIC_TARGET_HART_MASK"
  | "APLIC_TARGET_HART_SHIFT" | "APLIC_TARGET_IPRIO_MASK" | "APLIC_TOPI_ID_SHIFT"
  | "APLIC_xMSICFGADDRH_BAPPN_MASK" | "APLIC_xMSICFGADDRH_HHXS_SHIFT" | "APLIC_xMSICFGADDRH_HHXW_SHIFT"
  | "APLIC_xMSICFGADDRH_L" | "APLIC_xMSICFGADDRH_LHXS_SHIFT" | "APLIC_xMSICFGADDRH_LHXW_SHIFT" | "Aplic"
  | "AplicDomain" | "AplicIdcs" | "AplicMsi" | "AplicSources" | "CSR_HGEIE" | "CSR_HGEIP" | "CSR_HSTATUS"
  | "CSR_HVICTL" | "CSR_MIREG" | "CSR_MISELECT" | "CSR_MTOPEI" | "CSR_MTOPI" | "CSR_SIREG" | "CSR_SISELECT"
  | "CSR_STOPEI" | "CSR_STOPI" | "CSR_VSIREG" | "CSR_VSISELECT" | "CSR_VSTOPEI" | "CSR_VSTOPI"
  | "EIDELIVERY_APLIC" | "EIDELIVERY_OFF" | "EIDELIVERY_ON" | "GEILEN_MAX_RV32" | "GEILEN_MAX_RV64"
  | "HSTATUS_VGEIN_MASK" | "HSTATUS_VGEIN_SHIFT" | "IDC_RESERVED" | "IMSIC_ISELECT_FIRST"
  | "IMSIC_ISELECT_LAST" | "IMSIC_MAX_EIX32" | "IMSIC_MAX_ID" | "IMSIC_MIN_ID" | "IMSIC_MMIO_PAGE_SHIFT"
  | "IMSIC_MMIO_PAGE_SIZE" | "IMSIC_SETEIPNUM_BE" | "IMSIC_SETEIPNUM_LE" | "IREG_EXIT_TO_USER"
  | "IREG_ILLEGAL" | "IREG_OK" | "IRQ_M_EXT" | "IRQ_S_EXT" | "IRQ_S_GEXT" | "IRQ_VS_EXT"
  | "ISELECT_EIDELIVERY" | "ISELECT_EIE0" | "ISELECT_EIE63" | "ISELECT_EIP0" | "ISELECT_EIP63"
  | "ISELECT_EITHRESHOLD" | "ImsicFile" | "ImsicHart" | "ImsicLayout" | "LINUX_KVM_PROFILE" | "QEMU_PROFILE"
  | "STRICT_PROFILE" | "TOPEI_ID_MASK" | "TOPEI_ID_SHIFT" | "aiaProfile" | "aiaProfiles" | "aplicNumOp"
  | "aplicRegionSize" | "iregCheck" | "iregRead" | "iregRmw" | "iregWrite" | "isActiveMode" | "isLevelMode"
  | "isValidNrIds" | "minSHartShift" | "mmioRead" | "mmioWrite" | "rectify" | "sourcecfgValue" | "swab32"
  | "targetValue";

describe("@irqlab/aia public API", () => {
  test("the value exports are exactly the pinned list", () => {
    expectTypeOf<Exclude<keyof typeof aia, ValueExports>>().toBeNever(); // exported, not pinned
    expectTypeOf<Exclude<ValueExports, keyof typeof aia>>().toBeNever(); // pinned, not exported
  });

  test("register numbers are the AIA specification's literals", () => {
    // APLIC register map (AIA 1.0 §4.5): domaincfg, sourcecfg[1], setipnum, genmsi, target[1], IDCs.
    expectTypeOf<[typeof APLIC_DOMAINCFG, typeof APLIC_SOURCECFG_BASE, typeof APLIC_SETIPNUM]>().toEqualTypeOf<[0, 4, 0x1cdc]>();
    expectTypeOf<[typeof APLIC_GENMSI, typeof APLIC_TARGET_BASE, typeof APLIC_IDC_BASE]>().toEqualTypeOf<[0x3000, 0x3004, 0x4000]>();
    // IMSIC indirect registers (§3.8) and the CSRs that reach them (§2.3, hgeip of the H extension).
    expectTypeOf<[typeof ISELECT_EIDELIVERY, typeof ISELECT_EITHRESHOLD]>().toEqualTypeOf<[0x70, 0x72]>();
    expectTypeOf<[typeof CSR_STOPEI, typeof CSR_VSTOPEI, typeof CSR_HGEIP]>().toEqualTypeOf<[0x15c, 0x25c, 0xe12]>();
    expectTypeOf<IregStatus>().toEqualTypeOf<0 | 1 | 2>();
    expectTypeOf<Xlen>().toEqualTypeOf<32 | 64>();
  });

  test("ImsicFile: an MMIO device with identities, topei and the indirect registers", () => {
    expectTypeOf<ImsicFile>().toExtend<MmioDevice>();
    expectTypeOf<ConstructorParameters<typeof ImsicFile>>().toEqualTypeOf<[options: ImsicFileOptions]>();
    expectTypeOf<ImsicFileOptions["nrIds"]>().toEqualTypeOf<number>();
    expectTypeOf<ImsicFile["setEnabled"]>().toEqualTypeOf<(id: number, on: boolean) => void>();
    expectTypeOf<ImsicFile["setPending"]>().toEqualTypeOf<(id: number) => boolean>();
    expectTypeOf<ImsicFile["swapTopei"]>().toEqualTypeOf<() => number>();
    expectTypeOf<ImsicFile["readIreg"]>().toEqualTypeOf<(isel: number, xlen: Xlen, out: IregValue) => IregStatus>();
    expectTypeOf<ImsicFile["writeIreg"]>().toEqualTypeOf<(isel: number, xlen: Xlen, lo: number, hi: number) => IregStatus>();
    // @ts-expect-error -- nrIds is required: a file has 63..2047 identities
    new ImsicFile({ name: "vs1" });
    // @ts-expect-error -- XLEN is 32 or 64
    new ImsicFile({ nrIds: 63 }).writeIreg(ISELECT_EIDELIVERY, 128, 1, 0);
  });

  test("ImsicHart and ImsicLayout: per-hart files, hgeip lines and the address layout", () => {
    expectTypeOf<ConstructorParameters<typeof ImsicHart>>().toEqualTypeOf<[o: ImsicHartOptions]>();
    expectTypeOf<ImsicHart["guestFile"]>().toEqualTypeOf<(guest: number) => ImsicFile>();
    expectTypeOf<ImsicHart["vsFile"]>().toEqualTypeOf<(vgein: number) => ImsicFile | undefined>();
    expectTypeOf<ImsicHart["mapInto"]>().toEqualTypeOf<(bus: MmioBus, layout: ImsicLayout, group: number, hart: number, prefix?: string) => void>();
    expectTypeOf<NonNullable<ImsicHartOptions["lines"]>["hgeip"]>().toEqualTypeOf<((guest: number, asserted: boolean) => void) | undefined>();
    expectTypeOf<ConstructorParameters<typeof ImsicLayout>>().toEqualTypeOf<[c: ImsicLayoutConfig]>();
    expectTypeOf<ImsicLayout["sFileAddress"]>().toEqualTypeOf<(group: number, hart: number, guest?: number) => number>();
    expectTypeOf<ImsicLayout["toMsiAddrCfg"]>().returns.toEqualTypeOf<MsiAddrCfg>();
    // @ts-expect-error -- the layout's bases are mBase and sBase (the specification's A and B)
    new ImsicLayout({ base: 0x2400_0000, hartBits: 0 });
  });

  test("Aplic: domains by name and level, wires, MSI delivery over a bus", () => {
    expectTypeOf<ConstructorParameters<typeof Aplic>>().toEqualTypeOf<[cfg: AplicConfig]>();
    expectTypeOf<AplicLevel>().toEqualTypeOf<"m" | "s">();
    expectTypeOf<AplicDomainConfig["level"]>().toEqualTypeOf<AplicLevel>();
    expectTypeOf<AplicConfig["msi"]>().toEqualTypeOf<{ readonly bus: MmioBus; readonly addrCfg?: MsiAddrCfg } | undefined>();
    expectTypeOf<Aplic["domain"]>().toEqualTypeOf<(name: string) => AplicDomain>();
    expectTypeOf<Aplic["mapDomain"]>().toEqualTypeOf<(bus: MmioBus, name: string, base: number) => void>();
    expectTypeOf<Aplic["setWire"]>().toEqualTypeOf<(source: number, level: boolean | number) => void>();
    // @ts-expect-error -- a domain's privilege level is "m" or "s"
    new Aplic({ nrSources: 8, domains: [{ name: "m", level: "machine", harts: 1 }] });
    // @ts-expect-error -- the option is nrSources
    new Aplic({ sources: 8, domains: [{ name: "m", level: "m", harts: 1 }] });
    new Aplic({ nrSources: 8, domains: [{ name: "m", level: "m", harts: 1 }], msi: { bus: new MmioBus() } });
  });

  test("compatibility profiles: strict, linux-kvm and qemu", () => {
    expectTypeOf<AiaProfileName>().toEqualTypeOf<"strict" | "linux-kvm" | "qemu">();
    expectTypeOf(aiaProfile).toEqualTypeOf<(name: string) => AiaProfile>();
    expectTypeOf<AiaProfile["imsicReservedIsel"]>().toEqualTypeOf<"raz-wi" | "illegal" | "exit-to-user">();
  });
});
