/**
 * The PL011 as Linux's tty driver runs it with interrupts
 * (drivers/tty/serial/amba-pl011.c), for transmission by interrupts:
 *
 * - {@link Pl011Port.probe}: the FIFO size from the PrimeCell peripheral ID
 *   (amba_read_periphid; vendor_arm get_fifosize_arm: 16 bytes before
 *   revision r1p5 = revision field 3, 32 from it).
 * - {@link Pl011Port.startup}: pl011_startup → pl011_hwinit (clear the
 *   error and receive interrupts in UARTICR, keep UARTIMSC as the mask),
 *   pl011_allocate_irq, UARTIFLS = RX 1/2 | TX 1/2 (vendor_arm.ifls),
 *   UARTCR = UARTEN | RXE | TXE keeping RTS/DTR, then
 *   pl011_enable_interrupts (UARTICR RTIS | RXIS, drain the RX FIFO,
 *   UARTIMSC = RTIM | RXIM); and pl011_set_termios' line control for 8N1
 *   with the FIFOs on (UARTLCR_H = WLEN_8 | FEN).
 * - {@link Pl011Port.startTx}: pl011_start_tx_pio — pl011_tx_chars(from_irq
 *   = false) writes while UARTFR.TXFF is clear; if bytes remain, TXIM is set
 *   in UARTIMSC and the TX interrupt sends the rest.
 * - {@link Pl011Port.handleIrq}: pl011_int — status = UARTRIS & im; clear
 *   everything but TXIS/RTIS/RXIS in UARTICR (the TX interrupt is cleared by
 *   filling the FIFO, not by UARTICR); RX: read UARTDR until RXFE
 *   (pl011_fifo_to_tty); TX: pl011_tx_chars(from_irq = true) writes
 *   fifosize / 2 bytes without looking at TXFF (the interrupt means the FIFO
 *   is at or below half, UARTIFLS TXIFLSEL = 1/2), and with nothing left
 *   pl011_stop_tx clears TXIM; then UARTRIS is read again, for at most
 *   AMBA_ISR_PASS_LIMIT passes.
 *
 * One difference, on purpose: QEMU's PL011 (hw/char/pl011.c, and irqlab's
 * model of it) transmits each byte the moment it is written, so UARTFR.TXFF
 * is never set and Linux's priming loop would write a whole line with no
 * TX interrupt at all. On the hardware TXFF stops that loop once the FIFO
 * holds `fifosize` bytes; this driver stops it there too, so what does not
 * fit goes out from the TX interrupt, as on a real line.
 */

import { op } from "@irqlab/sim";
import type { Pl011Info } from "../boot/platform-info.js";
import type { GuestCode } from "../guest-image.js";
import { UARTDR, UARTFR, UARTFR_TXFF } from "./pl011.js";

/** Registers (PL011 TRM, Arm DDI 0183G, Table 3-1). */
export const UARTLCR_H = 0x02c;
export const UARTCR = 0x030;
export const UARTIFLS = 0x034;
export const UARTIMSC = 0x038;
export const UARTRIS = 0x03c;
export const UARTMIS = 0x040;
export const UARTICR = 0x044;
export const UARTPERIPHID0 = 0xfe0;
/** UARTFR.RXFE: the receive FIFO is empty. */
export const UARTFR_RXFE = 0x10;
/** Interrupt bits of UARTIMSC/UARTRIS/UARTMIS/UARTICR (include/linux/amba/serial.h). */
export const UART011_OEIS = 1 << 10;
export const UART011_BEIS = 1 << 9;
export const UART011_PEIS = 1 << 8;
export const UART011_FEIS = 1 << 7;
export const UART011_RTIS = 1 << 6;
export const UART011_TXIS = 1 << 5;
export const UART011_RXIS = 1 << 4;
/** The same bits as mask bits. */
export const UART011_RTIM = UART011_RTIS;
export const UART011_TXIM = UART011_TXIS;
export const UART011_RXIM = UART011_RXIS;
/** UARTLCR_H: 8-bit words, FIFOs enabled. */
export const UART01x_LCRH_WLEN_8 = 0x60;
export const UART01x_LCRH_FEN = 0x10;
/** UARTIFLS: both interrupts at 1/2 full (UART011_IFLS_RX4_8 | UART011_IFLS_TX4_8). */
export const UART011_IFLS_RX4_8 = 2 << 3;
export const UART011_IFLS_TX4_8 = 2;
/** UARTCR bits. */
export const UART01x_CR_UARTEN = 1 << 0;
export const UART011_CR_TXE = 1 << 8;
export const UART011_CR_RXE = 1 << 9;
export const UART011_CR_DTR = 1 << 10;
export const UART011_CR_RTS = 1 << 11;
/** AMBA_ISR_PASS_LIMIT: pl011_int's passes per interrupt. */
export const AMBA_ISR_PASS_LIMIT = 256;

/** The transmit buffer (the tty's xmit FIFO) and what the driver counted. */
export interface Pl011Xmit {
  readonly bytes: Uint8Array;
  /** Bytes written to UARTDR. */
  sent: number;
}

/** A PL011 port driven by its interrupt. */
export class Pl011Port {
  /** uap->im: the interrupts the driver has unmasked. */
  im = 0;
  /** Bytes written by start_tx (before the TX interrupt took over). */
  primed = 0;
  /** pl011_int passes that ran pl011_tx_chars. */
  txPasses = 0;
  /** Bytes read from the RX FIFO. */
  received = 0;

  private constructor(
    readonly info: Pl011Info,
    /** uap->fifosize. */
    readonly fifosize: number,
    /** The PrimeCell peripheral ID (amba_device periphid). */
    readonly periphId: number,
  ) {}

  /** amba_read_periphid + vendor_arm: the port with its FIFO size. */
  static *probe(info: Pl011Info): GuestCode<Pl011Port> {
    let id = 0;
    for (let i = 0; i < 4; i++) id += ((yield op.read(info.region.base + UARTPERIPHID0 + 4 * i, 4)).value & 0xff) * 2 ** (8 * i);
    const rev = Math.floor(id / 2 ** 20) & 0xf; // AMBA_REV_BITS
    return new Pl011Port(info, rev < 3 ? 16 : 32, id);
  }

  #reg(offset: number): number {
    return this.info.region.base + offset;
  }

  /** pl011_startup() and pl011_set_termios() (8N1, FIFOs on). */
  *startup(): GuestCode {
    const reg = (o: number): number => this.#reg(o);
    yield op.write(reg(UARTICR), 4, UART011_OEIS | UART011_BEIS | UART011_PEIS | UART011_FEIS | UART011_RTIS | UART011_RXIS);
    this.im = (yield op.read(reg(UARTIMSC), 4)).value;
    yield op.write(reg(UARTIMSC), 4, UART011_RTIM | UART011_RXIM);
    yield op.write(reg(UARTIMSC), 4, this.im); // pl011_allocate_irq
    yield op.write(reg(UARTIFLS), 4, UART011_IFLS_RX4_8 | UART011_IFLS_TX4_8);
    const cr = (yield op.read(reg(UARTCR), 4)).value & (UART011_CR_RTS | UART011_CR_DTR);
    yield op.write(reg(UARTCR), 4, cr | UART01x_CR_UARTEN | UART011_CR_RXE | UART011_CR_TXE);
    // pl011_enable_interrupts().
    yield op.write(reg(UARTICR), 4, UART011_RTIS | UART011_RXIS);
    for (let i = 0; i < this.fifosize * 2; i++) {
      if (((yield op.read(reg(UARTFR), 4)).value & UARTFR_RXFE) !== 0) break;
      yield op.read(reg(UARTDR), 4);
    }
    this.im = UART011_RTIM | UART011_RXIM;
    yield op.write(reg(UARTIMSC), 4, this.im);
    yield op.write(reg(UARTLCR_H), 4, UART01x_LCRH_WLEN_8 | UART01x_LCRH_FEN);
  }

  /** Whether the TX interrupt is unmasked (transmission still under way). */
  get transmitting(): boolean {
    return (this.im & UART011_TXIM) !== 0;
  }

  /** pl011_start_tx_pio(). */
  *startTx(x: Pl011Xmit): GuestCode {
    const before = x.sent;
    const more = yield* this.#txChars(x, false);
    this.primed += x.sent - before;
    if (more) {
      this.im |= UART011_TXIM;
      yield op.write(this.#reg(UARTIMSC), 4, this.im);
    }
  }

  /** pl011_int(), run by the interrupt's handler. Returns whether it found work. */
  *handleIrq(x: Pl011Xmit): GuestCode<boolean> {
    const ris = op.read(this.#reg(UARTRIS), 4);
    let status = (yield ris).value & this.im;
    if (status === 0) return false;
    let passes = AMBA_ISR_PASS_LIMIT;
    do {
      yield op.write(this.#reg(UARTICR), 4, status & ~(UART011_TXIS | UART011_RTIS | UART011_RXIS));
      if ((status & (UART011_RTIS | UART011_RXIS)) !== 0) yield* this.#rxChars();
      if ((status & UART011_TXIS) !== 0) {
        this.txPasses++;
        yield* this.#txChars(x, true);
      }
      if (passes-- === 0) break;
      status = (yield ris).value & this.im;
    } while (status !== 0);
    return true;
  }

  /** pl011_tx_chars(): true while bytes remain (the TX interrupt stays unmasked). */
  *#txChars(x: Pl011Xmit, fromIrq: boolean): GuestCode<boolean> {
    if (x.sent >= x.bytes.length) {
      yield* this.#stopTx();
      return false;
    }
    let count = this.fifosize >> 1;
    let queued = 0;
    const fr = op.read(this.#reg(UARTFR), 4);
    for (;;) {
      if (fromIrq && count-- === 0) break;
      if (x.sent >= x.bytes.length) break;
      if (!fromIrq) {
        // pl011_tx_char(): TXFF stops the priming loop; on QEMU's instant line so does a full FIFO's worth.
        if (((yield fr).value & UARTFR_TXFF) !== 0 || queued === this.fifosize) break;
      }
      yield op.write(this.#reg(UARTDR), 4, x.bytes[x.sent++]!);
      queued++;
    }
    if (x.sent >= x.bytes.length) {
      yield* this.#stopTx();
      return false;
    }
    return true;
  }

  /** pl011_stop_tx(). */
  *#stopTx(): GuestCode {
    this.im &= ~UART011_TXIM;
    yield op.write(this.#reg(UARTIMSC), 4, this.im);
  }

  /** pl011_fifo_to_tty(): read UARTDR until the RX FIFO is empty (at most 256 bytes). */
  *#rxChars(): GuestCode {
    for (let n = 0; n < 256; n++) {
      if (((yield op.read(this.#reg(UARTFR), 4)).value & UARTFR_RXFE) !== 0) return;
      yield op.read(this.#reg(UARTDR), 4);
      this.received++;
    }
  }
}
