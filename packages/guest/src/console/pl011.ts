/**
 * PL011 console output, as Linux's pl011 earlycon does it
 * (drivers/tty/serial/amba-pl011.c pl011_putc): wait while UARTFR.TXFF says
 * the transmit FIFO is full, write the byte to UARTDR; when the whole string
 * is out, wait while UARTFR.BUSY (pl011_console_write's final wait). Register
 * offsets and bits from the PL011 TRM (Arm DDI 0183G, §3.2 and §3.3.3).
 *
 * The guest does not program the baud rate or enable the UART: firmware (or
 * QEMU's reset state, UARTEN | TXE | RXE) has, as earlycon assumes.
 */

import { op } from "@irqlab/sim";
import { cpuRelax } from "../cpu.js";
import type { GuestCode } from "../guest-image.js";
import type { Pl011Info } from "../boot/platform-info.js";

/** UARTDR: data register. */
export const UARTDR = 0x000;
/** UARTFR: flag register. */
export const UARTFR = 0x018;
/** UARTFR.BUSY: the UART is transmitting. */
export const UARTFR_BUSY = 0x08;
/** UARTFR.TXFF: the transmit FIFO (or holding register) is full. */
export const UARTFR_TXFF = 0x20;

/** Writes `bytes` to the PL011 at `uart.region.base`. */
export function* pl011Write(uart: Pl011Info, bytes: Uint8Array): GuestCode {
  const base = uart.region.base;
  const fr = op.read(base + UARTFR, 4);
  for (const byte of bytes) {
    while (((yield fr).value & UARTFR_TXFF) !== 0) yield cpuRelax();
    yield op.write(base + UARTDR, 1, byte);
  }
  while (((yield fr).value & UARTFR_BUSY) !== 0) yield cpuRelax();
}
