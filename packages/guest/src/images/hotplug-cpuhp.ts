/**
 * The guest's driver for irqlab's CPU hotplug node (`irqlab,cpu-hotplug`):
 * QEMU's ACPI CPU hotplug register block (hw/acpi/cpu.c,
 * docs/specs/acpi_cpu_hotplug.rst) and the ACPI GED event selector
 * (hw/acpi/generic_event_device.c), driven register for register the way
 * QEMU's AML drives them for an ACPI guest:
 *
 * - the GED _EVT: read the selector (read-and-clear); bit
 *   ACPI_GED_CPU_HOTPLUG_EVT means "scan the CPUs" (\_SB.CPUS.CSCN);
 * - CSCN: from slot 0 up, CSEL = the slot and CPHP_GET_NEXT_CPU_WITH_EVENT_CMD
 *   selects the next CPU with an event; its flags say insert (CINS) or
 *   remove (CRMV); writing the flag back clears it;
 * - CSTA / the CPU's MPIDR: CPEN in the flags, CPHP_GET_CPU_ID_CMD in
 *   command data (and data 2 for the upper half) — what an ACPI guest
 *   reads from the MADT and _MAT;
 * - COST (_OST): CPHP_OST_EVENT_CMD, the source event in command data,
 *   then CPHP_OST_STATUS_CMD and the status, which QEMU reports as
 *   ACPI_DEVICE_OST;
 * - CEJ0 (_EJ0): the eject flag.
 *
 * The constants are the device's register layout as QEMU defines it; the
 * guest keeps its own copy, as a Linux driver keeps its register defines.
 */

import type { Fdt } from "@irqlab/fdt";
import { op } from "@irqlab/sim";
import { DtFault, interruptsOf, isAvailable, regions } from "../boot/dt-read.js";
import type { InterruptSpec, Region } from "../boot/platform-info.js";
import type { GuestCode } from "../guest-image.js";

/** The node's `compatible`. */
export const CPU_HOTPLUG_COMPATIBLE = "irqlab,cpu-hotplug";

/** ACPI_CPU_SELECTOR_OFFSET_WR / ACPI_CPU_CMD_DATA2_OFFSET_R. */
export const CPUHP_SELECTOR = 0;
/** ACPI_CPU_FLAGS_OFFSET_RW (byte). */
export const CPUHP_FLAGS = 4;
/** ACPI_CPU_CMD_OFFSET_WR (byte). */
export const CPUHP_COMMAND = 5;
/** ACPI_CPU_CMD_DATA_OFFSET_RW. */
export const CPUHP_DATA = 8;
/** Flags: CPEN, CINS, CRMV, CEJ0. */
export const CPUHP_FLAG_ENABLED = 1;
export const CPUHP_FLAG_INSERT = 2;
export const CPUHP_FLAG_REMOVE = 4;
export const CPUHP_FLAG_EJECT = 8;
/** Commands (hw/acpi/cpu.c enum). */
export const CPHP_GET_NEXT_CPU_WITH_EVENT_CMD = 0;
export const CPHP_OST_EVENT_CMD = 1;
export const CPHP_OST_STATUS_CMD = 2;
export const CPHP_GET_CPU_ID_CMD = 3;
/** ACPI_GED_CPU_HOTPLUG_EVT in the GED event selector. */
export const GED_CPU_HOTPLUG_EVT = 0x8;
/** _OST source events and status codes (ACPI 6.5 §6.3.5; Linux include/linux/acpi.h). */
export const ACPI_NOTIFY_DEVICE_CHECK = 0x1;
export const ACPI_NOTIFY_EJECT_REQUEST = 0x3;
export const ACPI_OST_SC_SUCCESS = 0x0;
export const ACPI_OST_SC_NON_SPECIFIC_FAILURE = 0x1;
export const ACPI_OST_SC_DEVICE_BUSY = 0x82;
export const ACPI_OST_SC_EJECT_IN_PROGRESS = 0x84;

/** How many slots {@link CpuHotplugPort.possibleCpus} looks at, at most (QEMU's arm virt max_cpus). */
export const CPUHP_MAX_SLOTS = 512;

/** The node as the driver found it. */
export interface CpuHotplugInfo {
  readonly path: string;
  /** The CPU hotplug block (`reg` 0). */
  readonly block: Region;
  /** The GED event selector (`reg` 1). */
  readonly ged: Region;
  /** The GED interrupt. */
  readonly interrupt: InterruptSpec;
}

/** A CPU slot with an event, as one step of the scan finds it. */
export interface CpuHotplugEvent {
  readonly slot: number;
  readonly kind: "insert" | "remove";
}

/**
 * Finds the first available `irqlab,cpu-hotplug` node: its two register
 * blocks and its interrupt. Undefined without one; a message for a node
 * that is malformed.
 */
export function findCpuHotplug(fdt: Fdt): CpuHotplugInfo | string | undefined {
  const node = fdt.findCompatible(CPU_HOTPLUG_COMPATIBLE).find(isAvailable);
  if (node === undefined) return undefined;
  try {
    const regs = regions(node);
    const irqs = interruptsOf(fdt, node);
    if (regs.length < 2) return `${node.path}: reg has ${regs.length} entries, expected the CPU hotplug block and the GED event selector`;
    if (irqs.length < 1) return `${node.path}: no interrupts`;
    return { path: node.path, block: regs[0]!, ged: regs[1]!, interrupt: irqs[0]! };
  } catch (e) {
    if (e instanceof DtFault) return e.message;
    throw e;
  }
}

/** The register accesses of the block and the GED selector. */
export class CpuHotplugPort {
  readonly info: CpuHotplugInfo;
  readonly #base: number;

  constructor(info: CpuHotplugInfo) {
    this.info = info;
    this.#base = info.block.base;
  }

  /** GED _EVT's `Local0 = ESEL`: the pending events, cleared by the read. */
  *readGedEvents(): GuestCode<number> {
    return (yield op.read(this.info.ged.base, 4)).value;
  }

  /** CSEL = slot. */
  *select(slot: number): GuestCode {
    yield op.write(this.#base + CPUHP_SELECTOR, 4, slot);
  }

  /** CCMD = command. */
  *command(cmd: number): GuestCode {
    yield op.write(this.#base + CPUHP_COMMAND, 1, cmd);
  }

  /** The flags byte of the selected CPU. */
  *flags(): GuestCode<number> {
    return (yield op.read(this.#base + CPUHP_FLAGS, 1)).value;
  }

  /** Writes the flags byte (a flag to clear, or CEJ0). */
  *writeFlags(v: number): GuestCode {
    yield op.write(this.#base + CPUHP_FLAGS, 1, v);
  }

  /** The MPIDR of `slot` (CPHP_GET_CPU_ID_CMD: command data and data 2). */
  *archId(slot: number): GuestCode<number> {
    yield* this.select(slot);
    yield* this.command(CPHP_GET_CPU_ID_CMD);
    const lo = (yield op.read(this.#base + CPUHP_DATA, 4)).value;
    const hi = (yield op.read(this.#base + CPUHP_SELECTOR, 4)).value;
    return hi * 2 ** 32 + lo;
  }

  /**
   * Every possible CPU's MPIDR and whether it is present, by slot. The block
   * reads 0 for a selector past the last slot, and only slot 0 (the boot
   * CPU) has MPIDR 0 on a virt board, so the walk stops at the first later
   * slot whose id reads 0.
   */
  *possibleCpus(): GuestCode<{ readonly slot: number; readonly hwid: number; readonly present: boolean }[]> {
    const out: { slot: number; hwid: number; present: boolean }[] = [];
    for (let slot = 0; slot < CPUHP_MAX_SLOTS; slot++) {
      const hwid = yield* this.archId(slot);
      if (slot > 0 && hwid === 0) break;
      const present = ((yield* this.flags()) & CPUHP_FLAG_ENABLED) !== 0;
      out.push({ slot, hwid, present });
    }
    return out;
  }

  /**
   * One step of CSCN (QEMU's scan since 5.0): select `from`, run
   * CPHP_GET_NEXT_CPU_WITH_EVENT_CMD and read the slot it found; a slot
   * below `from` means the search wrapped, and a selector past the last slot
   * makes the block ignore the command and read 0, which ends the scan too.
   * Clears the event found (insert before remove) and returns it, or
   * undefined when no slot from `from` on has one.
   */
  *nextEvent(from: number): GuestCode<CpuHotplugEvent | undefined> {
    yield* this.select(from);
    yield* this.command(CPHP_GET_NEXT_CPU_WITH_EVENT_CMD);
    const slot = (yield op.read(this.#base + CPUHP_DATA, 4)).value;
    if (slot < from) return undefined;
    const f = yield* this.flags();
    if ((f & CPUHP_FLAG_INSERT) !== 0) {
      yield* this.writeFlags(CPUHP_FLAG_INSERT);
      return { slot, kind: "insert" };
    }
    if ((f & CPUHP_FLAG_REMOVE) !== 0) {
      yield* this.writeFlags(CPUHP_FLAG_REMOVE);
      return { slot, kind: "remove" };
    }
    return undefined;
  }

  /** COST: _OST(source event, status) for `slot`. */
  *ost(slot: number, source: number, status: number): GuestCode {
    yield* this.select(slot);
    yield* this.command(CPHP_OST_EVENT_CMD);
    yield op.write(this.#base + CPUHP_DATA, 4, source);
    yield* this.command(CPHP_OST_STATUS_CMD);
    yield op.write(this.#base + CPUHP_DATA, 4, status);
  }

  /** CEJ0: eject `slot`. */
  *eject(slot: number): GuestCode {
    yield* this.select(slot);
    yield* this.writeFlags(CPUHP_FLAG_EJECT);
  }
}
