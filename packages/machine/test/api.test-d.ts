/**
 * The public API of @irqlab/machine as a user compiles against it: the value
 * exports, Machine.create and its options, QEMU's command-line parser and its
 * error, run states and QMP events, and misuse the types reject. Checked
 * (never run) by vitest's typecheck project against the built declarations,
 * and by this package's `tsc --noEmit` against the sources.
 */
import * as machine from "@irqlab/machine";
import {
  Machine,
  MachineHost,
  QemuOptionError,
  parseSystemCommandLine,
  runStateTransitionAllowed,
  type DevicePlug,
  type MachineArch,
  type MachineConfig,
  type MachineCpu,
  type MachineEvent,
  type MachineEventListener,
  type MachineHostOptions,
  type MachineOptions,
  type MachineRunEnd,
  type ParseOptions,
  type QemuDiagnostic,
  type RunOptions,
  type RunState,
  type ShutdownCause,
  type SystemCommandLine,
} from "@irqlab/machine";
import type { GuestImage, Vcpu } from "@irqlab/kvm";
import { IrqlabError, op } from "@irqlab/sim";
import { describe, expectTypeOf, test } from "vitest";

/** Every value export: adding or removing one fails here until this list is updated. */
type ValueExports =
  | "ACPI_CPU_CMD_DATA2_OFFSET_R" | "ACPI_CPU_CMD_DATA_OFFSET_RW" | "ACPI_CPU_CMD_OFFSET_WR"
  | "ACPI_CPU_FLAGS_OFFSET_RW" | "ACPI_CPU_HOTPLUG_REG_LEN" | "ACPI_CPU_SELECTOR_OFFSET_WR"
  | "ACPI_GED_CPU_HOTPLUG_EVT" | "ACPI_GED_EVT_SEL_LEN" | "ACPI_GED_EVT_SEL_OFFSET"
  | "ACPI_GED_MEM_HOTPLUG_EVT" | "ACPI_GED_NVDIMM_HOTPLUG_EVT" | "ACPI_GED_PWR_DOWN_EVT"
  | "ACPI_NOTIFY_DEVICE_CHECK" | "ACPI_NOTIFY_EJECT_REQUEST" | "ACPI_OST_EC_OSPM_EJECT"
  | "ACPI_OST_EC_OSPM_INSERTION" | "ACPI_OST_SC_DEVICE_BUSY" | "ACPI_OST_SC_EJECT_IN_PROGRESS"
  | "ACPI_OST_SC_EJECT_NOT_SUPPORTED" | "ACPI_OST_SC_NON_SPECIFIC_FAILURE" | "ACPI_OST_SC_SUCCESS"
  | "APLIC_MIN_SIZE" | "ARCH_GIC_MAINT_IRQ" | "ARCH_TIMER_NS_EL1_IRQ" | "ARCH_TIMER_NS_EL2_IRQ"
  | "ARCH_TIMER_NS_EL2_VIRT_IRQ" | "ARCH_TIMER_S_EL1_IRQ" | "ARCH_TIMER_VIRT_IRQ" | "ARM_VIRT_ACPI_GED"
  | "ARM_VIRT_APB_PCLK_HZ" | "ARM_VIRT_CPUPERIPHS" | "ARM_VIRT_CXL_HOST_SIZE" | "ARM_VIRT_FLASH"
  | "ARM_VIRT_FW_CFG" | "ARM_VIRT_GIC_CPU" | "ARM_VIRT_GIC_DIST" | "ARM_VIRT_GIC_HYP" | "ARM_VIRT_GIC_ITS"
  | "ARM_VIRT_GIC_REDIST" | "ARM_VIRT_GIC_V2M" | "ARM_VIRT_GIC_VCPU" | "ARM_VIRT_GPIO"
  | "ARM_VIRT_HIGH_GIC_REDIST2_SIZE" | "ARM_VIRT_HIGH_IO_FLOOR" | "ARM_VIRT_HIGH_PCIE_ECAM_SIZE"
  | "ARM_VIRT_HIGH_PCIE_MMIO_SIZE" | "ARM_VIRT_IRQ_ACPI_GED" | "ARM_VIRT_IRQ_GIC_V2M" | "ARM_VIRT_IRQ_GPIO"
  | "ARM_VIRT_IRQ_GWDT_WS0" | "ARM_VIRT_IRQ_MMIO" | "ARM_VIRT_IRQ_PCIE" | "ARM_VIRT_IRQ_PLATFORM_BUS"
  | "ARM_VIRT_IRQ_RTC" | "ARM_VIRT_IRQ_SMMU" | "ARM_VIRT_IRQ_UART0" | "ARM_VIRT_IRQ_UART1"
  | "ARM_VIRT_MAX_CPUS" | "ARM_VIRT_MEM" | "ARM_VIRT_MMIO" | "ARM_VIRT_NUM_IRQS" | "ARM_VIRT_NVDIMM_ACPI"
  | "ARM_VIRT_OMITTED_PROPERTIES" | "ARM_VIRT_PCDIMM_ACPI" | "ARM_VIRT_PCIE_ECAM" | "ARM_VIRT_PCIE_MMIO"
  | "ARM_VIRT_PCIE_PIO" | "ARM_VIRT_PLATFORM_BUS" | "ARM_VIRT_PLATFORM_BUS_NUM_IRQS" | "ARM_VIRT_PVTIME"
  | "ARM_VIRT_RTC" | "ARM_VIRT_SECURE_MEM" | "ARM_VIRT_SMMU" | "ARM_VIRT_UART0" | "ARM_VIRT_UART1"
  | "ARM_VIRT_UNMODELLED_NODES" | "AcpiCpuHotplug" | "AcpiGedEventSelector" | "CPHP_CMD_MAX"
  | "CPHP_GET_CPU_ID_CMD" | "CPHP_GET_NEXT_CPU_WITH_EVENT_CMD" | "CPHP_OST_EVENT_CMD" | "CPHP_OST_STATUS_CMD"
  | "CPU_FLAG_EJECT" | "CPU_FLAG_ENABLED" | "CPU_FLAG_FW_REMOVE" | "CPU_FLAG_INSERT" | "CPU_FLAG_REMOVE"
  | "DEFAULT_HOST" | "DEFAULT_HOST_IRQ_NS" | "DEFAULT_KVM_RISCV_HART" | "DEFAULT_MAIN_LOOP_NS"
  | "FDT_PCI_RANGE_IOPORT" | "FDT_PCI_RANGE_MMIO" | "FDT_PCI_RANGE_MMIO_64BIT" | "GICV3_REDIST_SIZE"
  | "GICV3_TARGETLIST_BITS" | "GICV4_REDIST_SIZE" | "GIC_FDT_IRQ_FLAGS_EDGE_LO_HI"
  | "GIC_FDT_IRQ_FLAGS_LEVEL_HI" | "GIC_FDT_IRQ_TYPE_PPI" | "GIC_FDT_IRQ_TYPE_SPI" | "GIC_NCPU"
  | "GPEX_NUM_IRQS" | "Gicv4Passthrough" | "IMSIC_MMIO_GROUP_MIN_SHIFT" | "IMSIC_MMIO_PAGE_SIZE"
  | "IRQLAB_CPU_HOTPLUG_COMPATIBLE" | "IRQLAB_PDEV_ACK" | "IRQLAB_PDEV_COUNT" | "IRQLAB_PDEV_ID"
  | "IRQLAB_PDEV_ID_VALUE" | "IRQLAB_PDEV_RAISE" | "IRQLAB_PDEV_REGION_SIZE" | "IRQLAB_PDEV_STATUS"
  | "IRQLAB_PDEV_STATUS_EDGE" | "IRQLAB_PDEV_STATUS_EVENT" | "IRQLAB_PDEV_STATUS_LINE" | "IRQLAB_VERSION"
  | "IRQLAB_VIRT_CPUHP" | "JsonStreamer" | "KvmCallLog" | "KvmRoutes" | "MACHINE_INIT_PHASES"
  | "MSIX_TEST_BAR0_SIZE" | "MSIX_TEST_DOORBELL" | "MSIX_TEST_ID" | "MSIX_TEST_IDENTITY"
  | "MSIX_TEST_ID_VALUE" | "MSIX_TEST_VECTORS" | "Machine" | "MachineHost" | "MachinePci" | "Msix"
  | "MsixTestFunction" | "Ns16550a" | "PCIE_MMCFG_SIZE_MAX" | "PCIE_MMCFG_SIZE_MIN" | "PCI_DEVICE_DRIVERS"
  | "PCI_NUM_PINS" | "PL011_CR_LBE" | "PL011_CR_RXE" | "PL011_CR_TXE" | "PL011_CR_UARTEN" | "PL011_DR_BE"
  | "PL011_FIFO_DEPTH" | "PL011_FR_RXFE" | "PL011_FR_RXFF" | "PL011_FR_TXFE" | "PL011_FR_TXFF"
  | "PL011_INT_RX" | "PL011_INT_TX" | "PL011_LCR_BRK" | "PL011_LCR_FEN" | "PL011_REGION_SIZE"
  | "PVTIME_SIZE_PER_CPU" | "PciBarRegion" | "PciFunction" | "PcieHost" | "Pl011" | "PlatformBus" | "QDict"
  | "QEMU_PSCI_0_2_FN64_CPU_ON" | "QEMU_PSCI_0_2_FN64_CPU_SUSPEND" | "QEMU_PSCI_0_2_FN64_MIGRATE"
  | "QEMU_PSCI_0_2_FN_CPU_OFF" | "QEMU_VERSION" | "QemuOptionError" | "QmpError" | "QmpMonitor"
  | "RAZ_WI_REGION" | "RISCV_ACLINT_DEFAULT_MTIMER_SIZE" | "RISCV_ACLINT_DEFAULT_TIMEBASE_FREQ"
  | "RISCV_ACLINT_SWI_SIZE" | "RISCV_IRQ_M_EXT" | "RISCV_IRQ_M_SOFT" | "RISCV_IRQ_M_TIMER" | "RISCV_IRQ_S_EXT"
  | "RISCV_IRQ_S_SOFT" | "RISCV_VIRT64_HIGH_PCIE_MMIO_SIZE" | "RISCV_VIRT_ACLINT_SSWI" | "RISCV_VIRT_APLIC_M"
  | "RISCV_VIRT_APLIC_S" | "RISCV_VIRT_CLINT" | "RISCV_VIRT_CPUS_MAX" | "RISCV_VIRT_DEBUG"
  | "RISCV_VIRT_DRAM_BASE" | "RISCV_VIRT_FLASH" | "RISCV_VIRT_FW_CFG" | "RISCV_VIRT_IMSIC_GROUP_MAX_SIZE"
  | "RISCV_VIRT_IMSIC_M" | "RISCV_VIRT_IMSIC_MAX_SIZE" | "RISCV_VIRT_IMSIC_S" | "RISCV_VIRT_IOMMU_SYS"
  | "RISCV_VIRT_IOMMU_SYS_IRQ" | "RISCV_VIRT_IRQCHIP_MAX_GUESTS" | "RISCV_VIRT_IRQCHIP_NUM_MSIS"
  | "RISCV_VIRT_IRQCHIP_NUM_PRIO_BITS" | "RISCV_VIRT_IRQCHIP_NUM_SOURCES" | "RISCV_VIRT_MROM"
  | "RISCV_VIRT_PCIE_ECAM" | "RISCV_VIRT_PCIE_IRQ" | "RISCV_VIRT_PCIE_MMIO" | "RISCV_VIRT_PCIE_PIO"
  | "RISCV_VIRT_PLATFORM_BUS" | "RISCV_VIRT_PLATFORM_BUS_IRQ" | "RISCV_VIRT_PLATFORM_BUS_NUM_IRQS"
  | "RISCV_VIRT_PLIC" | "RISCV_VIRT_RTC" | "RISCV_VIRT_RTC_IRQ" | "RISCV_VIRT_SOCKETS_MAX" | "RISCV_VIRT_TEST"
  | "RISCV_VIRT_UART0" | "RISCV_VIRT_UART0_CLOCK_HZ" | "RISCV_VIRT_UART0_IRQ" | "RISCV_VIRT_UNMODELLED_NODES"
  | "RISCV_VIRT_VIRTIO" | "RISCV_VIRT_VIRTIO_COUNT" | "RISCV_VIRT_VIRTIO_IRQ" | "TYPE_VFIO_PLATFORM"
  | "UARTCR" | "UARTDMACR" | "UARTDR" | "UARTFBRD" | "UARTFR" | "UARTIBRD" | "UARTICR" | "UARTIFLS"
  | "UARTILPR" | "UARTIMSC" | "UARTLCR_H" | "UARTMIS" | "UARTPERIPHID0" | "UARTRIS" | "UARTRSR" | "UART_DLL"
  | "UART_DLM" | "UART_FCR" | "UART_FCR_FE" | "UART_FCR_RFR" | "UART_FCR_XFR" | "UART_FIFO_LENGTH"
  | "UART_IER" | "UART_IER_MSI" | "UART_IER_RDI" | "UART_IER_RLSI" | "UART_IER_THRI" | "UART_IIR"
  | "UART_IIR_CTI" | "UART_IIR_FE" | "UART_IIR_MSI" | "UART_IIR_NO_INT" | "UART_IIR_RDI" | "UART_IIR_RLSI"
  | "UART_IIR_THRI" | "UART_LCR" | "UART_LCR_DLAB" | "UART_LSR" | "UART_LSR_BI" | "UART_LSR_DR"
  | "UART_LSR_OE" | "UART_LSR_TEMT" | "UART_LSR_THRE" | "UART_MCR" | "UART_MCR_LOOP" | "UART_MCR_OUT2"
  | "UART_MSR" | "UART_MSR_CTS" | "UART_MSR_DCD" | "UART_MSR_DSR" | "UART_RX" | "UART_SCR" | "UART_TX"
  | "UNASSIGNED_RULES" | "VFIO_IRQ_INFO_AUTOMASKED" | "VFIO_IRQ_INFO_EVENTFD" | "VFIO_IRQ_INFO_MASKABLE"
  | "VFIO_IRQ_SET_ACTION_MASK" | "VFIO_IRQ_SET_ACTION_TRIGGER" | "VFIO_IRQ_SET_ACTION_TYPE_MASK"
  | "VFIO_IRQ_SET_ACTION_UNMASK" | "VFIO_IRQ_SET_DATA_BOOL" | "VFIO_IRQ_SET_DATA_EVENTFD"
  | "VFIO_IRQ_SET_DATA_NONE" | "VFIO_IRQ_SET_DATA_TYPE_MASK" | "VFIO_NOTIFY_OFFSET"
  | "VFIO_PLATFORM_DEVICE_INFO" | "VFIO_PLATFORM_MMAP_TIMEOUT_MS" | "VFIO_REQUEST_NS"
  | "VIRTIO_SCSI_PCI_LAYOUT" | "VIRTUAL_PMU_IRQ" | "VIRT_PLIC_CONTEXT_BASE" | "VIRT_PLIC_CONTEXT_STRIDE"
  | "VIRT_PLIC_ENABLE_BASE" | "VIRT_PLIC_ENABLE_STRIDE" | "VIRT_PLIC_PENDING_BASE" | "VIRT_PLIC_PRIORITY_BASE"
  | "VcpuThread" | "VfioPciFunction" | "VfioPciKvmBackend" | "VfioPlatformDevice" | "VfioPlatformHostDevice"
  | "VfioRequestEngine" | "addVirtCpuHotplugNode" | "aplicSize" | "armVirtLayout" | "armVirtMpidr"
  | "buildArmVirtFdt" | "buildRiscvVirtFdt" | "createVirtCpuHotplug" | "formatDiagnostics" | "imsicHartSize"
  | "imsicNumBits" | "intidToPpi" | "msixExclusiveBarLayout" | "parseDuration" | "parseSystemCommandLine"
  | "parseVfioPlatformProps" | "pciRegs" | "pinNextHostCpu" | "plicSize" | "plugVfioPlatform"
  | "plugVfioPlatformDevice" | "qemuAccessRules" | "qemuInvalidMessage" | "qemuInvalidReason"
  | "qemuOptsDoParse" | "qemuPieceSize" | "qemuRead" | "qemuWrite" | "riscvVirtLayout" | "runStateIsRunning"
  | "runStateTransitionAllowed" | "toQmpJson";

describe("@irqlab/machine public API", () => {
  test("the value exports are exactly the pinned list", () => {
    expectTypeOf<Exclude<keyof typeof machine, ValueExports>>().toBeNever(); // exported, not pinned
    expectTypeOf<Exclude<ValueExports, keyof typeof machine>>().toBeNever(); // pinned, not exported
  });

  test("parseSystemCommandLine: QEMU's arch names and argv, a run, help or list result", () => {
    expectTypeOf(parseSystemCommandLine).toEqualTypeOf<(arch: MachineArch, argv: readonly string[], options?: ParseOptions) => SystemCommandLine>();
    expectTypeOf<MachineArch>().toEqualTypeOf<"aarch64" | "riscv64">();
    expectTypeOf<SystemCommandLine["kind"]>().toEqualTypeOf<"run" | "help" | "version" | "list">();
    expectTypeOf<Extract<SystemCommandLine, { kind: "run" }>["config"]>().toEqualTypeOf<MachineConfig>();
    expectTypeOf<Extract<SystemCommandLine, { kind: "run" }>["run"]>().toEqualTypeOf<RunOptions>();
    expectTypeOf<Extract<SystemCommandLine, { kind: "list" }>["exitCode"]>().toEqualTypeOf<0 | 1>();
    const cl = parseSystemCommandLine("aarch64", ["-M", "virt", "-accel", "kvm"]);
    if (cl.kind === "run") expectTypeOf(cl.config.arch).toEqualTypeOf<MachineArch>();
    // @ts-expect-error -- the result is a union: only a "run" result has a config
    expectTypeOf(cl.config).toEqualTypeOf<MachineConfig>();
    // @ts-expect-error -- QEMU's target names are "aarch64" and "riscv64", not Linux's "arm64"
    parseSystemCommandLine("arm64", []);
    // @ts-expect-error -- argv is an array of words, not one string
    parseSystemCommandLine("riscv64", "-M virt");
  });

  test("QemuOptionError: QEMU's diagnostics and exit text", () => {
    expectTypeOf<QemuOptionError>().toExtend<IrqlabError>();
    expectTypeOf<QemuOptionError["diagnostics"]>().toEqualTypeOf<readonly QemuDiagnostic[]>();
    expectTypeOf<QemuOptionError["fatal"]>().toEqualTypeOf<QemuDiagnostic>();
    expectTypeOf<QemuOptionError["format"]>().toEqualTypeOf<(prog: string) => string>();
    expectTypeOf<QemuDiagnostic["kind"]>().toEqualTypeOf<"error" | "warning">();
  });

  test("Machine: created from a config and a guest image, run to an end", () => {
    expectTypeOf<typeof Machine.create>().toEqualTypeOf<(options: MachineOptions) => Machine>();
    expectTypeOf<MachineOptions["config"]>().toEqualTypeOf<MachineConfig>();
    expectTypeOf<MachineOptions["kernel"]>().toEqualTypeOf<GuestImage | undefined>();
    expectTypeOf<MachineOptions["console"]>().toEqualTypeOf<((text: string) => void) | undefined>();
    expectTypeOf<MachineOptions["drivers"]>().toEqualTypeOf<ReadonlyMap<string, DevicePlug> | undefined>();
    expectTypeOf<MachineOptions["host"]>().toEqualTypeOf<MachineHost | undefined>();
    expectTypeOf<Machine["run"]>().toEqualTypeOf<(ns?: number) => MachineRunEnd>();
    expectTypeOf<MachineRunEnd>().toEqualTypeOf<"until" | "shutdown" | "internal-error" | "guest-panicked" | "paused" | "idle">();
    expectTypeOf<Machine["runState"]>().toEqualTypeOf<RunState>();
    expectTypeOf<Machine["fdt"]>().toEqualTypeOf<Uint8Array>();
    expectTypeOf<Machine["cpus"]>().toEqualTypeOf<MachineCpu[]>();
    expectTypeOf<MachineCpu["vcpu"]>().toEqualTypeOf<Vcpu>();
    expectTypeOf<Machine["plugCpu"]>().toEqualTypeOf<(index: number, id?: string) => MachineCpu>();
    expectTypeOf<Machine["shutdown"]>().toEqualTypeOf<(reason: ShutdownCause) => void>();
    expectTypeOf<Machine["onEvent"]>().toEqualTypeOf<(listener: MachineEventListener) => void>();
    const cl = parseSystemCommandLine("aarch64", ["-M", "virt"]);
    if (cl.kind !== "run") return;
    const kernel: GuestImage = { main: function* () { yield op.hvc([0x8400_0008]); } };
    const m = Machine.create({ config: cl.config, kernel });
    // @ts-expect-error -- machines are built with Machine.create (QEMU's init phases), not new
    new Machine({ config: cl.config });
    // @ts-expect-error -- the guest image option is kernel (-kernel), not image
    Machine.create({ config: cl.config, image: kernel });
    // @ts-expect-error -- shutdown causes are QEMU's ShutdownCause names
    m.shutdown("power-button");
    // @ts-expect-error -- run takes virtual nanoseconds
    m.run("10ms");
  });

  test("run states and QMP events are QEMU's", () => {
    expectTypeOf<RunState>().toEqualTypeOf<"prelaunch" | "running" | "paused" | "internal-error" | "shutdown" | "guest-panicked">();
    expectTypeOf(runStateTransitionAllowed).toEqualTypeOf<(from: RunState, to: RunState) => boolean>();
    expectTypeOf<MachineEvent["event"]>().toEqualTypeOf<
      "STOP" | "RESUME" | "RESET" | "SHUTDOWN" | "POWERDOWN" | "GUEST_PANICKED" | "DEVICE_DELETED" | "ACPI_DEVICE_OST"
    >();
    expectTypeOf<Extract<MachineEvent, { event: "SHUTDOWN" }>["data"]>().toEqualTypeOf<{ readonly guest: boolean; readonly reason: ShutdownCause }>();
    expectTypeOf<ShutdownCause>().toExtend<string>();
    expectTypeOf<"guest-shutdown" | "host-qmp-system-reset" | "guest-panic">().toExtend<ShutdownCause>();
  });

  test("MachineHost: one host for several machines, per architecture", () => {
    expectTypeOf<ConstructorParameters<typeof MachineHost>>().toEqualTypeOf<[options: MachineHostOptions]>();
    expectTypeOf<MachineHostOptions["arch"]>().toEqualTypeOf<MachineArch>();
    // @ts-expect-error -- a host needs its architecture
    new MachineHost({});
  });
});
