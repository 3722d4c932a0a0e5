/**
 * The fixed memory map and interrupt numbers of QEMU's riscv `virt` board
 * (qemu/qemu hw/riscv/virt.c `virt_memmap`, include/hw/riscv/virt.h), with the
 * AIA/PLIC/ACLINT geometry it is derived from (include/hw/intc/riscv_imsic.h,
 * riscv_aplic.h, riscv_aclint.h; target/riscv/cpu_bits.h for the local
 * interrupt numbers).
 *
 * Values are upstream QEMU (master of August 2026, 11.1.50). QEMU 7.2 has the
 * same addresses; upstream added VIRT_IOMMU_SYS (0x3010000) and its IRQs
 * 36..39, dropped VIRT_IRQCHIP_IPI_MSI (7.2 wrote `riscv,ipi-id = <1>`), and
 * changed VIRT_PLIC_PRIORITY_BASE from 0x04 to 0x00.
 */

import type { MemMapEntry } from "./arm-virt-memmap.js";

const KiB = 1024;
const MiB = 1024 * KiB;
const GiB = 1024 * MiB;

// ---------------------------------------------------------------------------
// Geometry constants the map is sized with.
// ---------------------------------------------------------------------------

/** riscv virt's MachineClass max_cpus: VIRT_CPUS_MAX = 1 << VIRT_CPUS_MAX_BITS (9). */
export const RISCV_VIRT_CPUS_MAX = 512;
/** Sockets (NUMA nodes) the map has room for: VIRT_SOCKETS_MAX = 1 << 2. */
export const RISCV_VIRT_SOCKETS_MAX = 4;
/** Bytes of one IMSIC interrupt file page (IMSIC_MMIO_PAGE_SHIFT = 12). */
export const IMSIC_MMIO_PAGE_SIZE = 0x1000;
/** log2 of the IMSIC group (socket) stride (IMSIC_MMIO_GROUP_MIN_SHIFT). */
export const IMSIC_MMIO_GROUP_MIN_SHIFT = 24;
/** One socket's IMSIC window: VIRT_IMSIC_GROUP_MAX_SIZE = 1 << 24 (16 MiB). */
export const RISCV_VIRT_IMSIC_GROUP_MAX_SIZE = 16 * MiB;
/** All sockets' IMSIC windows: VIRT_IMSIC_MAX_SIZE = VIRT_SOCKETS_MAX × 16 MiB. */
export const RISCV_VIRT_IMSIC_MAX_SIZE = RISCV_VIRT_SOCKETS_MAX * RISCV_VIRT_IMSIC_GROUP_MAX_SIZE;
/** Maximum `aia-guests`: VIRT_IRQCHIP_MAX_GUESTS = (1 << 3) − 1. */
export const RISCV_VIRT_IRQCHIP_MAX_GUESTS = 7;
/** MSI identities per IMSIC file (VIRT_IRQCHIP_NUM_MSIS): `riscv,num-ids`. */
export const RISCV_VIRT_IRQCHIP_NUM_MSIS = 255;
/** Wired interrupt sources of the APLIC/PLIC (VIRT_IRQCHIP_NUM_SOURCES; VIRTIO_NDEV in 7.2, also 96). */
export const RISCV_VIRT_IRQCHIP_NUM_SOURCES = 96;
/** Priority bits of the APLIC/PLIC (VIRT_IRQCHIP_NUM_PRIO_BITS). */
export const RISCV_VIRT_IRQCHIP_NUM_PRIO_BITS = 3;

/** APLIC_MIN_SIZE (include/hw/intc/riscv_aplic.h): the domain registers before the IDCs. */
export const APLIC_MIN_SIZE = 0x4000;

/** include/hw/intc/riscv_aplic.h APLIC_SIZE(): 16 KiB + the IDC array (32 bytes per hart) rounded up to 16 KiB. */
export function aplicSize(numHarts: number): number {
  return APLIC_MIN_SIZE + Math.ceil((32 * numHarts) / APLIC_MIN_SIZE) * APLIC_MIN_SIZE;
}

/** PLIC register layout (include/hw/riscv/virt.h VIRT_PLIC_*). */
export const VIRT_PLIC_PRIORITY_BASE = 0x00;
/** Pending bits. */
export const VIRT_PLIC_PENDING_BASE = 0x1000;
/** Per-context enable bits. */
export const VIRT_PLIC_ENABLE_BASE = 0x2000;
/** Enable stride per context. */
export const VIRT_PLIC_ENABLE_STRIDE = 0x80;
/** Per-context threshold/claim. */
export const VIRT_PLIC_CONTEXT_BASE = 0x20_0000;
/** Threshold/claim stride per context. */
export const VIRT_PLIC_CONTEXT_STRIDE = 0x1000;

/** include/hw/riscv/virt.h VIRT_PLIC_SIZE(contexts). */
export function plicSize(numContexts: number): number {
  return VIRT_PLIC_CONTEXT_BASE + numContexts * VIRT_PLIC_CONTEXT_STRIDE;
}

/** ACLINT MSWI size (RISCV_ACLINT_SWI_SIZE). */
export const RISCV_ACLINT_SWI_SIZE = 0x4000;
/** ACLINT MTIMER size (RISCV_ACLINT_DEFAULT_MTIMER_SIZE). */
export const RISCV_ACLINT_DEFAULT_MTIMER_SIZE = 0x8000;
/** QEMU's TCG timer frequency (RISCV_ACLINT_DEFAULT_TIMEBASE_FREQ, 10 MHz). Under KVM the host's is used. */
export const RISCV_ACLINT_DEFAULT_TIMEBASE_FREQ = 10_000_000;

// ---------------------------------------------------------------------------
// virt_memmap (hw/riscv/virt.c).
// ---------------------------------------------------------------------------

/** Debug module. */
export const RISCV_VIRT_DEBUG: MemMapEntry = { base: 0x0, size: 0x100 };
/** Mask ROM with the reset vector. */
export const RISCV_VIRT_MROM: MemMapEntry = { base: 0x1000, size: 0xf000 };
/** SiFive test device (syscon poweroff/reboot; not modelled). */
export const RISCV_VIRT_TEST: MemMapEntry = { base: 0x10_0000, size: 0x1000 };
/** Goldfish RTC (not modelled). */
export const RISCV_VIRT_RTC: MemMapEntry = { base: 0x10_1000, size: 0x1000 };
/** CLINT / ACLINT, one per socket (TCG only). */
export const RISCV_VIRT_CLINT: MemMapEntry = { base: 0x200_0000, size: 0x1_0000 };
/** ACLINT SSWI, one per socket (aclint=on, TCG only). */
export const RISCV_VIRT_ACLINT_SSWI: MemMapEntry = { base: 0x2f0_0000, size: 0x4000 };
/** The PCIe I/O-port window. */
export const RISCV_VIRT_PCIE_PIO: MemMapEntry = { base: 0x300_0000, size: 0x1_0000 };
/** riscv-iommu-sys (iommu-sys=on; upstream only). */
export const RISCV_VIRT_IOMMU_SYS: MemMapEntry = { base: 0x301_0000, size: 0x1000 };
/** Dynamic sysbus devices. */
export const RISCV_VIRT_PLATFORM_BUS: MemMapEntry = { base: 0x400_0000, size: 0x200_0000 };
/** PLIC, one per socket, each VIRT_PLIC_SIZE(VIRT_CPUS_MAX × 2) (aia=none). */
export const RISCV_VIRT_PLIC: MemMapEntry = { base: 0xc00_0000, size: plicSize(RISCV_VIRT_CPUS_MAX * 2) };
/** M-level APLIC, one per socket, APLIC_SIZE(VIRT_CPUS_MAX) (TCG only). */
export const RISCV_VIRT_APLIC_M: MemMapEntry = { base: 0xc00_0000, size: aplicSize(RISCV_VIRT_CPUS_MAX) };
/** S-level APLIC, one per socket (one in all under the in-kernel KVM AIA). */
export const RISCV_VIRT_APLIC_S: MemMapEntry = { base: 0xd00_0000, size: aplicSize(RISCV_VIRT_CPUS_MAX) };
/** ns16550a UART0. */
export const RISCV_VIRT_UART0: MemMapEntry = { base: 0x1000_0000, size: 0x100 };
/** The first of VIRTIO_COUNT virtio-mmio transports, 4 KiB each (not modelled). */
export const RISCV_VIRT_VIRTIO: MemMapEntry = { base: 0x1000_1000, size: 0x1000 };
/** fw_cfg (not modelled). */
export const RISCV_VIRT_FW_CFG: MemMapEntry = { base: 0x1010_0000, size: 0x18 };
/** Two pflash banks (not modelled). */
export const RISCV_VIRT_FLASH: MemMapEntry = { base: 0x2000_0000, size: 0x400_0000 };
/** M-level IMSIC files, one 16 MiB group per socket (TCG only). */
export const RISCV_VIRT_IMSIC_M: MemMapEntry = { base: 0x2400_0000, size: RISCV_VIRT_IMSIC_MAX_SIZE };
/** S-level IMSIC files and their guest files, one 16 MiB group per socket. */
export const RISCV_VIRT_IMSIC_S: MemMapEntry = { base: 0x2800_0000, size: RISCV_VIRT_IMSIC_MAX_SIZE };
/** PCIe ECAM: 256 MiB, buses 0..255. */
export const RISCV_VIRT_PCIE_ECAM: MemMapEntry = { base: 0x3000_0000, size: 0x1000_0000 };
/** The 32-bit PCIe MMIO window. */
export const RISCV_VIRT_PCIE_MMIO: MemMapEntry = { base: 0x4000_0000, size: 0x4000_0000 };
/** DRAM base; the size is `-m`. */
export const RISCV_VIRT_DRAM_BASE = 0x8000_0000;
/** The 64-bit PCIe window (VIRT64_HIGH_PCIE_MMIO_SIZE, 16 GiB), aligned on its size above the top of RAM. */
export const RISCV_VIRT64_HIGH_PCIE_MMIO_SIZE = 16 * GiB;

// ---------------------------------------------------------------------------
// Wired interrupt numbers (include/hw/riscv/virt.h): APLIC/PLIC source IDs.
// ---------------------------------------------------------------------------

/** virtio-mmio transports: sources 1..8. */
export const RISCV_VIRT_VIRTIO_IRQ = 1;
/** Number of virtio-mmio transports (VIRTIO_COUNT). */
export const RISCV_VIRT_VIRTIO_COUNT = 8;
/** UART0: source 10. */
export const RISCV_VIRT_UART0_IRQ = 10;
/** Goldfish RTC: source 11. */
export const RISCV_VIRT_RTC_IRQ = 11;
/** PCIe INTA..INTD: sources 32..35. */
export const RISCV_VIRT_PCIE_IRQ = 0x20;
/** riscv-iommu-sys: sources 36..39 (upstream only). */
export const RISCV_VIRT_IOMMU_SYS_IRQ = 0x24;
/** Platform bus: sources 64..95. */
export const RISCV_VIRT_PLATFORM_BUS_IRQ = 64;
/** Interrupt lines of the platform bus (VIRT_PLATFORM_BUS_NUM_IRQS). */
export const RISCV_VIRT_PLATFORM_BUS_NUM_IRQS = 32;
/** The ns16550a input clock written as `clock-frequency` (hw/riscv/virt.c create_fdt_uart). */
export const RISCV_VIRT_UART0_CLOCK_HZ = 3_686_400;

// ---------------------------------------------------------------------------
// Local interrupt numbers (target/riscv/cpu_bits.h), as cells in
// `interrupts-extended` towards a hart's riscv,cpu-intc.
// ---------------------------------------------------------------------------

/** Supervisor software interrupt. */
export const RISCV_IRQ_S_SOFT = 1;
/** Machine software interrupt. */
export const RISCV_IRQ_M_SOFT = 3;
/** Machine timer interrupt. */
export const RISCV_IRQ_M_TIMER = 7;
/** Supervisor external interrupt. */
export const RISCV_IRQ_S_EXT = 9;
/** Machine external interrupt. */
export const RISCV_IRQ_M_EXT = 11;

/** hw/riscv/aia.c imsic_num_bits(): the smallest n with 2^n ≥ count. */
export function imsicNumBits(count: number): number {
  let n = 0;
  while (2 ** n < count) n++;
  return n;
}

/** include/hw/intc/riscv_imsic.h IMSIC_HART_SIZE(guest_bits): one hart's S file plus its guest files. */
export function imsicHartSize(guestBits: number): number {
  return 2 ** guestBits * IMSIC_MMIO_PAGE_SIZE;
}
