/**
 * The fixed memory map and interrupt map of QEMU's arm `virt` board
 * (qemu/qemu hw/arm/virt.c `base_memmap`, `extended_memmap`, `a15irqmap`;
 * include/hw/arm/virt.h; include/hw/arm/bsa.h for the PPIs), plus the
 * device-tree cell values the board writes (include/hw/arm/fdt.h,
 * target/arm/kvm-consts.h).
 *
 * Values are upstream QEMU (master of August 2026, 11.1.50). Where QEMU 7.2
 * (Debian's binary, used for the fixtures) differs it is said next to the
 * constant. Upstream renamed VIRT_UART → VIRT_UART0 and VIRT_SECURE_UART →
 * VIRT_UART1 (same addresses) and added regions that 7.2 does not have
 * (ACPI_PCIHP at 0x090c0000, the SBSA watchdog at 0x0f000000, the GICv5
 * frames, the CXL host window among the high regions, the watchdog's SPI 10);
 * none of them moves a region that irqlab models.
 */

/** One region of a memory map: guest-physical base and size in bytes (QEMU's MemMapEntry). */
export interface MemMapEntry {
  readonly base: number;
  readonly size: number;
}

const KiB = 1024;
const MiB = 1024 * KiB;
const GiB = 1024 * MiB;

// ---------------------------------------------------------------------------
// base_memmap (hw/arm/virt.c): the low, fixed part of the map.
// ---------------------------------------------------------------------------

/** Two pflash banks (boot ROM / UEFI), 0..128 MiB. irqlab does not model them. */
export const ARM_VIRT_FLASH: MemMapEntry = { base: 0, size: 0x0800_0000 };
/** CPU peripheral space; `reset-cbar` points here (hw/arm/virt.c machvirt_init). */
export const ARM_VIRT_CPUPERIPHS: MemMapEntry = { base: 0x0800_0000, size: 0x0002_0000 };
/** GIC distributor (GICD_*), 64 KiB. */
export const ARM_VIRT_GIC_DIST: MemMapEntry = { base: 0x0800_0000, size: 0x0001_0000 };
/** GICv2 CPU interface (unused with GICv3). */
export const ARM_VIRT_GIC_CPU: MemMapEntry = { base: 0x0801_0000, size: 0x0001_0000 };
/** GICv2m MSI frame (its=off with GICv2 only). */
export const ARM_VIRT_GIC_V2M: MemMapEntry = { base: 0x0802_0000, size: 0x0000_1000 };
/** GICv2 hypervisor interface (virtualization=on with GICv2). */
export const ARM_VIRT_GIC_HYP: MemMapEntry = { base: 0x0803_0000, size: 0x0001_0000 };
/** GICv2 virtual CPU interface (virtualization=on with GICv2). */
export const ARM_VIRT_GIC_VCPU: MemMapEntry = { base: 0x0804_0000, size: 0x0001_0000 };
/** GICv3 ITS: control frame + translater frame, 2 × 64 KiB. */
export const ARM_VIRT_GIC_ITS: MemMapEntry = { base: 0x0808_0000, size: 0x0002_0000 };
/**
 * The low redistributor region: "allows up to 2*64kB*123 CPUs" (hw/arm/virt.c).
 * 0xF60000 / GICV3_REDIST_SIZE = 123 redistributors.
 */
export const ARM_VIRT_GIC_REDIST: MemMapEntry = { base: 0x080a_0000, size: 0x00f6_0000 };
/** The first PL011 UART (VIRT_UART0; VIRT_UART in QEMU 7.2). */
export const ARM_VIRT_UART0: MemMapEntry = { base: 0x0900_0000, size: 0x0000_1000 };
/** PL031 RTC (not modelled). */
export const ARM_VIRT_RTC: MemMapEntry = { base: 0x0901_0000, size: 0x0000_1000 };
/** fw_cfg MMIO interface (not modelled). */
export const ARM_VIRT_FW_CFG: MemMapEntry = { base: 0x0902_0000, size: 0x0000_0018 };
/** PL061 GPIO with the power button (not modelled). */
export const ARM_VIRT_GPIO: MemMapEntry = { base: 0x0903_0000, size: 0x0000_1000 };
/** Second PL011 (VIRT_UART1; VIRT_SECURE_UART in QEMU 7.2): secure world, or `-serial` ×2. */
export const ARM_VIRT_UART1: MemMapEntry = { base: 0x0904_0000, size: 0x0000_1000 };
/** SMMUv3 (iommu=smmuv3; SMMU_IO_LEN). */
export const ARM_VIRT_SMMU: MemMapEntry = { base: 0x0905_0000, size: 0x0002_0000 };
/** ACPI memory hotplug registers (MEMORY_HOTPLUG_IO_LEN = 24). */
export const ARM_VIRT_PCDIMM_ACPI: MemMapEntry = { base: 0x0907_0000, size: 24 };
/** ACPI generic event device (ACPI_GED_EVT_SEL_LEN = 4). */
export const ARM_VIRT_ACPI_GED: MemMapEntry = { base: 0x0908_0000, size: 4 };
/** NVDIMM ACPI DSM buffer (NVDIMM_ACPI_IO_LEN = 4). */
export const ARM_VIRT_NVDIMM_ACPI: MemMapEntry = { base: 0x0909_0000, size: 4 };
/** KVM stolen-time (pvtime) structures, PVTIME_SIZE_PER_CPU = 64 bytes each. */
export const ARM_VIRT_PVTIME: MemMapEntry = { base: 0x090a_0000, size: 0x0001_0000 };
/** The first of the virtio-mmio transports, each 0x200 bytes (not modelled). */
export const ARM_VIRT_MMIO: MemMapEntry = { base: 0x0a00_0000, size: 0x0000_0200 };
/** Dynamic sysbus devices (`-device` on the platform bus). */
export const ARM_VIRT_PLATFORM_BUS: MemMapEntry = { base: 0x0c00_0000, size: 0x0200_0000 };
/** Secure-only RAM (secure=on, TCG only). */
export const ARM_VIRT_SECURE_MEM: MemMapEntry = { base: 0x0e00_0000, size: 0x0100_0000 };
/** The 32-bit PCIe MMIO window. */
export const ARM_VIRT_PCIE_MMIO: MemMapEntry = { base: 0x1000_0000, size: 0x2eff_0000 };
/** The PCIe I/O-port window. */
export const ARM_VIRT_PCIE_PIO: MemMapEntry = { base: 0x3eff_0000, size: 0x0001_0000 };
/** The low PCIe ECAM: 16 MiB, buses 0..15 (used when highmem-ecam is off or does not fit). */
export const ARM_VIRT_PCIE_ECAM: MemMapEntry = { base: 0x3f00_0000, size: 0x0100_0000 };
/** RAM starts at 1 GiB; the size is the legacy limit LEGACY_RAMLIMIT_BYTES (255 GiB). */
export const ARM_VIRT_MEM: MemMapEntry = { base: GiB, size: 255 * GiB };

// ---------------------------------------------------------------------------
// extended_memmap (hw/arm/virt.c): the floating high regions above RAM, each
// aligned on its own size, laid out by virt_set_high_memmap().
// ---------------------------------------------------------------------------

/** Size of VIRT_HIGH_GIC_REDIST2: "Additional 64 MB redist region (can contain up to 512 redistributors)". */
export const ARM_VIRT_HIGH_GIC_REDIST2_SIZE = 64 * MiB;
/**
 * Size of VIRT_CXL_HOST (16 host bridges × 64 KiB). Upstream only (not in 7.2);
 * with compact-highmem (the default since virt-7.2) a disabled region takes no
 * space, and it stays disabled unless a pxb-cxl bridge is created.
 */
export const ARM_VIRT_CXL_HOST_SIZE = 16 * 64 * KiB;
/** Size of VIRT_HIGH_PCIE_ECAM: 256 MiB, buses 0..255. */
export const ARM_VIRT_HIGH_PCIE_ECAM_SIZE = 256 * MiB;
/** Size of VIRT_HIGH_PCIE_MMIO (DEFAULT_HIGH_PCIE_MMIO_SIZE, 512 GiB; `highmem-mmio-size` upstream). */
export const ARM_VIRT_HIGH_PCIE_MMIO_SIZE = 512 * GiB;
/** The high IO regions never start below 256 GiB (VIRT_MEM base + LEGACY_RAMLIMIT_BYTES). */
export const ARM_VIRT_HIGH_IO_FLOOR = GiB + 255 * GiB;

// ---------------------------------------------------------------------------
// a15irqmap (hw/arm/virt.c): SPI numbers (GIC INTID − 32).
// ---------------------------------------------------------------------------

/** PL011 UART0: SPI 1 (INTID 33). */
export const ARM_VIRT_IRQ_UART0 = 1;
/** PL031 RTC: SPI 2. */
export const ARM_VIRT_IRQ_RTC = 2;
/** PCIe INTA..INTD: SPIs 3..6 (VIRT_PCIE "... to 6"). */
export const ARM_VIRT_IRQ_PCIE = 3;
/** PL061 GPIO: SPI 7. */
export const ARM_VIRT_IRQ_GPIO = 7;
/** UART1: SPI 8. */
export const ARM_VIRT_IRQ_UART1 = 8;
/** ACPI GED: SPI 9. */
export const ARM_VIRT_IRQ_ACPI_GED = 9;
/** SBSA generic watchdog WS0: SPI 10 (upstream only). */
export const ARM_VIRT_IRQ_GWDT_WS0 = 10;
/** virtio-mmio transports: SPIs 16..16 + NUM_VIRTIO_TRANSPORTS − 1. */
export const ARM_VIRT_IRQ_MMIO = 16;
/** GICv2m: SPIs 48..48 + NUM_GICV2M_SPIS − 1. */
export const ARM_VIRT_IRQ_GIC_V2M = 48;
/** SMMUv3: SPIs 74..77. */
export const ARM_VIRT_IRQ_SMMU = 74;
/** Platform bus: SPIs 112..112 + PLATFORM_BUS_NUM_IRQS − 1. */
export const ARM_VIRT_IRQ_PLATFORM_BUS = 112;

/** External interrupt lines the GIC is configured with (hw/arm/virt.c NUM_IRQS): SPIs 0..255. */
export const ARM_VIRT_NUM_IRQS = 256;
/** Interrupt lines of the platform bus (PLATFORM_BUS_NUM_IRQS). */
export const ARM_VIRT_PLATFORM_BUS_NUM_IRQS = 64;
/** PCI INTx pins A..D (include/hw/pci/pci.h PCI_NUM_PINS). */
export const PCI_NUM_PINS = 4;

// ---------------------------------------------------------------------------
// GIC geometry (include/hw/intc/arm_gicv3_common.h, arm_gic_common.h).
// ---------------------------------------------------------------------------

/** One GICv3 redistributor: RD_base + SGI_base frames, 2 × 64 KiB (GICV3_REDIST_SIZE). */
export const GICV3_REDIST_SIZE = 0x2_0000;
/** One GICv4 redistributor adds VLPI_base and a reserved frame: 4 × 64 KiB (GICV4_REDIST_SIZE). */
export const GICV4_REDIST_SIZE = 0x4_0000;
/** CPUs per Aff0 cluster with GICv3: ICC_SGI1R_EL1's 16-bit target list (GICV3_TARGETLIST_BITS). */
export const GICV3_TARGETLIST_BITS = 16;
/** GICv2 maximum CPUs (GIC_NCPU). */
export const GIC_NCPU = 8;
/** arm virt's MachineClass max_cpus: "512, which is the maximum supported by KVM". */
export const ARM_VIRT_MAX_CPUS = 512;
/** Bytes per vCPU of the pvtime region (PVTIME_SIZE_PER_CPU). */
export const PVTIME_SIZE_PER_CPU = 64;

// ---------------------------------------------------------------------------
// PPIs as INTIDs (include/hw/arm/bsa.h); the device tree writes INTID − 16.
// ---------------------------------------------------------------------------

/** PMU overflow interrupt, INTID 23 (PPI 7). */
export const VIRTUAL_PMU_IRQ = 23;
/** GIC maintenance interrupt, INTID 25 (PPI 9). */
export const ARCH_GIC_MAINT_IRQ = 25;
/** EL2 physical timer, INTID 26 (PPI 10). */
export const ARCH_TIMER_NS_EL2_IRQ = 26;
/** EL1 virtual timer, INTID 27 (PPI 11): the timer a KVM guest uses. */
export const ARCH_TIMER_VIRT_IRQ = 27;
/** EL2 virtual timer, INTID 28 (PPI 12); advertised only with EL2 + VHE. */
export const ARCH_TIMER_NS_EL2_VIRT_IRQ = 28;
/** Secure EL1 physical timer, INTID 29 (PPI 13). */
export const ARCH_TIMER_S_EL1_IRQ = 29;
/** Non-secure EL1 physical timer, INTID 30 (PPI 14). */
export const ARCH_TIMER_NS_EL1_IRQ = 30;

/** include/hw/arm/bsa.h INTID_TO_PPI(). */
export function intidToPpi(intid: number): number {
  return intid - 16;
}

// ---------------------------------------------------------------------------
// Device-tree cell values (include/hw/arm/fdt.h, include/system/device_tree.h).
// ---------------------------------------------------------------------------

/** First cell of a GIC `interrupts` triple: SPI. */
export const GIC_FDT_IRQ_TYPE_SPI = 0;
/** First cell of a GIC `interrupts` triple: PPI. */
export const GIC_FDT_IRQ_TYPE_PPI = 1;
/** Third cell: rising edge. */
export const GIC_FDT_IRQ_FLAGS_EDGE_LO_HI = 1;
/** Third cell: level, active high. */
export const GIC_FDT_IRQ_FLAGS_LEVEL_HI = 4;
/** PCI `ranges` space code: I/O ports. */
export const FDT_PCI_RANGE_IOPORT = 0x0100_0000;
/** PCI `ranges` space code: 32-bit memory. */
export const FDT_PCI_RANGE_MMIO = 0x0200_0000;
/** PCI `ranges` space code: 64-bit memory. */
export const FDT_PCI_RANGE_MMIO_64BIT = 0x0300_0000;
/** ECAM bytes per bus (include/hw/pci/pcie_host.h PCIE_MMCFG_SIZE_MIN). */
export const PCIE_MMCFG_SIZE_MIN = MiB;
/** The apb-pclk fixed clock feeding the PL011 (hw/arm/virt.c create_fdt): 24 MHz. */
export const ARM_VIRT_APB_PCLK_HZ = 24_000_000;

// ---------------------------------------------------------------------------
// PSCI function IDs written into /psci (target/arm/kvm-consts.h).
// ---------------------------------------------------------------------------

/** QEMU_PSCI_0_2_FN_CPU_OFF. */
export const QEMU_PSCI_0_2_FN_CPU_OFF = 0x8400_0002;
/** QEMU_PSCI_0_2_FN64_CPU_SUSPEND. */
export const QEMU_PSCI_0_2_FN64_CPU_SUSPEND = 0xc400_0001;
/** QEMU_PSCI_0_2_FN64_CPU_ON. */
export const QEMU_PSCI_0_2_FN64_CPU_ON = 0xc400_0003;
/** QEMU_PSCI_0_2_FN64_MIGRATE. */
export const QEMU_PSCI_0_2_FN64_MIGRATE = 0xc400_0005;
