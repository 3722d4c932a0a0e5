/**
 * The event selector of QEMU's ACPI Generic Event Device as the CPU hotplug
 * interface uses it (hw/acpi/generic_event_device.c ged_evt_read,
 * ged_evt_write, acpi_ged_send_event; ACPI 6.5 §5.6.9 "Interrupt-signaled
 * ACPI events"): a platform event sets its bit in the selector and pulses
 * the GED interrupt; the guest's handler (QEMU's _EVT) reads the selector,
 * which returns the pending bits and clears them, and runs the handler of
 * each bit set.
 *
 * QEMU's MemoryRegionOps: valid 4..4 (any other size is an invalid access,
 * logged and dropped), writes ignored ("Nothing is expected to be written
 * to the GED memory region"). The GED's other regions (memory hotplug,
 * sleep/reset registers) are not part of irqlab's virt board.
 */

import type { AccessSize, MmioDevice, WideValue } from "@irqlab/sim";
import { DeviceLog, type DeviceTraceOptions } from "./device-io.js";
import { ACPI_GED_EVT_SEL_OFFSET } from "./cpu-hotplug-regs.js";
import type { IrqLine } from "./interrupt.js";
import { qemuAccessRules, qemuInvalidMessage, qemuRead, qemuWrite, type QemuInvalidReason, type QemuRegionOps } from "./qemu-memory.js";

const RULES = qemuAccessRules({ validMin: 4, validMax: 4 });

/** Construction options of an {@link AcpiGedEventSelector}. */
export interface AcpiGedEventSelectorOptions extends DeviceTraceOptions {
  /** The GED interrupt (virt: SPI 9); pulsed once per event. */
  readonly irq: IrqLine;
}

/** Plain snapshot of an {@link AcpiGedEventSelector} (QEMU vmstate "acpi-ged-state"). */
export interface AcpiGedEventSelectorState {
  readonly version: 1;
  readonly sel: number;
}

/**
 * The GED event selector register. Map it (ACPI_GED_EVT_SEL_LEN bytes) on the
 * MMIO bus. It has no reset: QEMU's ged_reset_hold resets only PCI hotplug,
 * so events not yet read survive a system reset.
 */
export class AcpiGedEventSelector implements MmioDevice, QemuRegionOps {
  readonly rules = RULES;
  readonly #log: DeviceLog;
  readonly #irq: IrqLine;
  #sel = 0;

  constructor(options: AcpiGedEventSelectorOptions) {
    this.#log = new DeviceLog(options, "acpi-ged");
    this.#irq = options.irq;
  }

  /** Events raised and not yet read by the guest. */
  get pending(): number {
    return this.#sel;
  }

  /**
   * acpi_ged_send_event(): ORs `event` (an ACPI_GED_*_EVT bit) into the
   * selector and pulses the interrupt (qemu_irq_pulse: raise, then lower).
   */
  sendEvent(event: number): void {
    this.#sel = (this.#sel | event) >>> 0;
    this.#irq(true);
    this.#irq(false);
  }

  read(offset: number, size: AccessSize, wide: WideValue): number {
    return qemuRead(this, offset, size, wide);
  }

  write(offset: number, size: AccessSize, value: number, hi: number): void {
    qemuWrite(this, offset, size, value, hi);
  }

  /** ged_evt_read(): the selector, cleared by the read. */
  opsRead(offset: number, _size: number): number {
    if (offset !== ACPI_GED_EVT_SEL_OFFSET) return 0;
    const v = this.#sel;
    this.#sel = 0;
    return v;
  }

  /** ged_evt_write(): ignored. */
  opsWrite(_offset: number, _size: number, _value: number): void {
    // QEMU ignores writes without logging them.
  }

  opsInvalid(offset: number, size: number, write: boolean, reason: QemuInvalidReason): void {
    this.#log.guestError("access", qemuInvalidMessage(this.#log.name, offset, size, write, reason, RULES));
  }

  snapshot(): AcpiGedEventSelectorState {
    return { version: 1, sel: this.#sel };
  }

  restore(s: AcpiGedEventSelectorState): void {
    this.#sel = s.sel >>> 0;
  }
}
