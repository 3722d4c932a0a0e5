/**
 * @irqlab/guest — guest software for irqlab machines. It sees what a real
 * guest sees and nothing more: registers, memory and the device tree
 * (DESIGN.md, "Guest execution"), and it imports only @irqlab/sim (the
 * guest-operation protocol) and @irqlab/fdt (the device tree reader).
 *
 * - Boot layer: {@link boot} reads the device tree blob from RAM at the
 *   address the boot registers give, parses it and collects a
 *   {@link PlatformInfo} (memory, CPUs, GICv3 + ITS or APLIC + IMSIC, PCIe
 *   hosts, the stdout-path console, PSCI) the way Linux finds them; a missing
 *   or malformed node is a guest {@link panic}, never a JavaScript exception.
 * - Consoles: PL011, NS16550A and the SBI debug console ({@link putString});
 *   the PL011 driven by its interrupt as Linux's tty driver does
 *   ({@link Pl011Port}).
 * - Power: PSCI (SYSTEM_OFF, SYSTEM_RESET, CPU_ON, CPU_OFF) and SBI (SRST,
 *   HSM hart_start / hart_stop), and arch-neutral {@link powerOff} /
 *   {@link cpuOn}.
 * - Images: `hello`, `smp-hello` and `panic-test`, by name in
 *   {@link guestImages} for `-kernel irqlab:NAME`.
 * - RISC-V interrupt drivers as Linux's: {@link ImsicDriver} (IMSIC files
 *   through siselect/sireg, the stopei claim loop, IPIs as MSIs),
 *   {@link AplicMsiDriver} and {@link AplicDirectDriver}; SBI IPI and TIME;
 *   the riscv64 images `sbi-ipi` (kvm-unit-tests' SBI IPI tests) and
 *   `imsic-ipi`.
 * - GICv3 ITS, PCI and MSI-X: {@link ItsDriver} (tables, command queue,
 *   per-CPU LPIs, devices and LPIs), {@link enumeratePciBus},
 *   {@link MsixCapability}, {@link msiMapId}; the `its-trigger`,
 *   `virtio-shared-vector` and `storm` images.
 * - GICv3 driver as Linux's irq-gic-v3.c: {@link Gicv3Driver} (distributor,
 *   redistributor discovery, per-interrupt operations), {@link gicCpuInit},
 *   {@link gicSendSgi}, {@link gicHandleIrq} (as a vector: {@link gicIrqVector}); the Generic Timer counter
 *   ({@link readCntvct}, {@link mdelay}); the arm64 images `gicv3-ipi`,
 *   `gicv3-active` and `micro-bench` (kvm-unit-tests' output and exit).
 * - Images for both architectures on these drivers: `idle` (the UART's
 *   interrupt and IPIs waking idle CPUs) and `storm` (MSI-X through the ITS
 *   or into the IMSIC files).
 *
 * @packageDocumentation
 */

// ---- Images and their type ----
export type { GuestArch, GuestCode, GuestImage } from "./guest-image.js";
export { loopFormImage } from "./guest-image.js";
export {
  guestImages,
  lookupGuestImage,
  GUEST_IMAGE_PREFIX,
  type GuestImageEntry,
  type GuestImageLookup,
} from "./images/registry.js";
export { helloImage, HELLO_LINE } from "./images/hello.js";
export { smpHelloImage, onlineLine, SmpArea, SECONDARY_TIMEOUT_NS, ONLINE_POLL_NS } from "./images/smp-hello.js";
export { panicTestImage, PANIC_TEST_MESSAGE, type PanicTestOptions } from "./images/panic-test.js";
export { hotplugImage, bootedLine, HOTPLUG_IPI_SGI } from "./images/hotplug.js";
export { findCpuHotplug, CpuHotplugPort, CPU_HOTPLUG_COMPATIBLE, type CpuHotplugInfo, type CpuHotplugEvent } from "./images/hotplug-cpuhp.js";
export { bannerLine, printBanner, formatSize, cpuCount, perArchImage, waitForWord, type ImageOptions } from "./images/image-common.js";
export { gicv3IpiImage, gicv3ActiveImage, IPI_SENDER, IPI_IRQ } from "./images/gicv3-ipi.js";
export {
  microBenchImage,
  microBenchRow,
  ticksToNsTime,
  MICRO_BENCH_HEADER,
  MICRO_BENCH_TESTS,
  QEMU_MMIO_ADDR,
  UART_PERIPH_ID0,
  HYP_CALL_FID,
  type MicroBenchOptions,
  type MicroBenchTest,
} from "./images/micro-bench.js";
export { UnitTestReport, unitTestExit, ABORT_EXIT_STATUS, ALL_SKIPPED_STATUS } from "./images/unit-test-report.js";

// ---- arm64 GICv3 driver and counter ----
export { IrqTable, type IrqAction, type IrqHandler } from "./irq/irq-table.js";
export {
  Gicv3Driver,
  mpidrToTyperAffinity,
  GICD_INT_DEF_PRI,
  GICD_INT_DEF_PRI_X4,
  GIC_PIDR2_ARCH_MASK,
  GIC_PIDR2_ARCH_GICv3,
  GIC_PIDR2_ARCH_GICv4,
  GIC_SPECIAL_FIRST,
  RWP_POLLS,
  type RedistributorSlot,
} from "./arm/gicv3-driver.js";
export {
  gicCpuInit,
  gicCpuSysRegInit,
  gicSendSgi,
  gicSgiWrites,
  gicSendSgiBroadcast,
  gicHandleIrq,
  gicIrqVector,
  DEFAULT_PMR_VALUE,
  ICC_SRE_EL1_SRE,
  ICC_CTLR_EL1_PRI_BITS_MASK,
  ICC_CTLR_EL1_RSS,
} from "./arm/gicv3-cpu.js";
export {
  CNTFRQ_EL0,
  CNTVCT_EL0,
  TPIDR_EL1,
  CNTV_CTL_EL0,
  CNTV_CVAL_EL0,
  CNTV_TVAL_EL0,
  ARCH_TIMER_CTRL_ENABLE,
  ARCH_TIMER_CTRL_IT_MASK,
  ARCH_TIMER_CTRL_IT_STAT,
  writeCntvCval,
  writeCntvCtl,
  EVT_STREAM_PERIOD_US,
  readCntfrq,
  readCntvct,
  delayTicks,
  udelay,
  mdelay,
  setCpuId,
  cpuId,
} from "./arm/arm-timer.js";

// ---- Boot layer ----
export { boot, bootProtocol, type BootOptions, type BootedGuest, type BootProtocol } from "./boot/boot.js";
export { loadFdt, checkFdt, swab32, MAX_FDT_SIZE, type FdtLoadResult } from "./boot/fdt-load.js";
export {
  parsePlatformInfo,
  treeArch,
  type PlatformParseContext,
  type PlatformParseResult,
} from "./boot/platform-parse.js";
export type {
  PlatformInfo,
  Region,
  InterruptSpec,
  CpuInfo,
  UartInfo,
  Pl011Info,
  Ns16550Info,
  PsciInfo,
  Gicv3Info,
  ArchTimerInfo,
  ItsInfo,
  AiaLevel,
  ImsicInfo,
  AplicInfo,
  PcieHostInfo,
  PciRange,
  MsiMapEntry,
} from "./boot/platform-info.js";
export { MPIDR_HWID_BITMASK } from "./boot/dt-memory-cpus.js";
export { findArchTimer } from "./boot/dt-timer.js";
export { IRQ_S_EXT, IRQ_M_EXT } from "./boot/dt-irqchips.js";
export { allocateBootMemory, BOOT_PAGE_SIZE } from "./boot/boot-memory.js";
export { panic, halt, panicLine, panicEndLine, type PanicTarget } from "./boot/panic.js";

// ---- Consoles ----
export { putString, putStringKvmUnitTests, putLine, openConsole, consoleBytes, type Console } from "./console/console.js";
export { pl011Write, UARTDR, UARTFR, UARTFR_BUSY, UARTFR_TXFF } from "./console/pl011.js";
export { Pl011Port, AMBA_ISR_PASS_LIMIT, type Pl011Xmit } from "./console/pl011-port.js";
export { ns16550Write, UART_TX, UART_LSR, UART_LSR_THRE } from "./console/ns16550a.js";
export { openSbiConsole, sbiConsoleWrite, type SbiConsole } from "./console/sbi-console.js";

// ---- Power and CPU control ----
export { powerOff, restart, cpuOn, cpuOff, firmwareError } from "./power/power.js";
export {
  psciCall,
  psciCpuOn,
  psciCpuOff,
  psciSystemOff,
  psciSystemReset,
  signedX0,
  PSCI_0_2_FN_PSCI_VERSION,
  PSCI_0_2_FN_CPU_OFF,
  PSCI_0_2_FN_CPU_ON,
  PSCI_0_2_FN64_CPU_ON,
  PSCI_0_2_FN_SYSTEM_OFF,
  PSCI_0_2_FN_SYSTEM_RESET,
  PSCI_RET_SUCCESS,
  PSCI_RET_NOT_SUPPORTED,
  PSCI_RET_INVALID_PARAMS,
  PSCI_RET_DENIED,
  PSCI_RET_ALREADY_ON,
  PSCI_RET_ON_PENDING,
  PSCI_RET_INTERNAL_FAILURE,
  PSCI_RET_NOT_PRESENT,
  PSCI_RET_DISABLED,
  PSCI_RET_INVALID_ADDRESS,
  type PsciConduit,
} from "./power/psci.js";
export {
  sbiCall,
  sbiProbeExtension,
  sbiSystemReset,
  sbiHartStart,
  sbiHartStop,
  SBI_EXT_0_1_CONSOLE_PUTCHAR,
  SBI_EXT_BASE,
  SBI_EXT_BASE_PROBE_EXT,
  SBI_EXT_HSM,
  SBI_EXT_HSM_HART_START,
  SBI_EXT_HSM_HART_STOP,
  SBI_EXT_HSM_HART_STATUS,
  SBI_EXT_SRST,
  SBI_EXT_SRST_RESET,
  SBI_SRST_RESET_TYPE_SHUTDOWN,
  SBI_SRST_RESET_TYPE_COLD_REBOOT,
  SBI_SRST_RESET_TYPE_WARM_REBOOT,
  SBI_SRST_RESET_REASON_NONE,
  SBI_SRST_RESET_REASON_SYS_FAILURE,
  SBI_EXT_DBCN,
  SBI_EXT_DBCN_CONSOLE_WRITE_BYTE,
  SBI_SUCCESS,
  SBI_ERR_FAILED,
  SBI_ERR_NOT_SUPPORTED,
  SBI_ERR_INVALID_PARAM,
  SBI_ERR_DENIED,
  SBI_ERR_INVALID_ADDRESS,
  SBI_ERR_ALREADY_AVAILABLE,
  SBI_ERR_ALREADY_STARTED,
  SBI_ERR_ALREADY_STOPPED,
  type SbiRet,
} from "./power/sbi.js";

// ---- Small pieces images build on ----
export { BakeryLock } from "./sync/bakery-lock.js";
export { cpuRelax, CPU_RELAX_NS, MPIDR_EL1 } from "./cpu.js";

// ---- GICv3 ITS driver (LPIs) ----
export { itsTriggerImage, LpiStats } from "./images/its-trigger.js";
export { stormImage, STORM_ROUNDS, STORM_ROUND_POLLS, MSIX_TEST_VENDOR, MSIX_TEST_DEVICE, MSIX_TEST_DOORBELL } from "./images/storm.js";
export { virtioSharedVectorImage, firmwareLine, VIRTIO_NOTIFY_OFFSET, FIRMWARE_LISTEN_MS } from "./images/virtio-shared-vector.js";
export {
  ItsDriver,
  parseItsTyper,
  ITS_ITT_ALIGN,
  type ItsTyper,
  type ItsDevice,
  type ItsCollection,
  type ItsProbeResult,
} from "./arm/its-driver.js";
export { ItsCommandQueue, ITS_CMD_QUEUE_SZ, ITS_CMD_QUEUE_NR_ENTRIES, ITS_QUEUE_POLLS, ITS_POLL_DELAY_NS } from "./arm/its-command-queue.js";
export { ItsTables, GITS_LVL1_ENTRY_SIZE, type ItsBaserTable } from "./arm/its-tables.js";
export { LpiTables, ITS_MAX_LPI_NRBITS, LPI_PROP_DEFAULT_PRIO, LPI_PROP_DEFAULT, type LpiEnableError } from "./arm/its-lpi-tables.js";
export { KernelPages, SZ_64K } from "./arm/its-pages.js";
export { findRedistributor, typerAffinity, type RedistributorInfo } from "./arm/its-redistributor.js";

// ---- PCI: ECAM enumeration, MSI-X, msi-map ----
export {
  PciConfig,
  pciDevfn,
  pciName,
  requesterId,
  PCI_COMMAND,
  PCI_COMMAND_MEMORY,
  PCI_COMMAND_MASTER,
  PCI_CAP_ID_MSIX,
  PCI_CAP_ID_EXP,
  PCI_FIND_CAP_TTL,
  type PciAddress,
} from "./pci/pci-config.js";
export { enumeratePciBus, barAddress, type PciBar, type PciFunctionInfo, type PciEnumeration } from "./pci/pci-enumerate.js";
export {
  MsixCapability,
  PCI_MSIX_FLAGS_ENABLE,
  PCI_MSIX_FLAGS_MASKALL,
  PCI_MSIX_ENTRY_CTRL_MASKBIT,
  type MsiMessage,
} from "./pci/pci-msix.js";
export { msiMapId, type MsiTarget } from "./pci/msi-map.js";

// ---- RISC-V: IMSIC and APLIC drivers, SBI IPI/TIME, kvm-unit-tests pieces ----
export {
  ImsicDriver,
  nodeName,
  IMSIC_IPI_ID,
  IMSIC_NR_IPI,
  IMSIC_ENABLE_EIDELIVERY,
  IMSIC_DISABLE_EIDELIVERY,
  IMSIC_ENABLE_EITHRESHOLD,
  IMSIC_DISABLE_EITHRESHOLD,
  type ImsicVector,
  type ImsicSetup,
} from "./riscv/imsic-driver.js";
export { imsicCsrWrite, imsicCsrRead, imsicEixUpdate, imsicEixReadClear, eixLocation } from "./riscv/imsic-csr.js";
export {
  AplicRegs,
  sourceMode,
  isLevelType,
  APLIC_DEFAULT_PRIORITY,
  IRQ_TYPE_NONE,
  IRQ_TYPE_EDGE_RISING,
  IRQ_TYPE_EDGE_FALLING,
  IRQ_TYPE_LEVEL_HIGH,
  IRQ_TYPE_LEVEL_LOW,
  IRQ_TYPE_SENSE_MASK,
} from "./riscv/aplic-driver.js";
export { AplicDirectDriver, APLIC_ENABLE_IDELIVERY, APLIC_DISABLE_IDELIVERY, APLIC_ENABLE_ITHRESHOLD, APLIC_DISABLE_ITHRESHOLD } from "./riscv/aplic-direct.js";
export { AplicMsiDriver, type AplicMsiCfg, type AplicMsiSetup } from "./riscv/aplic-msi.js";
export {
  CSR_SSTATUS,
  CSR_SIE,
  CSR_SSCRATCH,
  CSR_SCAUSE,
  CSR_SIP,
  CSR_TIME,
  IRQ_S_SOFT,
  IRQ_S_TIMER,
  IE_SSIE,
  IE_STIE,
  IE_SEIE,
  ULONG_MAX,
  rdtime,
  usecToCycles,
  setThisCpu,
  thisCpu,
} from "./riscv/hart-csr.js";
export {
  sbiSendIpi,
  sbiSendIpiBroadcast,
  sbiSetTimer,
  sbiGetImpId,
  sbiGetImpVersion,
  sbiHartGetStatus,
  sbiImplOpensbiVersion,
  SBI_EXT_IPI,
  SBI_EXT_IPI_SEND_IPI,
  SBI_EXT_TIME,
  SBI_EXT_TIME_SET_TIMER,
  SBI_EXT_BASE_GET_SPEC_VERSION,
  SBI_EXT_BASE_GET_IMP_ID,
  SBI_EXT_BASE_GET_IMP_VERSION,
  SBI_IMPL_OPENSBI,
  SBI_IMPL_KVM,
  SBI_EXT_HSM_STARTED,
  SBI_EXT_HSM_STOPPED,
  SBI_EXT_HSM_START_PENDING,
  SBI_EXT_HSM_STOP_PENDING,
  SBI_HART_MASK_BASE_ALL,
} from "./riscv/sbi-ipi-time.js";
export { KtestReport } from "./boot/ktest-report.js";
export { KtestPrng, sha256Words } from "./riscv/ktest-prng.js";
export { KtestSmp, IDLE_POLL_NS, type OnCpuFunc } from "./riscv/ktest-smp.js";
export { KtestTimer, hasSstc, CSR_STIMECMP } from "./riscv/ktest-timer.js";
export { sbiIpiImage, SBI_IPI_TIMEOUT_US, SBI_IPI_PRNG_SEED } from "./images/sbi-ipi.js";
export { IpiMux, type IpiHandler } from "./riscv/ipi-mux.js";
export { imsicIpiImage, PING_ROUNDS, IPI_PING, IPI_PONG } from "./images/imsic-ipi.js";
export { idleImage, IDLE_TX_LINE } from "./images/idle.js";
export { IPI_RESCHEDULE } from "./images/idle-common.js";
