/**
 * @irqlab/machine — a QEMU-like VMM: the arm64 and riscv64 `virt` machines
 * under KVM, built from QEMU's command line (or a MachineConfig), initialised
 * in QEMU's phases with QEMU's ioctls, with vCPU threads running
 * kvm_cpu_exec on a host they may share with other machines, devices
 * (UARTs, PCIe with vfio-pci and MSI-X), and the device tree the guest
 * boots with.
 *
 * @packageDocumentation
 */

export type * from "./config/machine-config.js";

// The machine, its host and its run control.
/** A machine: Machine.create({ config, kernel }) then run(); its events, CPUs, devices and the ioctls it issued. */
export { Machine, type MachineOptions, type MachineRunEnd, type MachineCpu, type DevicePlug } from "./machine.js";
/** The host: its KVM, CPUs, scheduler and clock; several machines may share one. */
export { MachineHost, type MachineHostOptions } from "./host/machine-host.js";
/** QEMU's RunState and the transitions QEMU allows. */
export { runStateTransitionAllowed, runStateIsRunning, type RunState } from "./core/run-state.js";
/** QEMU's machine init phases. */
export { MACHINE_INIT_PHASES, type MachineInitPhase } from "./core/init-phase.js";
/** QMP events a machine emits. */
export type { MachineEvent, MachineEventListener, ShutdownCause } from "./core/machine-events.js";
/** The seed-000 pin-next policy of -accel kvm,x-fail-entry=pin-next: the host CPU it re-pins a vCPU thread to, or -1. */
export { pinNextHostCpu } from "./core/fail-entry.js";
/** The recording of KVM ioctls a machine issued. */
export { KvmCallLog, type KvmCall } from "./core/kvm-call-log.js";
/** A vCPU thread (QEMU's "CPU n/KVM" running kvm_cpu_exec). */
export { VcpuThread } from "./core/vcpu-thread.js";
/** What boards provide: CPU slots and the board interface. */
export type { Board, BoardCpuSlot } from "./boards/board.js";
/** What a -device gets from its machine, the VM's routing table, the PCIe host and its functions. */
export type { DeviceContext } from "./wiring/device-context.js";
export { PlatformBus, type PlatformBusWindow } from "./wiring/platform-bus.js";
export { KvmRoutes } from "./wiring/kvm-routes.js";
export { MachinePci, PCI_DEVICE_DRIVERS, type PluggedPciDevice } from "./wiring/pci-devices.js";
export { VfioPciKvmBackend } from "./wiring/vfio-pci-kvm.js";
/**
 * `-device vfio-platform` under KVM: plugVfioPlatform(ctx, props) maps the
 * region and takes a line in the platform bus window and, at
 * machine-init-done, sets up KVM_IRQFD (+ resamplefd for a level IRQ) or
 * falls back to QEMU's userspace path as vfio_start_irqfd_injection does;
 * plugVfioPlatformDevice is the same as a MachineOptions.drivers entry.
 */
export {
  plugVfioPlatform,
  plugVfioPlatformDevice,
  type VfioPlatformPlug,
  type VfioPlatformPlugOptions,
  type VfioPlatformStatus,
} from "./wiring/vfio-platform-kvm.js";
/** vfio-platform's properties (QEMU's and irqlab's x-irqlab-*), parsed with QEMU's messages, and its -device help entry. */
export { parseVfioPlatformProps, VFIO_PLATFORM_DEVICE_INFO, TYPE_VFIO_PLATFORM, type VfioPlatformConfig } from "./wiring/vfio-platform-props.js";

// Board: the arm and riscv virt memory maps, layouts and device trees (src/board/).
export {
  type MemMapEntry,
  ARM_VIRT_FLASH,
  ARM_VIRT_CPUPERIPHS,
  ARM_VIRT_GIC_DIST,
  ARM_VIRT_GIC_CPU,
  ARM_VIRT_GIC_V2M,
  ARM_VIRT_GIC_HYP,
  ARM_VIRT_GIC_VCPU,
  ARM_VIRT_GIC_ITS,
  ARM_VIRT_GIC_REDIST,
  ARM_VIRT_UART0,
  ARM_VIRT_RTC,
  ARM_VIRT_FW_CFG,
  ARM_VIRT_GPIO,
  ARM_VIRT_UART1,
  ARM_VIRT_SMMU,
  ARM_VIRT_PCDIMM_ACPI,
  ARM_VIRT_ACPI_GED,
  ARM_VIRT_NVDIMM_ACPI,
  ARM_VIRT_PVTIME,
  ARM_VIRT_MMIO,
  ARM_VIRT_PLATFORM_BUS,
  ARM_VIRT_SECURE_MEM,
  ARM_VIRT_PCIE_MMIO,
  ARM_VIRT_PCIE_PIO,
  ARM_VIRT_PCIE_ECAM,
  ARM_VIRT_MEM,
  ARM_VIRT_HIGH_GIC_REDIST2_SIZE,
  ARM_VIRT_CXL_HOST_SIZE,
  ARM_VIRT_HIGH_PCIE_ECAM_SIZE,
  ARM_VIRT_HIGH_PCIE_MMIO_SIZE,
  ARM_VIRT_HIGH_IO_FLOOR,
  ARM_VIRT_IRQ_UART0,
  ARM_VIRT_IRQ_RTC,
  ARM_VIRT_IRQ_PCIE,
  ARM_VIRT_IRQ_GPIO,
  ARM_VIRT_IRQ_UART1,
  ARM_VIRT_IRQ_ACPI_GED,
  ARM_VIRT_IRQ_GWDT_WS0,
  ARM_VIRT_IRQ_MMIO,
  ARM_VIRT_IRQ_GIC_V2M,
  ARM_VIRT_IRQ_SMMU,
  ARM_VIRT_IRQ_PLATFORM_BUS,
  ARM_VIRT_NUM_IRQS,
  ARM_VIRT_PLATFORM_BUS_NUM_IRQS,
  ARM_VIRT_MAX_CPUS,
  ARM_VIRT_APB_PCLK_HZ,
  PCI_NUM_PINS,
  GICV3_REDIST_SIZE,
  GICV4_REDIST_SIZE,
  GICV3_TARGETLIST_BITS,
  GIC_NCPU,
  PVTIME_SIZE_PER_CPU,
  VIRTUAL_PMU_IRQ,
  ARCH_GIC_MAINT_IRQ,
  ARCH_TIMER_NS_EL2_IRQ,
  ARCH_TIMER_VIRT_IRQ,
  ARCH_TIMER_NS_EL2_VIRT_IRQ,
  ARCH_TIMER_S_EL1_IRQ,
  ARCH_TIMER_NS_EL1_IRQ,
  intidToPpi,
  GIC_FDT_IRQ_TYPE_SPI,
  GIC_FDT_IRQ_TYPE_PPI,
  GIC_FDT_IRQ_FLAGS_EDGE_LO_HI,
  GIC_FDT_IRQ_FLAGS_LEVEL_HI,
  FDT_PCI_RANGE_IOPORT,
  FDT_PCI_RANGE_MMIO,
  FDT_PCI_RANGE_MMIO_64BIT,
  PCIE_MMCFG_SIZE_MIN,
  QEMU_PSCI_0_2_FN_CPU_OFF,
  QEMU_PSCI_0_2_FN64_CPU_SUSPEND,
  QEMU_PSCI_0_2_FN64_CPU_ON,
  QEMU_PSCI_0_2_FN64_MIGRATE,
} from "./board/arm-virt-memmap.js";
export {
  RISCV_VIRT_CPUS_MAX,
  RISCV_VIRT_SOCKETS_MAX,
  IMSIC_MMIO_PAGE_SIZE,
  IMSIC_MMIO_GROUP_MIN_SHIFT,
  RISCV_VIRT_IMSIC_GROUP_MAX_SIZE,
  RISCV_VIRT_IMSIC_MAX_SIZE,
  RISCV_VIRT_IRQCHIP_MAX_GUESTS,
  RISCV_VIRT_IRQCHIP_NUM_MSIS,
  RISCV_VIRT_IRQCHIP_NUM_SOURCES,
  RISCV_VIRT_IRQCHIP_NUM_PRIO_BITS,
  APLIC_MIN_SIZE,
  aplicSize,
  VIRT_PLIC_PRIORITY_BASE,
  VIRT_PLIC_PENDING_BASE,
  VIRT_PLIC_ENABLE_BASE,
  VIRT_PLIC_ENABLE_STRIDE,
  VIRT_PLIC_CONTEXT_BASE,
  VIRT_PLIC_CONTEXT_STRIDE,
  plicSize,
  RISCV_ACLINT_SWI_SIZE,
  RISCV_ACLINT_DEFAULT_MTIMER_SIZE,
  RISCV_ACLINT_DEFAULT_TIMEBASE_FREQ,
  RISCV_VIRT_DEBUG,
  RISCV_VIRT_MROM,
  RISCV_VIRT_TEST,
  RISCV_VIRT_RTC,
  RISCV_VIRT_CLINT,
  RISCV_VIRT_ACLINT_SSWI,
  RISCV_VIRT_PCIE_PIO,
  RISCV_VIRT_IOMMU_SYS,
  RISCV_VIRT_PLATFORM_BUS,
  RISCV_VIRT_PLIC,
  RISCV_VIRT_APLIC_M,
  RISCV_VIRT_APLIC_S,
  RISCV_VIRT_UART0,
  RISCV_VIRT_VIRTIO,
  RISCV_VIRT_FW_CFG,
  RISCV_VIRT_FLASH,
  RISCV_VIRT_IMSIC_M,
  RISCV_VIRT_IMSIC_S,
  RISCV_VIRT_PCIE_ECAM,
  RISCV_VIRT_PCIE_MMIO,
  RISCV_VIRT_DRAM_BASE,
  RISCV_VIRT64_HIGH_PCIE_MMIO_SIZE,
  RISCV_VIRT_VIRTIO_IRQ,
  RISCV_VIRT_VIRTIO_COUNT,
  RISCV_VIRT_UART0_IRQ,
  RISCV_VIRT_RTC_IRQ,
  RISCV_VIRT_PCIE_IRQ,
  RISCV_VIRT_IOMMU_SYS_IRQ,
  RISCV_VIRT_PLATFORM_BUS_IRQ,
  RISCV_VIRT_PLATFORM_BUS_NUM_IRQS,
  RISCV_VIRT_UART0_CLOCK_HZ,
  RISCV_IRQ_S_SOFT,
  RISCV_IRQ_M_SOFT,
  RISCV_IRQ_M_TIMER,
  RISCV_IRQ_S_EXT,
  RISCV_IRQ_M_EXT,
  imsicNumBits,
  imsicHartSize,
} from "./board/riscv-virt-memmap.js";
export {
  armVirtLayout,
  armVirtMpidr,
  type ArmVirtLayout,
  type ArmVirtLayoutOptions,
  type ArmVirtCpu,
  type ArmVirtGicLayout,
  type ArmVirtRedistRegion,
  type ArmVirtHighRegion,
} from "./board/arm-virt-layout.js";
export {
  riscvVirtLayout,
  DEFAULT_KVM_RISCV_HART,
  type RiscvVirtLayout,
  type RiscvVirtLayoutOptions,
  type RiscvHartDescription,
  type RiscvNumaNode,
  type RiscvVirtSocket,
  type RiscvVirtImsicLayout,
  type RiscvVirtAplicDomain,
  type RiscvVirtAplicLayout,
  type RiscvVirtPlicLayout,
  type RiscvKvmAiaConfig,
} from "./board/riscv-virt-layout.js";
export type { VirtFdtOptions } from "./board/virt-fdt-options.js";
export { buildArmVirtFdt, ARM_VIRT_UNMODELLED_NODES, ARM_VIRT_OMITTED_PROPERTIES } from "./board/arm-virt-fdt.js";
export { buildRiscvVirtFdt, RISCV_VIRT_UNMODELLED_NODES } from "./board/riscv-virt-fdt.js";

// Devices: the UARTs, the generic PCIe host with ECAM, MSI-X, vfio-pci and an emulated MSI-X function (src/devices/).
/** Injected device outputs: interrupt line, MSI sink and the MSI-X message record. */
export type { IrqLine, MsiSink, MsiMessage } from "./devices/interrupt.js";
/** Where UART bytes go, virtual-time timers, and the tracing options every device takes. */
export type { ByteSink, DeviceTimers, DeviceTraceOptions } from "./devices/device-io.js";
/**
 * QEMU's memory core as a device sees it (access splitting, validity rules,
 * impl sizes): for writing further QEMU-exact device models.
 */
export {
  qemuRead,
  qemuWrite,
  qemuAccessRules,
  qemuPieceSize,
  qemuInvalidReason,
  qemuInvalidMessage,
  UNASSIGNED_RULES,
  type QemuAccessRules,
  type QemuAccessFields,
  type QemuRegionOps,
  type QemuInvalidReason,
} from "./devices/qemu-memory.js";
/** The PL011 UART (aarch64 virt console). */
export { Pl011, type Pl011Options, type Pl011State } from "./devices/pl011.js";
/** PL011 register offsets and bits (DDI 0183G). */
export {
  PL011_REGION_SIZE,
  PL011_FIFO_DEPTH,
  UARTDR,
  UARTRSR,
  UARTFR,
  UARTILPR,
  UARTIBRD,
  UARTFBRD,
  UARTLCR_H,
  UARTCR,
  UARTIFLS,
  UARTIMSC,
  UARTRIS,
  UARTMIS,
  UARTICR,
  UARTDMACR,
  UARTPERIPHID0,
  PL011_FR_RXFE,
  PL011_FR_TXFF,
  PL011_FR_RXFF,
  PL011_FR_TXFE,
  PL011_DR_BE,
  PL011_INT_RX,
  PL011_INT_TX,
  PL011_LCR_FEN,
  PL011_LCR_BRK,
  PL011_CR_UARTEN,
  PL011_CR_LBE,
  PL011_CR_TXE,
  PL011_CR_RXE,
} from "./devices/pl011-regs.js";
/** The arm virt CPU hotplug interface: QEMU's ACPI CPU hotplug block and GED event selector, described in the device tree. */
export { AcpiCpuHotplug, type AcpiCpuHotplugOptions, type AcpiCpuHotplugState, type AcpiOstInfo } from "./devices/cpu-hotplug.js";
export { AcpiGedEventSelector, type AcpiGedEventSelectorOptions, type AcpiGedEventSelectorState } from "./devices/cpu-hotplug-ged.js";
export { createVirtCpuHotplug, addVirtCpuHotplugNode, type VirtCpuHotplug, type VirtCpuHotplugOptions } from "./devices/cpu-hotplug-virt.js";
export * from "./devices/cpu-hotplug-regs.js";
/** The NS16550A UART (riscv64 virt console). */
export { Ns16550a, type Ns16550aOptions, type Ns16550aState } from "./devices/ns16550a.js";
/** NS16550A register offsets and bits (Linux serial_reg.h names). */
export {
  UART_RX,
  UART_TX,
  UART_DLL,
  UART_IER,
  UART_DLM,
  UART_IIR,
  UART_FCR,
  UART_LCR,
  UART_MCR,
  UART_LSR,
  UART_MSR,
  UART_SCR,
  UART_LCR_DLAB,
  UART_IER_RDI,
  UART_IER_THRI,
  UART_IER_RLSI,
  UART_IER_MSI,
  UART_IIR_NO_INT,
  UART_IIR_MSI,
  UART_IIR_THRI,
  UART_IIR_RDI,
  UART_IIR_RLSI,
  UART_IIR_CTI,
  UART_IIR_FE,
  UART_MCR_LOOP,
  UART_MCR_OUT2,
  UART_MSR_DCD,
  UART_MSR_DSR,
  UART_MSR_CTS,
  UART_LSR_DR,
  UART_LSR_OE,
  UART_LSR_BI,
  UART_LSR_THRE,
  UART_LSR_TEMT,
  UART_FCR_FE,
  UART_FCR_RFR,
  UART_FCR_XFR,
  UART_FIFO_LENGTH,
} from "./devices/ns16550a-regs.js";
/** PCI configuration-space offsets and bits (Linux pci_regs.h names), ECAM address fields. */
export * as pciRegs from "./devices/pci/pci-regs.js";
/** A PCI function's configuration space, BARs, capabilities and INTx; the BAR decode listener the machine implements. */
export {
  PciFunction,
  type PciFunctionIdentity,
  type PciFunctionOptions,
  type PciFunctionState,
  type PciBarKind,
  type PciBarListener,
  type PciBusLink,
} from "./devices/pci/pci-function.js";
/** A BAR's memory region (QEMU container with MSI-X table/PBA subregions over a background). */
export { PciBarRegion, RAZ_WI_REGION, type GuestErrorSink } from "./devices/pci/pci-bar.js";
/** The generic PCIe host bridge (gpex, "pci-host-ecam-generic"): root bus 0 and the ECAM window. */
export { PcieHost, PCIE_MMCFG_SIZE_MAX, GPEX_NUM_IRQS, type PcieHostOptions, type PcieHostState } from "./devices/pci/pcie-host.js";
/** MSI-X capability, table and PBA with QEMU's masking/pending rules and vector notifiers. */
export { Msix, type MsixOptions, type MsixVectorNotifiers, type MsixState } from "./devices/pci/msix.js";
/** vfio-pci: a passed-through function whose MSI-X vectors are host interrupts. */
export { VfioPciFunction } from "./devices/pci/vfio-pci.js";
/** x-gicv4: the host's GICv4.1 ITS with the VM's vgic-v4 forwarding, and the passed-through function's request engine (BAR4 notify). */
export { Gicv4Passthrough } from "./wiring/gicv4-passthrough.js";
export { VfioRequestEngine, VFIO_NOTIFY_OFFSET, VFIO_REQUEST_NS } from "./wiring/vfio-pci-requests.js";
/** The KVM/VFIO backend the machine implements for a vfio-pci function, and the layout a passed-through function is described by. */
export {
  VIRTIO_SCSI_PCI_LAYOUT,
  type MsiVectorBackend,
  type VfioTrigger,
  type VfioPciOptions,
  type VfioPciLayout,
  type VfioPciBar,
  type VfioPciMsixLayout,
  type VfioVectorInfo,
  type VfioPciState,
} from "./devices/pci/vfio-pci-backend.js";
/** x-irqlab-msix-test: an emulated function whose notify() goes through MSI-X to the MsiSink. */
export {
  MsixTestFunction,
  MSIX_TEST_IDENTITY,
  MSIX_TEST_ID,
  MSIX_TEST_ID_VALUE,
  MSIX_TEST_VECTORS,
  MSIX_TEST_DOORBELL,
  MSIX_TEST_BAR0_SIZE,
  msixExclusiveBarLayout,
  type MsixTestFunctionOptions,
} from "./devices/pci/msix-test-device.js";
/**
 * vfio-platform: QEMU's VFIOPlatformDevice (one region, one IRQ): the
 * userspace path (vfio_intp_interrupt, EOI on the first trapped access, the
 * mmap timer), the irqfd path through a VfioIrqfdBackend, and its state.
 */
export {
  VfioPlatformDevice,
  VFIO_PLATFORM_MMAP_TIMEOUT_MS,
  DEFAULT_MAIN_LOOP_NS,
  type VfioPlatformDeviceOptions,
  type VfioPlatformState,
  type VfioInjection,
  type VfioIrqfdBackend,
  type IoctlRecorder,
} from "./devices/vfio-platform.js";
/**
 * The host behind a vfio-platform device: irqlab's simulated platform device
 * (its IRQLAB_PDEV_* registers are a stand-in for a real device's), its
 * edge/level line (hostLine, hostPulse) and Linux's vfio-platform IRQ
 * handling (automask, unmask eventfd, VFIO_DEVICE_SET_IRQS); linux/vfio.h names.
 */
export {
  VfioPlatformHostDevice,
  DEFAULT_HOST_IRQ_NS,
  IRQLAB_PDEV_REGION_SIZE,
  IRQLAB_PDEV_ID,
  IRQLAB_PDEV_STATUS,
  IRQLAB_PDEV_ACK,
  IRQLAB_PDEV_COUNT,
  IRQLAB_PDEV_RAISE,
  IRQLAB_PDEV_ID_VALUE,
  IRQLAB_PDEV_STATUS_LINE,
  IRQLAB_PDEV_STATUS_EVENT,
  IRQLAB_PDEV_STATUS_EDGE,
  VFIO_IRQ_INFO_EVENTFD,
  VFIO_IRQ_INFO_MASKABLE,
  VFIO_IRQ_INFO_AUTOMASKED,
  VFIO_IRQ_SET_DATA_NONE,
  VFIO_IRQ_SET_DATA_BOOL,
  VFIO_IRQ_SET_DATA_EVENTFD,
  VFIO_IRQ_SET_ACTION_MASK,
  VFIO_IRQ_SET_ACTION_UNMASK,
  VFIO_IRQ_SET_ACTION_TRIGGER,
  VFIO_IRQ_SET_DATA_TYPE_MASK,
  VFIO_IRQ_SET_ACTION_TYPE_MASK,
  type HostIrqTrigger,
  type VfioIrqSet,
  type VfioPlatformHostOptions,
  type VfioPlatformHostState,
} from "./devices/vfio-platform-host.js";

// Command line: QEMU's system-emulator options, parsed as QEMU 11.1.0 parses them (src/cmdline/).
/**
 * parseSystemCommandLine(arch, argv): a qemu-system-aarch64/riscv64 command
 * line into a MachineConfig and irqlab's RunOptions, or a help/version/list
 * text; QemuOptionError carries QEMU's own messages when QEMU would exit 1.
 */
export { parseSystemCommandLine, type ParseOptions, type SystemCommandLine } from "./cmdline/system-command-line.js";
/** The error the parser throws (QEMU's stderr text), and QEMU's message format for printing diagnostics. */
export { QemuOptionError, formatDiagnostics, type QemuDiagnostic } from "./cmdline/qemu-error.js";
/** irqlab's own options (--until, --trace, --seed) and the host used without --host. */
export { DEFAULT_HOST, parseDuration, type RunOptions } from "./cmdline/run-options.js";
/** QEMU's QemuOpts parser for an extension's own option lists (qemu_opts_do_parse, as chardev/char.c uses it). */
export { qemuOptsDoParse, type QemuOpt, type QemuOptDesc, type QemuOptsListDef, type QemuOptType } from "./cmdline/qemu-opts.js";
/** The extension point for options the parser does not implement itself (such as a monitor's -qmp, -monitor, -chardev). */
export type { CommandLineExtension, ExtensionContext } from "./cmdline/option-table.js";
/** The device drivers a machine tells the parser about (for -device help and unknown-driver errors). */
export type { DeviceCategory, DeviceDriverInfo, KnownDevice } from "./cmdline/device-options.js";
/** A property as -machine/-device help lists it. */
export type { PropertyInfo } from "./cmdline/machine-class.js";
/** The QEMU release whose command line and virt defaults irqlab follows ("11.1.0"), and irqlab's version. */
export { QEMU_VERSION } from "./cmdline/arm-virt-class.js";
export { IRQLAB_VERSION } from "./cmdline/help-text.js";

// QMP: the QEMU Monitor Protocol of a machine, transport-agnostic (src/qmp/).
/**
 * A machine's QMP monitor: connect(send) per client connection (greeting at
 * once, capabilities negotiation, QEMU's commands, errors and events with
 * virtual-time timestamps); execute(command, args) for timelines.
 */
export { QmpMonitor, type QmpMonitorOptions, type QmpSession, type QmpEventMessage } from "./qmp/qmp-monitor.js";
/** A command's error (QAPI error class and text), as commands throw it. */
export { QmpError, type QmpErrorClass } from "./qmp/qmp-args.js";
/** QEMU's JSON: its text as QEMU writes it (member order, escapes) and the streaming parser with QEMU's error texts. */
export { toQmpJson, QDict, type QObject, type QmpValue } from "./qmp/qobject.js";
export { JsonStreamer, type JsonMessage } from "./qmp/json-streamer.js";
