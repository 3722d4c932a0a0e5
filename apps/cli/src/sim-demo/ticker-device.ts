/**
 * A tiny periodic timer device used by the `irqlab sim` demo: the smallest
 * thing that exercises the simulation kernel end to end (event queue, MMIO
 * bus, tracing) before the architecture packages exist on top of it.
 *
 * Registers (32-bit, little-endian):
 *   0x00 CTRL    bit 0 ENABLE: start or stop the periodic timer
 *   0x04 PERIOD  period in nanoseconds (read/write; takes effect at the next arm)
 *   0x08 STATUS  number of expirations not yet acknowledged; write N to acknowledge N
 *   0x0c COUNT   total expirations since reset (read-only)
 * An expiration raises the output line while STATUS is non-zero.
 * Other offsets and widths read as zero and ignore writes, counted as guest errors.
 */
import type { AccessSize, EventQueue, MmioDevice, Tracer, TrackId } from "@irqlab/sim";

/** CTRL register offset. */
export const TICKER_CTRL = 0x00;
/** PERIOD register offset. */
export const TICKER_PERIOD = 0x04;
/** STATUS register offset. */
export const TICKER_STATUS = 0x08;
/** COUNT register offset. */
export const TICKER_COUNT = 0x0c;
/** Size of the register window. */
export const TICKER_SIZE = 0x10;

/** A periodic timer on the MMIO bus with one interrupt output. */
export class TickerDevice implements MmioDevice {
  #enabled = false;
  #period = 10_000;
  #status = 0;
  #count = 0;
  #next = -1;
  readonly #track: TrackId;

  constructor(
    private readonly queue: EventQueue,
    private readonly tracer: Tracer,
    /** Called with the new level of the interrupt output when it changes. */
    private readonly setIrq: (level: boolean) => void,
  ) {
    this.#track = tracer.track("host", "ticker", "device");
  }

  read(offset: number, size: AccessSize): number {
    if (size !== 4) return this.#bad(`read of ${size} bytes at 0x${offset.toString(16)}`);
    switch (offset) {
      case TICKER_CTRL:
        return this.#enabled ? 1 : 0;
      case TICKER_PERIOD:
        return this.#period;
      case TICKER_STATUS:
        return this.#status;
      case TICKER_COUNT:
        return this.#count;
      default:
        return this.#bad(`read of unknown register 0x${offset.toString(16)}`);
    }
  }

  write(offset: number, size: AccessSize, value: number): void {
    if (size !== 4) {
      this.#bad(`write of ${size} bytes at 0x${offset.toString(16)}`);
      return;
    }
    switch (offset) {
      case TICKER_CTRL:
        this.#setEnabled((value & 1) === 1);
        return;
      case TICKER_PERIOD:
        if (value === 0) this.#bad("PERIOD of 0 ignored");
        else this.#period = value;
        return;
      case TICKER_STATUS: {
        const was = this.#status;
        this.#status = Math.max(0, this.#status - value);
        if (was > 0 && this.#status === 0) this.setIrq(false);
        return;
      }
      default:
        this.#bad(`write to read-only or unknown register 0x${offset.toString(16)}`);
    }
  }

  #setEnabled(on: boolean): void {
    if (on === this.#enabled) return;
    this.#enabled = on;
    if (on) this.#arm();
    else if (this.#next >= 0) {
      this.queue.cancel(this.#next);
      this.#next = -1;
    }
  }

  #arm(): void {
    this.#next = this.queue.scheduleAfter(this.#period, TickerDevice.#expire, this);
  }

  static #expire(self: TickerDevice): void {
    self.#next = -1;
    self.#count++;
    self.#status++;
    if (self.tracer.enabled) self.tracer.instant(self.#track, "irq", "expire", { count: self.#count });
    if (self.#status === 1) self.setIrq(true);
    if (self.#enabled) self.#arm();
  }

  #bad(message: string): number {
    this.tracer.guestError(this.#track, "ticker", message);
    return 0;
  }
}
