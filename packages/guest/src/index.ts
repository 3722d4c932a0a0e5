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
 * - Consoles: PL011, NS16550A and the SBI debug console ({@link putString}).
 * - Power: PSCI (SYSTEM_OFF, SYSTEM_RESET, CPU_ON, CPU_OFF) and SBI (SRST,
 *   HSM hart_start / hart_stop), and arch-neutral {@link powerOff} /
 *   {@link cpuOn}.
 * - Images: `hello`, `smp-hello` and `panic-test`, by name in
 *   {@link guestImages} for `-kernel irqlab:NAME`.
 *
 * @packageDocumentation
 */

// ---- Images and their type ----
export type { GuestArch, GuestCode, GuestImage } from "./guest-image.js";
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
export { bannerLine, printBanner, formatSize, cpuCount, type ImageOptions } from "./images/image-common.js";

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
  ItsInfo,
  AiaLevel,
  ImsicInfo,
  AplicInfo,
  PcieHostInfo,
  PciRange,
  MsiMapEntry,
} from "./boot/platform-info.js";
export { MPIDR_HWID_BITMASK } from "./boot/dt-memory-cpus.js";
export { IRQ_S_EXT, IRQ_M_EXT } from "./boot/dt-irqchips.js";
export { allocateBootMemory, BOOT_PAGE_SIZE } from "./boot/boot-memory.js";
export { panic, halt, panicLine, panicEndLine, type PanicTarget } from "./boot/panic.js";

// ---- Consoles ----
export { putString, putLine, openConsole, consoleBytes, type Console } from "./console/console.js";
export { pl011Write, UARTDR, UARTFR, UARTFR_BUSY, UARTFR_TXFF } from "./console/pl011.js";
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
