/**
 * What a device model of the machine is given from outside besides its
 * interrupt outputs (interrupt.ts): where transmitted bytes go, timers in
 * virtual time, and the tracer that counts guest errors. Nothing here is global: every device receives
 * these as constructor options (rust-vmm vm-superio `Serial<T: Trigger, W:
 * Write>`; QEMU's qemu_irq and CharBackend).
 *
 * Guest errors follow the gic and aia packages: they never throw, they are
 * counted by {@link Tracer.guestError} under a per-device track, like QEMU's
 * qemu_log_mask(LOG_GUEST_ERROR, …).
 */

import { Tracer, type EventQueue, type TrackId } from "@irqlab/sim";

/** Where a UART's transmitted bytes go (QEMU qemu_chr_fe_write_all on the chardev). */
export type ByteSink = (byte: number) => void;

/**
 * Virtual-time timers a device may arm (QEMU timer_mod/timer_del on
 * QEMU_CLOCK_VIRTUAL). An {@link EventQueue} is one.
 */
export type DeviceTimers = Pick<EventQueue, "scheduleAfter" | "cancel">;

/** Options every device model here accepts. */
export interface DeviceTraceOptions {
  /** Where guest errors are counted and traced (a private one if omitted). */
  readonly tracer?: Tracer;
  /** Instance name: the trace track and the guest-error source prefix. */
  readonly name?: string;
}

/** A device's handle on the tracer: one track, guest errors counted per source. */
export class DeviceLog {
  readonly tracer: Tracer;
  readonly track: TrackId;
  readonly name: string;

  constructor(options: DeviceTraceOptions, defaultName: string) {
    this.tracer = options.tracer ?? new Tracer();
    this.name = options.name ?? defaultName;
    this.track = this.tracer.track("machine", this.name, "device");
  }

  /** Counts (and, when tracing, records) a guest error under `${name}:${what}`. */
  guestError(what: string, message: string): void {
    this.tracer.guestError(this.track, `${this.name}:${what}`, message);
  }
}
