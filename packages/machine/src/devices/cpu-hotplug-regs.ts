/**
 * Register offsets, bits and codes of the CPU hotplug interface irqlab's arm
 * `virt` board gives a device-tree guest: the ACPI CPU hotplug register block
 * of QEMU (hw/acpi/cpu.c, docs/specs/acpi_cpu_hotplug.rst "Modern CPU
 * hotplug interface") and the event selector of the ACPI Generic Event
 * Device that signals it (hw/acpi/generic_event_device.c,
 * include/hw/acpi/generic_event_device.h), plus the ACPI _OST codes a guest
 * reports through it (ACPI 6.5 §6.3.5 "_OST"; Linux include/linux/acpi.h).
 *
 * QEMU's arm virt machine has no device-tree binding for either (its CPU
 * hotplug is ACPI only: the GED's _EVT calls \_SB.CPUS.CSCN, which walks
 * these registers). irqlab's guests have no ACPI, so the board describes
 * the two register blocks and the GED interrupt in one device-tree node,
 * compatible {@link IRQLAB_CPU_HOTPLUG_COMPATIBLE}; a guest driver does
 * what QEMU's AML does, register for register.
 */

import type { MemMapEntry } from "../board/arm-virt-memmap.js";

// ---- the device-tree binding ----------------------------------------------------

/**
 * `compatible` of the node. `reg` = <the CPU hotplug block>, <the GED event
 * selector>; `interrupts` = the GED interrupt (SPI 9, rising edge: the GED's
 * _CRS declares it AML_EDGE / AML_ACTIVE_HIGH and QEMU pulses it).
 */
export const IRQLAB_CPU_HOTPLUG_COMPATIBLE = "irqlab,cpu-hotplug";

/**
 * Where the CPU hotplug block sits: 0x090d0000, the first 64 KiB hole of the
 * arm virt base_memmap after VIRT_ACPI_PCIHP (0x090c0000, upstream QEMU).
 * Salil Mehta's arm vCPU hotplug RFCs put VIRT_CPUHP_ACPI at 0x090a0000
 * (V1, before VIRT_PVTIME took it) and later at 0x090c0000, which upstream
 * has since given to ACPI PCI hotplug.
 */
export const IRQLAB_VIRT_CPUHP: MemMapEntry = { base: 0x090d_0000, size: 12 };

// ---- ACPI CPU hotplug block (hw/acpi/cpu.c) -----------------------------------

/** ACPI_CPU_HOTPLUG_REG_LEN: the block is 12 bytes. */
export const ACPI_CPU_HOTPLUG_REG_LEN = 12;
/** ACPI_CPU_SELECTOR_OFFSET_WR: write the CPU selector (CSEL, 32 bits). */
export const ACPI_CPU_SELECTOR_OFFSET_WR = 0;
/** ACPI_CPU_CMD_DATA2_OFFSET_R: read command data 2 (the upper 32 bits of CPHP_GET_CPU_ID_CMD). */
export const ACPI_CPU_CMD_DATA2_OFFSET_R = 0;
/** ACPI_CPU_FLAGS_OFFSET_RW: the flags byte of the selected CPU. */
export const ACPI_CPU_FLAGS_OFFSET_RW = 4;
/** ACPI_CPU_CMD_OFFSET_WR: the command byte (CCMD). */
export const ACPI_CPU_CMD_OFFSET_WR = 5;
/** ACPI_CPU_CMD_DATA_OFFSET_RW: command data (CDAT, 32 bits). */
export const ACPI_CPU_CMD_DATA_OFFSET_RW = 8;

/** Flags, read: the selected CPU is present (CPEN, "1 if enabled, read only"). */
export const CPU_FLAG_ENABLED = 1 << 0;
/** Flags: read 1 = an insert event is pending (CINS); write 1 = clear it. */
export const CPU_FLAG_INSERT = 1 << 1;
/** Flags: read 1 = a remove event is pending (CRMV); write 1 = clear it. */
export const CPU_FLAG_REMOVE = 1 << 2;
/** Flags, write: eject the selected CPU (CEJ0, `_EJ0`). */
export const CPU_FLAG_EJECT = 1 << 3;
/** Flags: read 1 = firmware was asked to eject (CEJF); write 1 = ask firmware to eject (OVMF's SMI path). */
export const CPU_FLAG_FW_REMOVE = 1 << 4;

/** Command: select the next CPU with a pending insert/remove event, from the selector on; data = the selector. */
export const CPHP_GET_NEXT_CPU_WITH_EVENT_CMD = 0;
/** Command: command-data writes set the selected CPU's _OST source event. */
export const CPHP_OST_EVENT_CMD = 1;
/** Command: command-data writes set the _OST status and report ACPI_DEVICE_OST. */
export const CPHP_OST_STATUS_CMD = 2;
/** Command: command data / data 2 read the selected CPU's architecture id (arm: the MPIDR affinity). */
export const CPHP_GET_CPU_ID_CMD = 3;
/** CPHP_CMD_MAX: command writes at or above it are ignored. */
export const CPHP_CMD_MAX = 4;

// ---- ACPI GED event selector (hw/acpi/generic_event_device.c) --------------------

/** ACPI_GED_EVT_SEL_OFFSET: the event selector (ESEL), read-and-clear. */
export const ACPI_GED_EVT_SEL_OFFSET = 0;
/** ACPI_GED_EVT_SEL_LEN: 4 bytes, 32-bit accesses only. */
export const ACPI_GED_EVT_SEL_LEN = 4;
/** ACPI_GED_MEM_HOTPLUG_EVT. */
export const ACPI_GED_MEM_HOTPLUG_EVT = 0x1;
/** ACPI_GED_PWR_DOWN_EVT. */
export const ACPI_GED_PWR_DOWN_EVT = 0x2;
/** ACPI_GED_NVDIMM_HOTPLUG_EVT. */
export const ACPI_GED_NVDIMM_HOTPLUG_EVT = 0x4;
/** ACPI_GED_CPU_HOTPLUG_EVT: the selector bit of a CPU hotplug event. */
export const ACPI_GED_CPU_HOTPLUG_EVT = 0x8;

// ---- ACPI _OST codes (ACPI 6.5 §6.3.5; Linux include/linux/acpi.h) ----------------

/** Source event: Device Check notification (a CPU was inserted). */
export const ACPI_NOTIFY_DEVICE_CHECK = 0x1;
/** Source event: Eject Request notification (a CPU is to be removed). */
export const ACPI_NOTIFY_EJECT_REQUEST = 0x3;
/** Source event: OSPM-initiated eject. */
export const ACPI_OST_EC_OSPM_EJECT = 0x103;
/** Source event: OSPM insertion processing. */
export const ACPI_OST_EC_OSPM_INSERTION = 0x200;
/** Status: success. */
export const ACPI_OST_SC_SUCCESS = 0x0;
/** Status: non-specific failure. */
export const ACPI_OST_SC_NON_SPECIFIC_FAILURE = 0x1;
/** Status (eject request): ejection not supported by OSPM. */
export const ACPI_OST_SC_EJECT_NOT_SUPPORTED = 0x80;
/** Status (eject request): device busy. */
export const ACPI_OST_SC_DEVICE_BUSY = 0x82;
/** Status (eject request): ejection pending, not yet done. */
export const ACPI_OST_SC_EJECT_IN_PROGRESS = 0x84;
