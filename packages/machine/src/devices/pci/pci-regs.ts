/**
 * PCI configuration-space offsets and bits, named and valued as in Linux
 * include/uapi/linux/pci_regs.h (which QEMU includes as
 * include/standard-headers/linux/pci_regs.h). Type 0 header: PCI Local Bus
 * Specification 3.0 §6.1-§6.2; MSI-X capability: §6.8.2; PCI Express
 * capability: PCI Express Base Specification 4.0 §7.5.3.
 */

/** Conventional configuration space size (PCI_CFG_SPACE_SIZE). */
export const PCI_CFG_SPACE_SIZE = 256;
/** PCI Express configuration space size (PCI_CFG_SPACE_EXP_SIZE). */
export const PCI_CFG_SPACE_EXP_SIZE = 4096;
/** Size of the type 0/1 header (QEMU PCI_CONFIG_HEADER_SIZE). */
export const PCI_CONFIG_HEADER_SIZE = 0x40;

export const PCI_VENDOR_ID = 0x00;
export const PCI_DEVICE_ID = 0x02;
export const PCI_COMMAND = 0x04;
/** Enable response in I/O space. */
export const PCI_COMMAND_IO = 0x1;
/** Enable response in memory space. */
export const PCI_COMMAND_MEMORY = 0x2;
/** Enable bus mastering (and with it MSI/MSI-X writes). */
export const PCI_COMMAND_MASTER = 0x4;
/** Enable SERR. */
export const PCI_COMMAND_SERR = 0x100;
/** INTx emulation disable. */
export const PCI_COMMAND_INTX_DISABLE = 0x400;
export const PCI_STATUS = 0x06;
/** INTx asserted (read-only). */
export const PCI_STATUS_INTERRUPT = 0x08;
/** Capability list present. */
export const PCI_STATUS_CAP_LIST = 0x10;
export const PCI_STATUS_PARITY = 0x100;
export const PCI_STATUS_SIG_TARGET_ABORT = 0x800;
export const PCI_STATUS_REC_TARGET_ABORT = 0x1000;
export const PCI_STATUS_REC_MASTER_ABORT = 0x2000;
export const PCI_STATUS_SIG_SYSTEM_ERROR = 0x4000;
export const PCI_STATUS_DETECTED_PARITY = 0x8000;
export const PCI_CLASS_REVISION = 0x08;
export const PCI_REVISION_ID = 0x08;
export const PCI_CLASS_PROG = 0x09;
export const PCI_CLASS_DEVICE = 0x0a;
export const PCI_CACHE_LINE_SIZE = 0x0c;
export const PCI_LATENCY_TIMER = 0x0d;
export const PCI_HEADER_TYPE = 0x0e;
/** Multi-function device bit of PCI_HEADER_TYPE. */
export const PCI_HEADER_TYPE_MFD = 0x80;
export const PCI_BIST = 0x0f;
export const PCI_BASE_ADDRESS_0 = 0x10;
/** Memory space BAR (bit 0 = 0). */
export const PCI_BASE_ADDRESS_SPACE_MEMORY = 0x00;
/** 64-bit memory BAR type. */
export const PCI_BASE_ADDRESS_MEM_TYPE_64 = 0x04;
/** Prefetchable memory BAR. */
export const PCI_BASE_ADDRESS_MEM_PREFETCH = 0x08;
export const PCI_SUBSYSTEM_VENDOR_ID = 0x2c;
export const PCI_SUBSYSTEM_ID = 0x2e;
export const PCI_ROM_ADDRESS = 0x30;
export const PCI_CAPABILITY_LIST = 0x34;
export const PCI_INTERRUPT_LINE = 0x3c;
export const PCI_INTERRUPT_PIN = 0x3d;
/** Number of BARs of a type 0 header. */
export const PCI_NUM_BARS = 6;

/** Capability list: ID byte. */
export const PCI_CAP_LIST_ID = 0;
/** Capability list: next pointer. */
export const PCI_CAP_LIST_NEXT = 1;
/** PCI Express capability ID. */
export const PCI_CAP_ID_EXP = 0x10;
/** MSI-X capability ID. */
export const PCI_CAP_ID_MSIX = 0x11;

/** MSI-X Message Control (16 bits, at capability + 2). */
export const PCI_MSIX_FLAGS = 2;
/** Table Size field: N − 1. */
export const PCI_MSIX_FLAGS_QSIZE = 0x07ff;
/** Function Mask. */
export const PCI_MSIX_FLAGS_MASKALL = 0x4000;
/** MSI-X Enable. */
export const PCI_MSIX_FLAGS_ENABLE = 0x8000;
/** Table Offset/BIR. */
export const PCI_MSIX_TABLE = 4;
/** PBA Offset/BIR. */
export const PCI_MSIX_PBA = 8;
/** BIR field of Table/PBA Offset. */
export const PCI_MSIX_FLAGS_BIRMASK = 0x7;
/** Size of the MSI-X capability (QEMU MSIX_CAP_LENGTH). */
export const MSIX_CAP_LENGTH = 12;
/** Bytes per MSI-X table entry. */
export const PCI_MSIX_ENTRY_SIZE = 16;
export const PCI_MSIX_ENTRY_LOWER_ADDR = 0x0;
export const PCI_MSIX_ENTRY_UPPER_ADDR = 0x4;
export const PCI_MSIX_ENTRY_DATA = 0x8;
export const PCI_MSIX_ENTRY_VECTOR_CTRL = 0xc;
/** Vector Control: Mask Bit. */
export const PCI_MSIX_ENTRY_CTRL_MASKBIT = 0x1;

/** PCI Express Capabilities register (16 bits). */
export const PCI_EXP_FLAGS = 2;
/** Capability version 2. */
export const PCI_EXP_FLAGS_VER2 = 0x0002;
/** Device/port type field shift. */
export const PCI_EXP_FLAGS_TYPE_SHIFT = 4;
/** Root Complex Integrated Endpoint. */
export const PCI_EXP_TYPE_RC_END = 0x9;
export const PCI_EXP_DEVCAP = 4;
/** Role-Based Error Reporting. */
export const PCI_EXP_DEVCAP_RBER = 0x00008000;
/** Function-Level Reset capable. */
export const PCI_EXP_DEVCAP_FLR = 0x10000000;
export const PCI_EXP_DEVCTL = 8;
export const PCI_EXP_DEVSTA = 10;
export const PCI_EXP_DEVCTL2 = 40;
/** Size of a version 2 PCI Express capability (PCI_EXP_VER2_SIZEOF). */
export const PCI_EXP_VER2_SIZEOF = 0x3c;

/** PCI_VENDOR_ID_REDHAT (QEMU's own devices). */
export const PCI_VENDOR_ID_REDHAT = 0x1b36;
/** PCI_DEVICE_ID_REDHAT_PCIE_HOST: the generic PCIe host bridge function. */
export const PCI_DEVICE_ID_REDHAT_PCIE_HOST = 0x0008;
/** PCI_SUBVENDOR_ID_REDHAT_QUMRANET: QEMU's default subsystem vendor. */
export const PCI_SUBVENDOR_ID_REDHAT_QUMRANET = 0x1af4;
/** PCI_SUBDEVICE_ID_QEMU: QEMU's default subsystem ID. */
export const PCI_SUBDEVICE_ID_QEMU = 0x1100;
/** PCI_CLASS_BRIDGE_HOST as a 24-bit class code. */
export const PCI_CLASS_BRIDGE_HOST = 0x060000;

/** ECAM address: bus number field (PCIE_MMCFG_BUS). */
export function ecamBus(offset: number): number {
  return (offset >>> 20) & 0xff;
}

/** ECAM address: device/function number field (PCIE_MMCFG_DEVFN). */
export function ecamDevfn(offset: number): number {
  return (offset >>> 12) & 0xff;
}

/** PCI_DEVFN(slot, func). */
export function pciDevfn(slot: number, func: number): number {
  return ((slot & 0x1f) << 3) | (func & 0x07);
}
