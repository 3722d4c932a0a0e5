// PL011 against QEMU hw/char/pl011.c: reset values (pl011_reset), ID bytes
// (pl011_id_arm), TX to the sink and TXRIS (pl011_write_txdata), the RX FIFO
// and RXRIS (pl011_fifo_rx_put / pl011_read_rxdata), loopback, bad offsets
// (qemu_log_mask(LOG_GUEST_ERROR, "pl011_read/write: Bad offset")).
import { Tracer, type AccessSize } from "@irqlab/sim";
import { describe, expect, test } from "vitest";
import { Pl011 } from "./pl011.js";
import {
  PL011_CR_LBE, PL011_CR_TXE, PL011_CR_UARTEN, PL011_INT_RX, PL011_INT_TX, PL011_LCR_FEN, PL011_REGION_SIZE, UARTCR, UARTDMACR, UARTDR,
  UARTFBRD, UARTFR, UARTIBRD, UARTICR, UARTIFLS, UARTILPR, UARTIMSC, UARTLCR_H, UARTMIS, UARTPERIPHID0, UARTRIS, UARTRSR
} from "./pl011-regs.js";

function uart(variant?: "arm" | "luminary") {
  const tracer = new Tracer();
  const sent: number[] = [];
  const irq: boolean[] = [];
  let accepts = 0;
  const u = new Pl011({
    tracer,
    tx: (b) => sent.push(b),
    irq: (l) => irq.push(l),
    onAcceptInput: () => {
      accepts++;
    },
    ...(variant !== undefined ? { variant } : {}),
  });
  const wide = { hi: 0 };
  const rd = (off: number, size: AccessSize = 4) => u.read(off, size, wide);
  const wr = (off: number, v: number, size: AccessSize = 4) => {
    u.write(off, size, v, 0);
  };
  return { u, tracer, sent, irq, rd, wr, wide, accepts: () => accepts };
}

describe("PL011 reset values (pl011_reset)", () => {
  test.each([
    ["UARTFR: RXFE | TXFE", UARTFR, 0x90],
    ["UARTCR: TXE | RXE, UART disabled", UARTCR, 0x300],
    ["UARTIFLS: 1/2 full both ways", UARTIFLS, 0x12],
    ["UARTLCR_H", UARTLCR_H, 0],
    ["UARTIMSC", UARTIMSC, 0],
    ["UARTRIS", UARTRIS, 0],
    ["UARTMIS", UARTMIS, 0],
    ["UARTIBRD", UARTIBRD, 0],
    ["UARTFBRD", UARTFBRD, 0],
    ["UARTILPR", UARTILPR, 0],
    ["UARTRSR", UARTRSR, 0],
    ["UARTDMACR", UARTDMACR, 0],
  ])("%s", (_name, off, v) => {
    expect(uart().rd(off)).toBe(v);
  });

  test("PeriphID0-3 and PCellID0-3 are pl011_id_arm (luminary variant: pl011_id_luminary)", () => {
    const { rd } = uart();
    expect(Array.from({ length: 8 }, (_, i) => rd(UARTPERIPHID0 + 4 * i))).toEqual([0x11, 0x10, 0x14, 0x00, 0x0d, 0xf0, 0x05, 0xb1]);
    const l = uart("luminary");
    expect(Array.from({ length: 8 }, (_, i) => l.rd(UARTPERIPHID0 + 4 * i))).toEqual([0x11, 0x00, 0x18, 0x01, 0x0d, 0xf0, 0x05, 0xb1]);
  });

  test("reset after use restores the values but does not drive the interrupt (QEMU's legacy reset)", () => {
    const { u, rd, wr, irq } = uart();
    wr(UARTIMSC, PL011_INT_TX);
    wr(UARTCR, 0x301);
    wr(UARTDR, 0x41);
    const calls = irq.length;
    u.reset();
    expect(irq.length).toBe(calls);
    expect(rd(UARTIMSC)).toBe(0);
    expect(rd(UARTCR)).toBe(0x300);
    expect(u.irqLevel).toBe(false);
  });
});

describe("PL011 transmit", () => {
  test("a UARTDR write goes to the sink and sets TXRIS, which only UARTICR clears (pl011_write_txdata)", () => {
    const { rd, wr, sent, irq, tracer } = uart();
    wr(UARTCR, PL011_CR_UARTEN | PL011_CR_TXE);
    wr(UARTDR, 0x141); // only the low 8 bits are a character
    expect(sent).toEqual([0x41]);
    expect(rd(UARTRIS)).toBe(PL011_INT_TX);
    expect(rd(UARTFR)).toBe(0x90); // instant transmission: TXFE stays, TXFF never set
    expect(irq).toEqual([false]); // masked
    wr(UARTIMSC, PL011_INT_TX);
    expect(irq.at(-1)).toBe(true);
    expect(rd(UARTMIS)).toBe(PL011_INT_TX);
    wr(UARTICR, PL011_INT_TX);
    expect(irq.at(-1)).toBe(false);
    expect(rd(UARTRIS)).toBe(0);
    wr(UARTDR, 0x42);
    expect(irq.at(-1)).toBe(true);
    expect(tracer.guestErrors).toBe(0);
  });

  test("Linux's interrupt-driven TX (amba-pl011.c): TXIM raises UARTINTR once data went out, pl011_int's UARTICR leaves TXIS, pl011_stop_tx drops it", () => {
    // TRM DDI 0183G §3.4, UARTTXINTR: asserted once the FIFO has drained to the trigger level
    // after data was written, cleared by writing data above it or by UARTICR. QEMU transmits at
    // once, so after any write TXRIS is set until UARTICR clears it (pl011_write_txdata).
    const { u, rd, wr, sent } = uart();
    wr(UARTCR, PL011_CR_UARTEN | PL011_CR_TXE | (1 << 9));
    wr(UARTLCR_H, PL011_LCR_FEN | 0x60); // pl011_set_termios: 8N1, FIFOs on
    wr(UARTIMSC, PL011_INT_RX | (1 << 6)); // pl011_enable_interrupts: RXIM | RTIM
    expect(u.irqLevel).toBe(false);
    // pl011_start_tx_pio: the priming writes, then TXIM.
    for (const b of [0x61, 0x62]) wr(UARTDR, b);
    expect(u.irqLevel).toBe(false);
    wr(UARTIMSC, PL011_INT_RX | (1 << 6) | PL011_INT_TX);
    expect(u.irqLevel).toBe(true);
    // pl011_int: status = RIS & im; ICR gets everything but TXIS/RTIS/RXIS; pl011_tx_chars writes on.
    const status = rd(UARTRIS) & rd(UARTIMSC);
    expect(status).toBe(PL011_INT_TX);
    wr(UARTICR, status & ~(PL011_INT_TX | (1 << 6) | PL011_INT_RX));
    wr(UARTDR, 0x63);
    expect(u.irqLevel).toBe(true); // still up: the next pass sends more
    // pl011_stop_tx: TXIM masked; TXRIS stays set but UARTINTR drops.
    wr(UARTIMSC, PL011_INT_RX | (1 << 6));
    expect(u.irqLevel).toBe(false);
    expect(rd(UARTRIS) & PL011_INT_TX).toBe(PL011_INT_TX);
    expect(rd(UARTMIS)).toBe(0);
    expect(rd(UARTFR) & 0x20).toBe(0); // TXFF never set: the priming loop never stops by itself
    expect(sent).toEqual([0x61, 0x62, 0x63]);
  });

  test("writing with UARTEN or TXE clear still transmits and is a guest error: TXE every time, UARTEN once per UARTEN change", () => {
    const { wr, sent, tracer } = uart();
    wr(UARTDR, 0x61); // reset CR = 0x300: UART disabled
    wr(UARTDR, 0x62);
    expect(sent).toEqual([0x61, 0x62]);
    expect(tracer.guestErrors).toBe(1);
    wr(UARTCR, PL011_CR_UARTEN); // TXE now clear
    wr(UARTDR, 0x63);
    wr(UARTDR, 0x64);
    expect(tracer.guestErrors).toBe(3);
    wr(UARTCR, PL011_CR_TXE); // UARTEN toggled off again: re-armed
    wr(UARTDR, 0x65);
    expect(tracer.guestErrors).toBe(4);
    expect(tracer.counters.get("guest-error:pl011:tx-disabled")).toBe(4);
  });

  test("loopback: the byte goes to the sink and into the RX FIFO; CR modem outputs drive FR and the modem interrupts", () => {
    const { rd, wr, sent } = uart();
    wr(UARTCR, PL011_CR_UARTEN | PL011_CR_TXE | PL011_CR_LBE);
    wr(UARTDR, 0x55);
    expect(sent).toEqual([0x55]);
    expect(rd(UARTRIS)).toBe(PL011_INT_TX | PL011_INT_RX);
    expect(rd(UARTDR)).toBe(0x55);
    // RTS (bit 11) → CTS (FR bit 0, INT_CTS bit 1); DTR (bit 10) → DSR (FR bit 1, INT_DSR bit 3)
    wr(UARTCR, PL011_CR_UARTEN | PL011_CR_LBE | (1 << 11) | (1 << 10));
    expect(rd(UARTFR) & 0x3).toBe(0x3);
    expect(rd(UARTRIS) & 0xa).toBe(0xa);
  });
});

describe("PL011 receive", () => {
  test("one byte: RXFE clears, RXRIS sets at 1 character whatever UARTIFLS says; reading UARTDR empties and clears", () => {
    const { u, rd, wr, irq, accepts } = uart();
    wr(UARTIMSC, PL011_INT_RX);
    expect(u.receive([0x61])).toBe(1);
    expect(rd(UARTFR) & 0x10).toBe(0);
    expect(rd(UARTRIS)).toBe(PL011_INT_RX);
    expect(irq.at(-1)).toBe(true);
    expect(rd(UARTDR)).toBe(0x61);
    expect(rd(UARTFR)).toBe(0x90);
    expect(rd(UARTRIS)).toBe(0);
    expect(irq.at(-1)).toBe(false);
    expect(accepts()).toBe(1);
  });

  test("without FEN the FIFO is 1 deep (RXFF at 1); with FEN 16 deep; the rest waits", () => {
    const { u, rd, wr } = uart();
    expect(u.canReceive()).toBe(1);
    expect(u.receive([1, 2, 3])).toBe(1);
    expect(rd(UARTFR) & 0x40).toBe(0x40);
    wr(UARTLCR_H, PL011_LCR_FEN); // enabling the FIFO empties it
    expect(rd(UARTFR)).toBe(0x90);
    expect(u.canReceive()).toBe(16);
    const bytes = Array.from({ length: 20 }, (_, i) => 0x30 + i);
    expect(u.receive(bytes)).toBe(16);
    expect(rd(UARTFR) & 0x40).toBe(0x40);
    const got = Array.from({ length: 16 }, () => rd(UARTDR));
    expect(got).toEqual(bytes.slice(0, 16));
    expect(rd(UARTFR) & 0x10).toBe(0x10);
  });

  test("a break on the line is a BE entry; reading it sets UARTRSR.BE; UARTECR clears it", () => {
    const { u, rd, wr } = uart();
    u.receiveBreak();
    expect(rd(UARTDR)).toBe(0x400);
    expect(rd(UARTRSR)).toBe(0x4);
    wr(UARTRSR, 0);
    expect(rd(UARTRSR)).toBe(0);
  });

  test("reading an empty FIFO returns the stale entry at the read position", () => {
    const { u, rd } = uart();
    u.receive([0x7a]);
    expect(rd(UARTDR)).toBe(0x7a);
    expect(rd(UARTDR)).toBe(0x7a);
  });
});

describe("PL011 register semantics", () => {
  test("registers keep 32-bit writes; IBRD keeps 16 bits, FBRD 6 (IBRD_MASK / FBRD_MASK)", () => {
    const { rd, wr } = uart();
    wr(UARTIMSC, 0xffffffff);
    expect(rd(UARTIMSC)).toBe(0xffffffff);
    wr(UARTIBRD, 0xfffff);
    wr(UARTFBRD, 0xff);
    expect(rd(UARTIBRD)).toBe(0xffff);
    expect(rd(UARTFBRD)).toBe(0x3f);
    wr(UARTFR, 0);
    expect(rd(UARTFR)).toBe(0x90);
  });

  test("bad offsets read 0 / ignore writes and are guest errors: UARTICR read, UARTRIS/MIS and ID writes, holes", () => {
    const { rd, wr, tracer } = uart();
    expect(rd(UARTICR)).toBe(0);
    wr(UARTRIS, 1);
    wr(UARTMIS, 1);
    wr(UARTPERIPHID0, 1);
    expect(rd(0x008)).toBe(0);
    expect(rd(0x100)).toBe(0);
    expect(tracer.guestErrors).toBe(6);
    expect(tracer.counters.get("guest-error:pl011:offset")).toBe(6);
  });

  test("sub-word accesses are 32-bit register accesses at offset >> 2 (impl 4..4): a byte at 0x19 is FR's low byte", () => {
    const { rd, wr, u, sent } = uart();
    expect(rd(0x19, 1)).toBe(0x90);
    expect(rd(UARTPERIPHID0 + 6, 2)).toBe(0x10);
    // unaligned: split into two 1-byte pieces, each a read of PeriphID1
    expect(rd(UARTPERIPHID0 + 5, 2)).toBe(0x1010);
    wr(UARTCR + 2, 0x301, 2); // reaches UARTCR with the 2-byte value
    expect(rd(UARTCR)).toBe(0x301);
    wr(UARTCR + 1, 0x0203, 2); // pieces 1@0x31 (0x03) then 1@0x32 (0x02): the last wins
    expect(rd(UARTCR)).toBe(0x02);
    wr(UARTCR, 0x301);
    wr(UARTDR + 3, 0x42, 1);
    expect(sent).toEqual([0x42]);
    expect(u.irqLevel).toBe(false);
  });

  test("an 8-byte access is two 4-byte register accesses (here FR and the hole at 0x1c)", () => {
    const { u, tracer, wide } = uart();
    expect(u.read(UARTFR, 8, wide)).toBe(0x90);
    expect(wide.hi).toBe(0);
    expect(tracer.guestErrors).toBe(1);
  });

  test("readIsQuiet: every register pl011_read knows but UARTDR, read whole; such a read changes nothing and logs nothing", () => {
    const { u, wr, rd, tracer } = uart();
    wr(UARTCR, PL011_CR_UARTEN | PL011_CR_TXE | 0x200);
    wr(UARTLCR_H, PL011_LCR_FEN);
    wr(UARTIMSC, PL011_INT_RX | PL011_INT_TX);
    u.receive([0x41, 0x42, 0x43]);
    wr(UARTDR, 0x44);
    const quiet: number[] = [];
    for (let off = 0; off < PL011_REGION_SIZE; off += 4) if (u.readIsQuiet(off, 4)) quiet.push(off);
    const ids = Array.from({ length: 8 }, (_, i) => UARTPERIPHID0 + 4 * i);
    expect(quiet).toEqual([UARTRSR, UARTFR, UARTILPR, UARTIBRD, UARTFBRD, UARTLCR_H, UARTCR, UARTIFLS, UARTIMSC, UARTRIS, UARTMIS, UARTDMACR, ...ids]);
    // Narrower or unaligned loads are widened or split by the memory core: not counted quiet.
    expect(u.readIsQuiet(UARTFR, 1)).toBe(false);
    expect(u.readIsQuiet(UARTFR, 2)).toBe(false);
    expect(u.readIsQuiet(UARTFR + 1, 4)).toBe(false);
    expect(u.readIsQuiet(UARTFR, 8)).toBe(false);
    const state = () => [...quiet.map((off) => rd(off)), u.canReceive(), u.irqLevel, tracer.guestErrors];
    const before = state();
    for (const off of quiet) for (let i = 0; i < 3; i++) expect(rd(off)).toBe(before[quiet.indexOf(off)]);
    expect(state()).toEqual(before);
    // The one that is not: a read of UARTDR takes a byte from the FIFO.
    expect(rd(UARTDR)).toBe(0x41);
    expect(state()).not.toEqual(before);
  });

  test("every offset at every size reads an unsigned value of the access width", () => {
    const { u } = uart();
    const wide = { hi: 0 };
    for (const size of [1, 2, 4, 8] as const) {
      for (let off = 0; off + size <= PL011_REGION_SIZE; off++) {
        const v = u.read(off, size, wide);
        expect(Number.isInteger(v) && v >= 0 && (size >= 4 ? v <= 0xffffffff : v < 2 ** (8 * size))).toBe(true);
        expect(Number.isInteger(wide.hi) && wide.hi >= 0 && wide.hi <= 0xffffffff && (size === 8 || wide.hi === 0)).toBe(true);
      }
    }
  });

  test("snapshot round trip", () => {
    const a = uart();
    a.wr(UARTLCR_H, PL011_LCR_FEN);
    a.u.receive([1, 2, 3]);
    a.wr(UARTIMSC, PL011_INT_RX);
    const b = uart();
    b.u.loadState(a.u.state());
    expect(b.u.state()).toEqual(a.u.state());
    expect(b.u.irqLevel).toBe(true);
    expect([b.rd(UARTDR), b.rd(UARTDR)]).toEqual([1, 2]);
  });
});
