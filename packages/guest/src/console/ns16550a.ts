/**
 * NS16550A console output, as Linux's 8250 driver does it
 * (drivers/tty/serial/8250/8250_port.c serial8250_console_putchar after
 * wait_for_xmitr): wait until LSR.THRE says the transmit holding register is
 * empty — polling every microsecond, for at most 10 ms, after which the byte
 * is written anyway — then write the byte to THR. Registers are `1 << reg-shift` bytes
 * apart and accessed `reg-io-width` bytes wide (8250_of.c). Offsets and bits
 * from the PC16550D datasheet (Table II), named as in
 * include/uapi/linux/serial_reg.h.
 */

import { op } from "@irqlab/sim";
import type { GuestCode } from "../guest-image.js";
import type { Ns16550Info } from "../boot/platform-info.js";

/** Transmit holding register (write, DLAB = 0). */
export const UART_TX = 0;
/** Line status register. */
export const UART_LSR = 5;
/** LSR: transmit holding register empty. */
export const UART_LSR_THRE = 0x20;

/** wait_for_xmitr's bound: this many polls of LSR, {@link NS16550_POLL_NS} apart (10 ms). */
export const NS16550_TX_POLLS = 10_000;
/** The pause between two polls of LSR (udelay(1)). */
export const NS16550_POLL_NS = 1_000;

/** Writes `bytes` to the 8250-family UART `uart`. */
export function* ns16550Write(uart: Ns16550Info, bytes: Uint8Array): GuestCode {
  const base = uart.region.base;
  const width = uart.regIoWidth;
  const lsr = op.read(base + (UART_LSR << uart.regShift), width);
  const thr = base + (UART_TX << uart.regShift);
  const delay = op.compute(NS16550_POLL_NS);
  for (const byte of bytes) {
    for (let tries = NS16550_TX_POLLS; ((yield lsr).value & UART_LSR_THRE) === 0 && --tries > 0; ) yield delay;
    yield op.write(thr, width, byte);
  }
}
