/**
 * QEMU's ACPI CPU hotplug register block (hw/acpi/cpu.c cpu_hotplug_rd,
 * cpu_hotplug_wr, acpi_cpu_plug_cb, acpi_cpu_unplug_request_cb,
 * acpi_cpu_unplug_cb, acpi_cpu_device_status; docs/specs/acpi_cpu_hotplug.rst)
 * for the possible CPUs of a machine, raising its events through the GED
 * (./cpu-hotplug-ged.ts). The register-level story is QEMU's:
 *
 * - device_add of a CPU: the slot becomes present and gets an insert event;
 *   the GED interrupt fires. The guest selects CPUs with events
 *   (CPHP_GET_NEXT_CPU_WITH_EVENT_CMD), reads the new one's MPIDR
 *   (CPHP_GET_CPU_ID_CMD), clears the insert flag, brings the CPU up and
 *   reports _OST (event, then status: an ACPI_DEVICE_OST event).
 * - device_del: the slot gets a remove event; the guest takes the CPU
 *   offline, writes the eject flag, and the machine unplugs it (QEMU:
 *   hotplug_handler_unplug → DEVICE_DELETED). Eject of an absent CPU or of
 *   the boot CPU is ignored (QEMU traces it; it is not a guest error).
 *
 * Accesses: valid 1..4 bytes, no `impl` (so a 4-byte write at offset 4 is
 * one write of the flags with the command byte ignored); while the selector
 * names no CPU every read is 0 and every write but the selector's is
 * dropped. Command data reads 0 for commands that return nothing.
 * QEMU's block has no reset handler: the state survives a system reset.
 */

import type { AccessSize, MmioDevice, WideValue } from "@irqlab/sim";
import { DeviceLog, type DeviceTraceOptions } from "./device-io.js";
import {
  ACPI_CPU_CMD_DATA2_OFFSET_R,
  ACPI_CPU_CMD_DATA_OFFSET_RW,
  ACPI_CPU_CMD_OFFSET_WR,
  ACPI_CPU_FLAGS_OFFSET_RW,
  ACPI_CPU_SELECTOR_OFFSET_WR,
  CPHP_CMD_MAX,
  CPHP_GET_CPU_ID_CMD,
  CPHP_GET_NEXT_CPU_WITH_EVENT_CMD,
  CPHP_OST_EVENT_CMD,
  CPHP_OST_STATUS_CMD,
  CPU_FLAG_EJECT,
  CPU_FLAG_ENABLED,
  CPU_FLAG_FW_REMOVE,
  CPU_FLAG_INSERT,
  CPU_FLAG_REMOVE,
} from "./cpu-hotplug-regs.js";
import { qemuAccessRules, qemuInvalidMessage, qemuRead, qemuWrite, type QemuInvalidReason, type QemuRegionOps } from "./qemu-memory.js";

const RULES = qemuAccessRules({ validMin: 1, validMax: 4 });

/** QAPI ACPIOSTInfo (qapi/acpi.json): what ACPI_DEVICE_OST carries. */
export interface AcpiOstInfo {
  /** The device's id, when the CPU is present and was given one. */
  readonly device?: string;
  /** The slot: the CPU's index in possible_cpus, as a string. */
  readonly slot: string;
  readonly "slot-type": "CPU";
  /** The _OST source event (ACPI_NOTIFY_*, ACPI_OST_EC_*). */
  readonly source: number;
  /** The _OST status code (ACPI_OST_SC_*). */
  readonly status: number;
}

/** Construction options of an {@link AcpiCpuHotplug}. */
export interface AcpiCpuHotplugOptions extends DeviceTraceOptions {
  /** Architecture id of every possible CPU, by slot (arm: MPIDR affinity). */
  readonly archIds: readonly number[];
  /** acpi_send_event(ACPI_CPU_HOTPLUG_STATUS): the GED raises ACPI_GED_CPU_HOTPLUG_EVT. */
  readonly sendEvent: () => void;
  /** hotplug_handler_unplug(): the guest ejected the CPU in `slot`. */
  readonly eject: (slot: number) => void;
  /** qapi_event_send_acpi_device_ost(). */
  readonly ost: (info: AcpiOstInfo) => void;
  /** The id of the CPU device in `slot` (device_add's `id`), if it has one. */
  readonly deviceId?: (slot: number) => string | undefined;
  /** The boot CPU's slot (first_cpu), which cannot be ejected. Default 0. */
  readonly bootSlot?: number;
}

/** Plain snapshot (QEMU vmstate "CPU hotplug state" plus which slots are present). */
export interface AcpiCpuHotplugState {
  readonly version: 1;
  readonly selector: number;
  readonly command: number;
  readonly present: readonly boolean[];
  readonly inserting: readonly boolean[];
  readonly removing: readonly boolean[];
  readonly fwRemove: readonly boolean[];
  readonly ostEvent: readonly number[];
  readonly ostStatus: readonly number[];
}

/** The CPU hotplug register block. Map it (ACPI_CPU_HOTPLUG_REG_LEN bytes) on the MMIO bus. */
export class AcpiCpuHotplug implements MmioDevice, QemuRegionOps {
  readonly rules = RULES;
  /** Eject writes ignored because the selected CPU is absent or the boot CPU (trace_cpuhp_acpi_ejecting_invalid_cpu). */
  ignoredEjects = 0;
  readonly #log: DeviceLog;
  readonly #archIds: readonly number[];
  readonly #sendEvent: () => void;
  readonly #eject: (slot: number) => void;
  readonly #ost: (info: AcpiOstInfo) => void;
  readonly #deviceId: (slot: number) => string | undefined;
  readonly #bootSlot: number;
  readonly #present: Uint8Array;
  readonly #inserting: Uint8Array;
  readonly #removing: Uint8Array;
  readonly #fwRemove: Uint8Array;
  readonly #ostEvent: Uint32Array;
  readonly #ostStatus: Uint32Array;
  #selector = 0;
  #command = 0;

  constructor(options: AcpiCpuHotplugOptions) {
    this.#log = new DeviceLog(options, "acpi-cpu-hotplug");
    this.#archIds = [...options.archIds];
    this.#sendEvent = options.sendEvent;
    this.#eject = options.eject;
    this.#ost = options.ost;
    this.#deviceId = options.deviceId ?? (() => undefined);
    this.#bootSlot = options.bootSlot ?? 0;
    const n = this.#archIds.length;
    this.#present = new Uint8Array(n);
    this.#inserting = new Uint8Array(n);
    this.#removing = new Uint8Array(n);
    this.#fwRemove = new Uint8Array(n);
    this.#ostEvent = new Uint32Array(n);
    this.#ostStatus = new Uint32Array(n);
  }

  /** Possible CPUs (dev_count). */
  get slots(): number {
    return this.#archIds.length;
  }

  /** Whether the CPU of `slot` is present, and its pending events. */
  slotState(slot: number): { readonly present: boolean; readonly inserting: boolean; readonly removing: boolean } {
    return { present: this.#present[slot] === 1, inserting: this.#inserting[slot] === 1, removing: this.#removing[slot] === 1 };
  }

  // ---- hotplug handler callbacks (the GED forwards them for CPUs) ----

  /** acpi_cpu_plug_cb() for a CPU present at machine init (not hotplugged): present, no event. */
  coldPlug(slot: number): void {
    this.#present[slot] = 1;
  }

  /** acpi_cpu_plug_cb() for a hotplugged CPU: present, insert event, GED interrupt. */
  plug(slot: number): void {
    this.#present[slot] = 1;
    this.#inserting[slot] = 1;
    this.#sendEvent();
  }

  /** acpi_cpu_unplug_request_cb(): remove event, GED interrupt. */
  unplugRequest(slot: number): void {
    this.#removing[slot] = 1;
    this.#sendEvent();
  }

  /** acpi_cpu_unplug_cb(): the slot is empty again. */
  unplug(slot: number): void {
    this.#present[slot] = 0;
  }

  // ---- MemoryRegionOps ----

  read(offset: number, size: AccessSize, wide: WideValue): number {
    return qemuRead(this, offset, size, wide);
  }

  write(offset: number, size: AccessSize, value: number, hi: number): void {
    qemuWrite(this, offset, size, value, hi);
  }

  /** cpu_hotplug_rd(). */
  opsRead(offset: number, _size: number): number {
    const sel = this.#selector;
    if (sel >= this.#archIds.length) return 0;
    switch (offset) {
      case ACPI_CPU_FLAGS_OFFSET_RW:
        return (
          (this.#present[sel] ? CPU_FLAG_ENABLED : 0) |
          (this.#inserting[sel] ? CPU_FLAG_INSERT : 0) |
          (this.#removing[sel] ? CPU_FLAG_REMOVE : 0) |
          (this.#fwRemove[sel] ? CPU_FLAG_FW_REMOVE : 0)
        );
      case ACPI_CPU_CMD_DATA_OFFSET_RW:
        if (this.#command === CPHP_GET_NEXT_CPU_WITH_EVENT_CMD) return sel;
        if (this.#command === CPHP_GET_CPU_ID_CMD) return this.#archIds[sel]! % 2 ** 32;
        return 0;
      case ACPI_CPU_CMD_DATA2_OFFSET_R:
        if (this.#command === CPHP_GET_CPU_ID_CMD) return Math.floor(this.#archIds[sel]! / 2 ** 32);
        return 0;
      default:
        return 0;
    }
  }

  /** cpu_hotplug_wr(). */
  opsWrite(offset: number, _size: number, value: number): void {
    value >>>= 0;
    if (offset !== ACPI_CPU_SELECTOR_OFFSET_WR && this.#selector >= this.#archIds.length) return; // trace_cpuhp_acpi_invalid_idx_selected
    const sel = this.#selector;
    switch (offset) {
      case ACPI_CPU_SELECTOR_OFFSET_WR:
        this.#selector = value;
        return;
      case ACPI_CPU_FLAGS_OFFSET_RW:
        // One action per write, in this order of precedence.
        if (value & CPU_FLAG_INSERT) this.#inserting[sel] = 0;
        else if (value & CPU_FLAG_REMOVE) this.#removing[sel] = 0;
        else if (value & CPU_FLAG_EJECT) this.#ejectSelected(sel);
        else if (value & CPU_FLAG_FW_REMOVE) {
          if (!this.#present[sel] || sel === this.#bootSlot) return; // trace_cpuhp_acpi_fw_remove_invalid_cpu
          this.#fwRemove[sel] = 1;
        }
        return;
      case ACPI_CPU_CMD_OFFSET_WR:
        if (value >= CPHP_CMD_MAX) return;
        this.#command = value;
        if (value === CPHP_GET_NEXT_CPU_WITH_EVENT_CMD) this.#selectNextWithEvent();
        return;
      case ACPI_CPU_CMD_DATA_OFFSET_RW:
        if (this.#command === CPHP_OST_EVENT_CMD) this.#ostEvent[sel] = value;
        else if (this.#command === CPHP_OST_STATUS_CMD) {
          this.#ostStatus[sel] = value;
          this.#ost(this.#status(sel));
        }
        return;
      default:
    }
  }

  opsInvalid(offset: number, size: number, write: boolean, reason: QemuInvalidReason): void {
    this.#log.guestError("access", qemuInvalidMessage(this.#log.name, offset, size, write, reason, RULES));
  }

  // ---- helpers ----

  /** The eject flag: hotplug_handler_unplug() of the selected CPU, unless it is absent or the boot CPU. */
  #ejectSelected(sel: number): void {
    if (!this.#present[sel] || sel === this.#bootSlot) {
      this.ignoredEjects++;
      return;
    }
    this.#eject(sel);
    this.#fwRemove[sel] = 0;
  }

  /** CPHP_GET_NEXT_CPU_WITH_EVENT_CMD: from the selector on, wrapping, the first CPU with an event; else unchanged. */
  #selectNextWithEvent(): void {
    const n = this.#archIds.length;
    const start = this.#selector;
    let i = start;
    do {
      if (this.#inserting[i] || this.#removing[i] || this.#fwRemove[i]) {
        this.#selector = i;
        return;
      }
      i = i + 1 < n ? i + 1 : 0;
    } while (i !== start);
  }

  /** acpi_cpu_device_status(). */
  #status(slot: number): AcpiOstInfo {
    const id = this.#present[slot] ? this.#deviceId(slot) : undefined;
    const info = { slot: `${slot}`, "slot-type": "CPU" as const, source: this.#ostEvent[slot]!, status: this.#ostStatus[slot]! };
    return id === undefined ? info : { device: id, ...info };
  }

  // ---- snapshot ----

  snapshot(): AcpiCpuHotplugState {
    const bools = (a: Uint8Array): boolean[] => Array.from(a, (b) => b === 1);
    return {
      version: 1,
      selector: this.#selector,
      command: this.#command,
      present: bools(this.#present),
      inserting: bools(this.#inserting),
      removing: bools(this.#removing),
      fwRemove: bools(this.#fwRemove),
      ostEvent: Array.from(this.#ostEvent),
      ostStatus: Array.from(this.#ostStatus),
    };
  }

  restore(s: AcpiCpuHotplugState): void {
    this.#selector = s.selector >>> 0;
    this.#command = s.command & 0xff;
    const n = this.#archIds.length;
    for (let i = 0; i < n; i++) {
      this.#present[i] = s.present[i] ? 1 : 0;
      this.#inserting[i] = s.inserting[i] ? 1 : 0;
      this.#removing[i] = s.removing[i] ? 1 : 0;
      this.#fwRemove[i] = s.fwRemove[i] ? 1 : 0;
      this.#ostEvent[i] = s.ostEvent[i] ?? 0;
      this.#ostStatus[i] = s.ostStatus[i] ?? 0;
    }
  }
}
