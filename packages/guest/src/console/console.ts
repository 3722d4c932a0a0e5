/**
 * The console a guest prints on: the UART of /chosen `stdout-path` (PL011 or
 * NS16550A), or on riscv64 the SBI debug console. Text goes out as UTF-8 with
 * every "\n" preceded by "\r", as Linux's uart_console_write() and earlycon
 * send it, so a terminal shows the lines the way a real guest's log looks.
 */

import { op, type MmioWriteOp } from "@irqlab/sim";
import type { GuestArch, GuestCode } from "../guest-image.js";
import type { UartInfo } from "../boot/platform-info.js";
import { ns16550Write } from "./ns16550a.js";
import { UARTDR, pl011Write } from "./pl011.js";
import { openSbiConsole, sbiConsoleWrite, type SbiConsole } from "./sbi-console.js";

/** Where guest text goes. */
export type Console = UartInfo | SbiConsole;

const encoder = new TextEncoder();

/** `text` as the bytes a console sends: UTF-8, "\n" as "\r\n". */
export function consoleBytes(text: string): Uint8Array {
  return encoder.encode(text.replace(/\r?\n/g, "\r\n"));
}

/** `yield* putString(console, text)`: writes `text` (see {@link consoleBytes}). */
export function* putString(console: Console, text: string): GuestCode {
  const bytes = consoleBytes(text);
  switch (console.kind) {
    case "pl011":
      yield* pl011Write(console, bytes);
      return;
    case "ns16550a":
      yield* ns16550Write(console, bytes);
      return;
    case "sbi-dbcn":
    case "sbi-legacy":
      yield* sbiConsoleWrite(console, bytes);
      return;
  }
}

/**
 * kvm-unit-tests' puts() on arm64 (lib/arm/io.c): every byte of `text`
 * (UTF-8, "\n" as is) stored to the PL011's data register with writeb,
 * with no wait on the flag register: QEMU's PL011 takes a byte at once. The
 * stores are one SeqOp, each still an exit to the VMM. Other consoles print
 * as {@link putString} does.
 */
export function* putStringKvmUnitTests(console: Console, text: string): GuestCode {
  if (console.kind !== "pl011") return yield* putString(console, text);
  const bytes = encoder.encode(text);
  if (bytes.length === 0) return;
  const dr = console.region.base + UARTDR;
  const stores: MmioWriteOp[] = [];
  for (const byte of bytes) stores.push(op.write(dr, 1, byte));
  yield op.seq(stores);
}

/** `yield* putLine(console, line)`: one log line. */
export function* putLine(console: Console, line: string): GuestCode {
  yield* putString(console, `${line}\n`);
}

/**
 * The console of a platform: its UART, or on riscv64 without one the SBI
 * console (probing DBCN). Undefined on arm64 without a UART.
 */
export function* openConsole(arch: GuestArch, uart: UartInfo | undefined): GuestCode<Console | undefined> {
  if (uart !== undefined) return uart;
  if (arch === "riscv64") return yield* openSbiConsole();
  return undefined;
}
