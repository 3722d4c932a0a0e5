/**
 * The public API of @irqlab/guest as a user compiles against it: the value
 * exports, guest images and their registry, the boot layer, the firmware call
 * helpers, and misuse the types reject. A guest sees registers, memory and the
 * device tree only, so nothing here involves kvm or machine. Checked (never
 * run) by vitest's typecheck project against the built declarations, and by
 * this package's `tsc --noEmit` against the sources.
 */
import * as guest from "@irqlab/guest";
import {
  GUEST_IMAGE_PREFIX,
  boot,
  cpuOn,
  guestImages,
  helloImage,
  loadFdt,
  lookupGuestImage,
  powerOff,
  psciCall,
  putString,
  putStringKvmUnitTests,
  sbiCall,
  stormImage,
  type BootOptions,
  type BootedGuest,
  type Console,
  type CpuInfo,
  type FdtLoadResult,
  type GuestArch,
  type GuestCode,
  type GuestImage,
  type GuestImageEntry,
  type GuestImageLookup,
  type ImageOptions,
  type PlatformInfo,
  type PsciConduit,
  type SbiRet,
} from "@irqlab/guest";
import type { Fdt } from "@irqlab/fdt";
import type { GuestOp, GuestProgram, GuestResult } from "@irqlab/sim";
import { describe, expectTypeOf, test } from "vitest";

/** Every value export: adding or removing one fails here until this list is updated. */
type ValueExports =
  | "ABORT_EXIT_STATUS" | "ALL_SKIPPED_STATUS" | "AMBA_ISR_PASS_LIMIT" | "APLIC_DEFAULT_PRIORITY"
  | "APLIC_DISABLE_IDELIVERY" | "APLIC_DISABLE_ITHRESHOLD" | "APLIC_ENABLE_IDELIVERY"
  | "APLIC_ENABLE_ITHRESHOLD" | "ARCH_TIMER_CTRL_ENABLE" | "ARCH_TIMER_CTRL_IT_MASK"
  | "ARCH_TIMER_CTRL_IT_STAT" | "AplicDirectDriver" | "AplicMsiDriver" | "AplicRegs" | "BOOT_PAGE_SIZE"
  | "BakeryLock" | "CNTFRQ_EL0" | "CNTVCT_EL0" | "CNTV_CTL_EL0" | "CNTV_CVAL_EL0" | "CNTV_TVAL_EL0"
  | "CPU_HOTPLUG_COMPATIBLE" | "CPU_RELAX_NS" | "CSR_SCAUSE" | "CSR_SIE" | "CSR_SIP" | "CSR_SSCRATCH"
  | "CSR_SSTATUS" | "CSR_STIMECMP" | "CSR_TIME" | "CpuHotplugPort" | "DEFAULT_PMR_VALUE"
  | "EVT_STREAM_PERIOD_US" | "FIRMWARE_LISTEN_MS" | "GICD_INT_DEF_PRI" | "GICD_INT_DEF_PRI_X4"
  | "GIC_PIDR2_ARCH_GICv3" | "GIC_PIDR2_ARCH_GICv4" | "GIC_PIDR2_ARCH_MASK" | "GIC_SPECIAL_FIRST"
  | "GITS_LVL1_ENTRY_SIZE" | "GUEST_IMAGE_PREFIX" | "Gicv3Driver" | "HELLO_LINE" | "HOTPLUG_IPI_SGI"
  | "HYP_CALL_FID" | "ICC_CTLR_EL1_PRI_BITS_MASK" | "ICC_CTLR_EL1_RSS" | "ICC_SRE_EL1_SRE" | "IDLE_POLL_NS"
  | "IDLE_TX_LINE" | "IE_SEIE" | "IE_SSIE" | "IE_STIE" | "IMSIC_DISABLE_EIDELIVERY"
  | "IMSIC_DISABLE_EITHRESHOLD" | "IMSIC_ENABLE_EIDELIVERY" | "IMSIC_ENABLE_EITHRESHOLD" | "IMSIC_IPI_ID"
  | "IMSIC_NR_IPI" | "IPI_IRQ" | "IPI_PING" | "IPI_PONG" | "IPI_RESCHEDULE" | "IPI_SENDER" | "IRQ_M_EXT"
  | "IRQ_S_EXT" | "IRQ_S_SOFT" | "IRQ_S_TIMER" | "IRQ_TYPE_EDGE_FALLING" | "IRQ_TYPE_EDGE_RISING"
  | "IRQ_TYPE_LEVEL_HIGH" | "IRQ_TYPE_LEVEL_LOW" | "IRQ_TYPE_NONE" | "IRQ_TYPE_SENSE_MASK"
  | "ITS_CMD_QUEUE_NR_ENTRIES" | "ITS_CMD_QUEUE_SZ" | "ITS_ITT_ALIGN" | "ITS_MAX_LPI_NRBITS"
  | "ITS_POLL_DELAY_NS" | "ITS_QUEUE_POLLS" | "ImsicDriver" | "IpiMux" | "IrqTable" | "ItsCommandQueue"
  | "ItsDriver" | "ItsTables" | "KernelPages" | "KtestPrng" | "KtestReport" | "KtestSmp" | "KtestTimer"
  | "LPI_PROP_DEFAULT" | "LPI_PROP_DEFAULT_PRIO" | "LpiStats" | "LpiTables" | "MAX_FDT_SIZE"
  | "MICRO_BENCH_HEADER" | "MICRO_BENCH_TESTS" | "MPIDR_EL1" | "MPIDR_HWID_BITMASK" | "MSIX_TEST_DEVICE"
  | "MSIX_TEST_DOORBELL" | "MSIX_TEST_VENDOR" | "MsixCapability" | "ONLINE_POLL_NS" | "PANIC_TEST_MESSAGE"
  | "PCI_CAP_ID_EXP" | "PCI_CAP_ID_MSIX" | "PCI_COMMAND" | "PCI_COMMAND_MASTER" | "PCI_COMMAND_MEMORY"
  | "PCI_FIND_CAP_TTL" | "PCI_MSIX_ENTRY_CTRL_MASKBIT" | "PCI_MSIX_FLAGS_ENABLE" | "PCI_MSIX_FLAGS_MASKALL"
  | "PING_ROUNDS" | "PSCI_0_2_FN64_CPU_ON" | "PSCI_0_2_FN_CPU_OFF" | "PSCI_0_2_FN_CPU_ON"
  | "PSCI_0_2_FN_PSCI_VERSION" | "PSCI_0_2_FN_SYSTEM_OFF" | "PSCI_0_2_FN_SYSTEM_RESET" | "PSCI_RET_ALREADY_ON"
  | "PSCI_RET_DENIED" | "PSCI_RET_DISABLED" | "PSCI_RET_INTERNAL_FAILURE" | "PSCI_RET_INVALID_ADDRESS"
  | "PSCI_RET_INVALID_PARAMS" | "PSCI_RET_NOT_PRESENT" | "PSCI_RET_NOT_SUPPORTED" | "PSCI_RET_ON_PENDING"
  | "PSCI_RET_SUCCESS" | "PciConfig" | "Pl011Port" | "QEMU_MMIO_ADDR" | "RWP_POLLS"
  | "SBI_ERR_ALREADY_AVAILABLE" | "SBI_ERR_ALREADY_STARTED" | "SBI_ERR_ALREADY_STOPPED" | "SBI_ERR_DENIED"
  | "SBI_ERR_FAILED" | "SBI_ERR_INVALID_ADDRESS" | "SBI_ERR_INVALID_PARAM" | "SBI_ERR_NOT_SUPPORTED"
  | "SBI_EXT_0_1_CONSOLE_PUTCHAR" | "SBI_EXT_BASE" | "SBI_EXT_BASE_GET_IMP_ID"
  | "SBI_EXT_BASE_GET_IMP_VERSION" | "SBI_EXT_BASE_GET_SPEC_VERSION" | "SBI_EXT_BASE_PROBE_EXT"
  | "SBI_EXT_DBCN" | "SBI_EXT_DBCN_CONSOLE_WRITE_BYTE" | "SBI_EXT_HSM" | "SBI_EXT_HSM_HART_START"
  | "SBI_EXT_HSM_HART_STATUS" | "SBI_EXT_HSM_HART_STOP" | "SBI_EXT_HSM_STARTED" | "SBI_EXT_HSM_START_PENDING"
  | "SBI_EXT_HSM_STOPPED" | "SBI_EXT_HSM_STOP_PENDING" | "SBI_EXT_IPI" | "SBI_EXT_IPI_SEND_IPI"
  | "SBI_EXT_SRST" | "SBI_EXT_SRST_RESET" | "SBI_EXT_TIME" | "SBI_EXT_TIME_SET_TIMER"
  | "SBI_HART_MASK_BASE_ALL" | "SBI_IMPL_KVM" | "SBI_IMPL_OPENSBI" | "SBI_IPI_PRNG_SEED"
  | "SBI_IPI_TIMEOUT_US" | "SBI_SRST_RESET_REASON_NONE" | "SBI_SRST_RESET_REASON_SYS_FAILURE"
  | "SBI_SRST_RESET_TYPE_COLD_REBOOT" | "SBI_SRST_RESET_TYPE_SHUTDOWN" | "SBI_SRST_RESET_TYPE_WARM_REBOOT"
  | "SBI_SUCCESS" | "SECONDARY_TIMEOUT_NS" | "STORM_ROUNDS" | "STORM_ROUND_POLLS" | "SZ_64K" | "SmpArea"
  | "TPIDR_EL1" | "UARTDR" | "UARTFR" | "UARTFR_BUSY" | "UARTFR_TXFF" | "UART_LSR" | "UART_LSR_THRE"
  | "UART_PERIPH_ID0" | "UART_TX" | "ULONG_MAX" | "UnitTestReport" | "VIRTIO_NOTIFY_OFFSET"
  | "allocateBootMemory" | "bannerLine" | "barAddress" | "boot" | "bootProtocol" | "bootedLine" | "checkFdt"
  | "consoleBytes" | "cpuCount" | "cpuId" | "cpuOff" | "cpuOn" | "cpuRelax" | "delayTicks" | "eixLocation"
  | "enumeratePciBus" | "findArchTimer" | "findCpuHotplug" | "findRedistributor" | "firmwareError"
  | "firmwareLine" | "formatSize" | "gicCpuInit" | "gicCpuSysRegInit" | "gicHandleIrq" | "gicIrqVector" | "gicSendSgi"
  | "gicSendSgiBroadcast" | "gicSgiWrites" | "gicv3ActiveImage" | "gicv3IpiImage" | "guestImages" | "halt"
  | "hasSstc" | "helloImage" | "hotplugImage" | "idleImage" | "imsicCsrRead" | "imsicCsrWrite"
  | "imsicEixReadClear" | "imsicEixUpdate" | "imsicIpiImage" | "isLevelType" | "itsTriggerImage" | "loadFdt" | "loopFormImage"
  | "lookupGuestImage" | "mdelay" | "microBenchImage" | "microBenchRow" | "mpidrToTyperAffinity" | "msiMapId"
  | "nodeName" | "ns16550Write" | "onlineLine" | "openConsole" | "openSbiConsole" | "panic" | "panicEndLine"
  | "panicLine" | "panicTestImage" | "parseItsTyper" | "parsePlatformInfo" | "pciDevfn" | "pciName"
  | "perArchImage" | "pl011Write" | "powerOff" | "printBanner" | "psciCall" | "psciCpuOff" | "psciCpuOn"
  | "psciSystemOff" | "psciSystemReset" | "putLine" | "putString" | "putStringKvmUnitTests" | "rdtime" | "readCntfrq" | "readCntvct"
  | "requesterId" | "restart" | "sbiCall" | "sbiConsoleWrite" | "sbiGetImpId" | "sbiGetImpVersion"
  | "sbiHartGetStatus" | "sbiHartStart" | "sbiHartStop" | "sbiImplOpensbiVersion" | "sbiIpiImage"
  | "sbiProbeExtension" | "sbiSendIpi" | "sbiSendIpiBroadcast" | "sbiSetTimer" | "sbiSystemReset" | "setCpuId"
  | "setThisCpu" | "sha256Words" | "signedX0" | "smpHelloImage" | "sourceMode" | "stormImage" | "swab32"
  | "thisCpu" | "ticksToNsTime" | "treeArch" | "typerAffinity" | "udelay" | "unitTestExit" | "usecToCycles"
  | "virtioSharedVectorImage" | "waitForWord" | "writeCntvCtl" | "writeCntvCval";

describe("@irqlab/guest public API", () => {
  test("the value exports are exactly the pinned list", () => {
    expectTypeOf<Exclude<keyof typeof guest, ValueExports>>().toBeNever(); // exported, not pinned
    expectTypeOf<Exclude<ValueExports, keyof typeof guest>>().toBeNever(); // pinned, not exported
  });

  test("a guest image is generators of guest ops: main, an optional vector and secondary entry", () => {
    expectTypeOf<GuestImage["main"]>().toEqualTypeOf<(bootRegs: readonly number[]) => GuestProgram>();
    expectTypeOf<GuestImage["vector"]>().toEqualTypeOf<((cause: number) => GuestProgram) | undefined>();
    expectTypeOf<GuestImage["secondary"]>().toEqualTypeOf<((entry: number, context: number) => GuestProgram) | undefined>();
    expectTypeOf<GuestCode<number>>().toEqualTypeOf<Generator<GuestOp, number, GuestResult>>();
    expectTypeOf<GuestCode>().toEqualTypeOf<Generator<GuestOp, void, GuestResult>>();
    expectTypeOf<GuestArch>().toEqualTypeOf<"aarch64" | "riscv64">();
  });

  test("the image registry: by name, optionally with the irqlab: prefix, per architecture", () => {
    expectTypeOf(guestImages).toEqualTypeOf<Record<string, GuestImageEntry>>();
    expectTypeOf<GuestImageEntry["create"]>().toEqualTypeOf<() => GuestImage>();
    expectTypeOf<GuestImageEntry["arch"]>().toEqualTypeOf<GuestArch[]>();
    expectTypeOf<typeof GUEST_IMAGE_PREFIX>().toEqualTypeOf<"irqlab:">();
    expectTypeOf(lookupGuestImage).toEqualTypeOf<(spec: string, arch?: GuestArch) => GuestImageLookup>();
    const found = lookupGuestImage("irqlab:hello", "aarch64");
    if (found.ok) expectTypeOf(found.entry).toEqualTypeOf<GuestImageEntry>();
    else expectTypeOf(found.message).toEqualTypeOf<string>();
    expectTypeOf(helloImage).toEqualTypeOf<(options?: ImageOptions) => GuestImage>();
    expectTypeOf(stormImage).toEqualTypeOf<(options?: ImageOptions) => GuestImage>();
    // @ts-expect-error -- guest architectures are QEMU's target names, "aarch64" and "riscv64"
    lookupGuestImage("hello", "arm64");
    // @ts-expect-error -- the option is arch
    helloImage({ architecture: "riscv64" });
  });

  test("boot: from the boot registers to the device tree, platform and console", () => {
    expectTypeOf(boot).toEqualTypeOf<(bootRegs: readonly number[], options?: BootOptions) => GuestCode<BootedGuest>>();
    expectTypeOf<BootedGuest["fdt"]>().toEqualTypeOf<Fdt>();
    expectTypeOf<BootedGuest["platform"]>().toEqualTypeOf<PlatformInfo>();
    expectTypeOf<BootedGuest["console"]>().toEqualTypeOf<Console>();
    expectTypeOf<BootedGuest["bootCpu"]>().toEqualTypeOf<CpuInfo>();
    expectTypeOf<PlatformInfo["cpus"]>().toEqualTypeOf<readonly CpuInfo[]>();
    expectTypeOf(loadFdt).toEqualTypeOf<(address: number) => GuestCode<FdtLoadResult>>();
    expectTypeOf<Extract<FdtLoadResult, { ok: true }>["fdt"]>().toEqualTypeOf<Fdt>();
    // @ts-expect-error -- the boot registers are numbers (x0..x3 or a0/a1), not a blob
    boot(new Uint8Array(8));
  });

  test("firmware and console helpers are guest code: PSCI, SBI, power, output", () => {
    expectTypeOf(psciCall).toEqualTypeOf<(conduit: PsciConduit, fid: number, args?: readonly number[]) => GuestCode<number>>();
    expectTypeOf(sbiCall).toEqualTypeOf<(ext: number, fid: number, args?: readonly number[]) => GuestCode<SbiRet>>();
    expectTypeOf<SbiRet>().toEqualTypeOf<{ readonly error: number; readonly value: number }>();
    expectTypeOf(powerOff).toEqualTypeOf<(sys: BootedGuest) => GuestCode<never>>();
    expectTypeOf(cpuOn).toEqualTypeOf<(sys: BootedGuest, cpu: CpuInfo, entry: number, context: number) => GuestCode<number>>();
    expectTypeOf(putString).toEqualTypeOf<(console: Console, text: string) => GuestCode>();
    expectTypeOf(putStringKvmUnitTests).toEqualTypeOf<(console: Console, text: string) => GuestCode>();
    // @ts-expect-error -- the conduit is PSCI's method, "hvc" or "smc"
    psciCall({ method: "svc" }, 0x8400_0000);
  });
});
