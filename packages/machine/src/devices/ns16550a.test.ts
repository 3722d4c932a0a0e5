// NS16550A against QEMU hw/char/serial.c (serial_reset_hold, serial_update_irq,
// serial_ioport_read/write, serial_xmit, serial_receive1, serial_can_receive,
// fifo_timeout_int, serial_update_parameters) and hw/char/serial-mm.c.
import { EventQueue, Tracer, type AccessSize } from "@irqlab/sim";
import { describe, expect, test } from "vitest";
import { Ns16550a } from "./ns16550a.js";
import {
  UART_DLL, UART_DLM, UART_FCR, UART_IER, UART_IER_RDI, UART_IER_RLSI, UART_IER_THRI, UART_IIR, UART_LCR, UART_LSR, UART_MCR, UART_MSR,
  UART_RX, UART_SCR, UART_TX
} from "./ns16550a-regs.js";

function uart(withTimers = false) {
  const tracer = new Tracer();
  const queue = new EventQueue();
  const sent: number[] = [];
  const irq: boolean[] = [];
  const u = new Ns16550a({
    tracer,
    tx: (b) => sent.push(b),
    irq: (l) => irq.push(l),
    ...(withTimers ? { timers: queue } : {}),
  });
  irq.length = 0; // the reset at construction lowers the line
  const wide = { hi: 0 };
  const rd = (off: number, size: AccessSize = 1) => u.read(off, size, wide);
  const wr = (off: number, v: number, size: AccessSize = 1) => {
    u.write(off, size, v, 0);
  };
  return { u, tracer, queue, sent, irq, rd, wr, wide };
}

describe("NS16550A reset values (serial_reset_hold)", () => {
  test.each([
    ["IER", UART_IER, 0x00],
    ["IIR: no interrupt", UART_IIR, 0x01],
    ["LCR", UART_LCR, 0x00],
    ["MCR: OUT2", UART_MCR, 0x08],
    ["LSR: TEMT | THRE", UART_LSR, 0x60],
    ["MSR: DCD | DSR | CTS", UART_MSR, 0xb0],
    ["SCR", UART_SCR, 0x00],
  ])("%s", (_name, off, v) => {
    expect(uart().rd(off)).toBe(v);
  });

  test("divisor 0x000c (9600 baud) behind DLAB; character time (1e9 / 9600) · 10 ns until LCR is written", () => {
    const { rd, wr, u } = uart();
    expect(u.charTransmitTime).toBe(1041660);
    wr(UART_LCR, 0x80);
    expect([rd(UART_DLL), rd(UART_DLM)]).toEqual([0x0c, 0x00]);
    // serial_update_parameters(): 399193 / 12 baud, 5 data bits + start + stop = 7 bits per character
    expect(u.charTransmitTime).toBe(Math.trunc(Math.fround(Math.fround(1e9 / Math.fround(Math.fround(399193) / 12)) * 7)));
  });

  test("reset lowers the interrupt; FCR survives it (serial_reset_hold does not touch fcr)", () => {
    const { u, rd, wr, irq } = uart();
    wr(UART_FCR, 0x01);
    u.reset();
    expect(irq).toEqual([false, false]);
    expect(rd(UART_IIR)).toBe(0x01); // iir reset to NO_INT: the FIFO bits are gone ...
    u.receive([0x31]);
    expect(u.state().recvFifo).toEqual([0x31]); // ... but FCR.FE still routes input to the FIFO
  });
});

describe("NS16550A transmit and the THRE interrupt", () => {
  test("a THR write goes to the sink; LSR.THRE/TEMT are set again before the write returns", () => {
    const { rd, wr, sent } = uart();
    wr(UART_TX, 0x41);
    wr(UART_TX, 0x42);
    expect(sent).toEqual([0x41, 0x42]);
    expect(rd(UART_LSR)).toBe(0x60);
  });

  test("IER.THRI with THR empty raises THRI; reading IIR clears it; a THR write lowers then re-raises it", () => {
    const { rd, wr, irq } = uart();
    wr(UART_IER, UART_IER_THRI);
    expect(irq).toEqual([true]);
    expect(rd(UART_IIR)).toBe(0x02);
    expect(irq.at(-1)).toBe(false);
    expect(rd(UART_IIR)).toBe(0x01);
    irq.length = 0;
    wr(UART_TX, 0x41);
    expect(irq).toEqual([false, true]); // serial_write: thr_ipending = 0; serial_xmit: THRE → thr_ipending = 1
    // Rewriting IER with THRI already set does not re-sample (only a change of THRI does).
    rd(UART_IIR);
    irq.length = 0;
    wr(UART_IER, UART_IER_THRI);
    expect(irq).toEqual([]);
    wr(UART_IER, 0);
    wr(UART_IER, UART_IER_THRI);
    expect(irq.at(-1)).toBe(true);
  });
});

describe("NS16550A receive", () => {
  test("non-FIFO: one byte in RBR, LSR.DR, RDI; a second byte waits (can_receive 0); reading RBR clears", () => {
    const { u, rd, wr, irq } = uart();
    wr(UART_IER, UART_IER_RDI);
    expect(u.receive([0x61, 0x62])).toBe(1);
    expect(rd(UART_LSR) & 1).toBe(1);
    expect(rd(UART_IIR)).toBe(0x04);
    expect(irq.at(-1)).toBe(true);
    expect(rd(UART_RX)).toBe(0x61);
    expect(rd(UART_LSR)).toBe(0x60);
    expect(irq.at(-1)).toBe(false);
    expect(u.receive([0x62])).toBe(1);
  });

  test("priorities: line status (overrun) over received data over THR empty", () => {
    const { rd, wr } = uart();
    wr(UART_MCR, 0x10); // loopback: transmitted bytes are received, overrunning RBR
    wr(UART_IER, UART_IER_RLSI | UART_IER_RDI | UART_IER_THRI);
    wr(UART_TX, 0x31);
    wr(UART_TX, 0x32);
    expect(rd(UART_IIR)).toBe(0x06);
    expect(rd(UART_LSR) & 0x02).toBe(0x02); // reading LSR clears OE
    expect(rd(UART_IIR)).toBe(0x04);
    expect(rd(UART_RX)).toBe(0x32);
    expect(rd(UART_IIR)).toBe(0x02);
    expect(rd(UART_IIR)).toBe(0x01);
  });

  test("FIFO: FCR.FE sets IIR bits 7:6; input stops at the trigger level; RDI at the level", () => {
    const { u, rd, wr } = uart();
    wr(UART_FCR, 0x81); // FE, trigger level 8
    expect(rd(UART_IIR)).toBe(0xc1);
    wr(UART_IER, UART_IER_RDI);
    expect(u.canReceive()).toBe(8);
    expect(u.receive(Array.from({ length: 20 }, (_, i) => i))).toBe(8);
    expect(rd(UART_IIR)).toBe(0xc4);
    expect(rd(UART_RX)).toBe(0);
    expect(u.canReceive()).toBe(1);
    expect(rd(UART_IIR)).toBe(0xc1); // 7 < 8
  });

  test("FIFO character timeout: data below the trigger level raises CTI 4 character times later", () => {
    const { u, rd, wr, queue } = uart(true);
    wr(UART_FCR, 0x81);
    wr(UART_IER, UART_IER_RDI);
    u.receive([0x61, 0x62, 0x63]);
    expect(rd(UART_IIR)).toBe(0xc1);
    queue.runUntil(4 * u.charTransmitTime - 1);
    expect(rd(UART_IIR)).toBe(0xc1);
    queue.runUntil(4 * u.charTransmitTime);
    expect(rd(UART_IIR)).toBe(0xcc);
    expect(rd(UART_RX)).toBe(0x61);
    expect(rd(UART_IIR)).toBe(0xc1); // reading clears the timeout and re-arms it
    queue.runUntil(queue.now + 4 * u.charTransmitTime);
    expect(rd(UART_IIR)).toBe(0xcc);
  });

  test("FCR with RFR/XFR flushes; changing FE flushes both", () => {
    const { u, rd, wr } = uart();
    wr(UART_FCR, 0x01);
    u.receive([1]);
    wr(UART_FCR, 0x03);
    expect(rd(UART_LSR)).toBe(0x60);
    expect(u.state().recvFifo).toEqual([]);
  });
});

describe("NS16550A other registers", () => {
  test("DLAB: DLL/DLM written and read; LCR 8N1 at divisor 1 gives (1e9 / 399193) · 10 ns per character", () => {
    const { u, rd, wr } = uart();
    wr(UART_LCR, 0x83);
    wr(UART_DLL, 0x01);
    wr(UART_DLM, 0x00);
    expect([rd(UART_DLL), rd(UART_DLM)]).toEqual([1, 0]);
    wr(UART_LCR, 0x03);
    expect(Math.abs(u.charTransmitTime - 1e10 / 399193)).toBeLessThan(2);
    expect(rd(UART_IER)).toBe(0);
  });

  test("MSR in loopback reflects MCR (OUT2→DCD, OUT1→RI, RTS→CTS, DTR→DSR); MCR keeps 5 bits", () => {
    const { rd, wr } = uart();
    wr(UART_MCR, 0xff);
    expect(rd(UART_MCR)).toBe(0x1f);
    expect(rd(UART_MSR)).toBe(0xf0);
  });

  test("serial-mm: a wider access reads/writes only the register at its offset; no access is a guest error", () => {
    const { rd, wr, tracer, u, wide } = uart();
    wr(UART_SCR, 0x5a);
    expect(rd(UART_MCR, 4)).toBe(0x08);
    expect(rd(UART_MSR, 2)).toBe(0xb0);
    expect(u.read(0, 8, wide)).toBe(0);
    expect(wide.hi).toBe(0);
    wr(UART_MCR, 0x1234_0003, 4);
    expect(rd(UART_MCR)).toBe(0x03);
    expect(rd(UART_SCR)).toBe(0x5a);
    wr(UART_LSR, 0);
    wr(UART_MSR, 0);
    expect(tracer.guestErrors).toBe(0);
  });

  test("every offset at every size reads an unsigned value of the access width", () => {
    const { u, tracer } = uart();
    const wide = { hi: 0 };
    for (const size of [1, 2, 4, 8] as const) {
      for (let off = 0; off + size <= u.regionSize; off++) {
        const v = u.read(off, size, wide);
        expect(Number.isInteger(v) && v >= 0 && (size >= 4 ? v <= 0xffffffff : v < 2 ** (8 * size))).toBe(true);
        expect(size === 8 || wide.hi === 0).toBe(true);
      }
    }
    expect(tracer.guestErrors).toBe(0);
  });

  test("readIsQuiet: a load it calls quiet changes nothing; the loads with a side effect (RBR, IIR at THRI, LSR with BI or OE) are not", () => {
    // Register states that give each read side effect a chance: data in RBR and the FIFO, THRI pending,
    // an overrun in LSR, DLAB set, loopback.
    const states: [string, (x: ReturnType<typeof uart>) => void][] = [
      ["reset", () => undefined],
      ["THRI pending", (x) => x.wr(UART_IER, UART_IER_THRI)],
      ["a byte in RBR", (x) => x.u.receive([0x61])],
      ["FIFO with data", (x) => (x.wr(UART_FCR, 0x01), x.u.receive([1, 2, 3]))],
      ["overrun, in loopback", (x) => (x.wr(UART_MCR, 0x10), x.wr(UART_IER, UART_IER_RLSI | UART_IER_RDI), x.wr(UART_TX, 0x31), x.wr(UART_TX, 0x32))],
      ["DLAB", (x) => x.wr(UART_LCR, 0x83)],
    ];
    const notQuiet: string[] = [];
    for (const [name, set] of states) {
      for (let off = 0; off < 8; off++) {
        const x = uart();
        set(x);
        if (!x.u.readIsQuiet(off, 1)) {
          notQuiet.push(`${name}: ${off}`);
          continue;
        }
        const before = [JSON.stringify(x.u.state()), x.u.irqLevel, x.tracer.guestErrors];
        const v = x.rd(off);
        expect(x.rd(off)).toBe(v);
        expect([JSON.stringify(x.u.state()), x.u.irqLevel, x.tracer.guestErrors]).toEqual(before);
      }
    }
    // RBR is never quiet without DLAB, even empty: its read also tells the chardev it may send more (qemu_chr_fe_accept_input).
    expect(notQuiet).toEqual([
      "reset: 0",
      "THRI pending: 0",
      "THRI pending: 2",
      "a byte in RBR: 0",
      "FIFO with data: 0",
      "overrun, in loopback: 0",
      "overrun, in loopback: 5",
    ]);
    // The ones it refuses do change something.
    const x = uart();
    x.wr(UART_IER, UART_IER_THRI);
    const before = JSON.stringify(x.u.state());
    x.rd(UART_IIR);
    expect(JSON.stringify(x.u.state())).not.toBe(before);
  });

  test("snapshot round trip", () => {
    const a = uart();
    a.wr(UART_FCR, 0xc1);
    a.u.receive([1, 2, 3]);
    a.wr(UART_IER, UART_IER_RDI | UART_IER_THRI);
    const b = uart();
    b.u.loadState(a.u.state());
    expect(b.u.state()).toEqual(a.u.state());
    expect(b.rd(UART_RX)).toBe(1);
  });
});
