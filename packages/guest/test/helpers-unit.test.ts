// Small pure helpers of the public API.
import { op } from "@irqlab/sim";
import { expect, test } from "vitest";
import { bootProtocol, consoleBytes, cpuCount, firmwareError, formatSize, IrqTable, loopFormImage, onlineLine, perArchImage, signedX0, swab32, type GuestCode, type GuestImage } from "../src/index.js";

test("bootProtocol: x1 = 0 is arm64, a non-zero second register is riscv64's a1", () => {
  expect(bootProtocol([0x4000_0000, 0, 0, 0])).toEqual({ arch: "aarch64", fdtAddress: 0x4000_0000, hartId: undefined });
  expect(bootProtocol([2, 0x87e0_0000])).toEqual({ arch: "riscv64", fdtAddress: 0x87e0_0000, hartId: 2 });
  expect(bootProtocol([0x4000_0000])).toEqual({ arch: "aarch64", fdtAddress: 0x4000_0000, hartId: undefined });
  expect(bootProtocol([0, 0x8000_0000], "aarch64")).toEqual({ arch: "aarch64", fdtAddress: 0, hartId: undefined });
  expect(bootProtocol([1, 0], "riscv64")).toEqual({ arch: "riscv64", fdtAddress: 0, hartId: 1 });
  expect(bootProtocol([])).toBeUndefined();
  expect(bootProtocol([1], "riscv64")).toBeUndefined();
});

test("swab32 is be32_to_cpu of a little-endian load", () => {
  expect(swab32(0xedfe0dd0)).toBe(0xd00dfeed);
  expect(swab32(0x01020304)).toBe(0x04030201);
});

test("signedX0: x0 from its halves, negative PSCI codes included", () => {
  expect(signedX0(0xffff_fffe, 0xffff_ffff)).toBe(-2);
  expect(signedX0(0x1_0001, 0)).toBe(0x1_0001);
  expect(signedX0(0, 1)).toBe(2 ** 32);
});

test("consoleBytes: UTF-8 with CRLF line ends", () => {
  expect([...consoleBytes("a\nb\r\n")]).toEqual([0x61, 0x0d, 0x0a, 0x62, 0x0d, 0x0a]);
  expect([...consoleBytes("é")]).toEqual([0xc3, 0xa9]);
});

test("formatSize, cpuCount, onlineLine, firmwareError", () => {
  expect([formatSize(128 * 2 ** 20), formatSize(2 ** 30), formatSize(1536 * 1024), formatSize(3 * 2 ** 30 + 2 ** 20), formatSize(100)]).toEqual([
    "128 MiB",
    "1 GiB",
    "1536 KiB",
    "3073 MiB",
    "100 B",
  ]);
  expect([cpuCount(1), cpuCount(2)]).toEqual(["1 CPU", "2 CPUs"]);
  expect(onlineLine("aarch64", 3, 0x1_0203)).toBe("CPU3 (MPIDR 0x0000010203) online");
  expect(onlineLine("riscv64", 3, 7)).toBe("CPU3 (hart 7) online");
  expect([firmwareError("aarch64", -4), firmwareError("riscv64", -6), firmwareError("riscv64", -99)]).toEqual([
    "PSCI_RET_ALREADY_ON (-4)",
    "SBI_ERR_ALREADY_AVAILABLE (-6)",
    "-99",
  ]);
});

test("IrqTable: take() hands back the handler or counts the interrupt as unhandled, as dispatch() does", () => {
  const t = new IrqTable();
  const handler = function* (): GuestCode {
    yield op.wfi();
  };
  t.register(40, handler);
  expect(t.take(40)).toBe(handler);
  expect(t.unhandled).toBe(0);
  expect(t.take(41)).toBeUndefined();
  expect(t.unhandled).toBe(1);
  expect(t.dispatch(41, 0).next()).toEqual({ value: false, done: true });
  expect(t.unhandled).toBe(2);
});

test("IrqTable: SGIs, SPIs, IMSIC identities and LPIs alike: registered, replaced, freed, each under its own number", () => {
  const t = new IrqTable();
  // 0..2047 are held apart from the rest (an LPI starts at 8192): the edges on both sides, and numbers that are no index.
  const numbers = [0, 1, 1023, 1024, 2047, 2048, 8191, 8192, 65535, -1, 1.5];
  const action = (n: number) => op.write(0x1000, 4, n);
  for (const n of numbers) t.register(n, action(n));
  for (const n of numbers) expect(t.handler(n)).toEqual(action(n));
  expect(t.handler(2)).toBeUndefined();
  expect(t.handler(8193)).toBeUndefined();
  const replaced = op.wfi();
  t.register(2047, replaced);
  t.register(8192, replaced);
  expect([t.handler(2047), t.handler(8192), t.handler(2046), t.handler(8191)]).toEqual([replaced, replaced, undefined, action(8191)]);
  for (const n of numbers) t.unregister(n);
  for (const n of numbers) expect(t.take(n)).toBeUndefined();
  expect(t.unhandled).toBe(numbers.length);
});

test("IrqTable: a handler that is one op (IrqAction) runs as that op, as the program yielding it would", () => {
  const t = new IrqTable();
  const body = op.seq([op.write(0x1000, 4, 0), op.write(0x1004, 4, 1)]);
  t.register(42, body);
  t.register(43, function* (): GuestCode {
    yield body;
  });
  const run = (hwirq: number): unknown[] => {
    const it = t.dispatch(hwirq, 0);
    const seen: unknown[] = [];
    for (let r = it.next(); ; r = it.next()) {
      seen.push(r.value);
      if (r.done === true) return seen;
    }
  };
  expect(run(42)).toEqual([body, true]);
  expect(run(42)).toEqual(run(43));
  expect(t.unhandled).toBe(0);
});

test("loopFormImage and perArchImage call the image's entries as its methods, as a vCPU does", () => {
  /** An image whose entries read its own fields. */
  class Marked implements GuestImage {
    readonly #mark: number;
    constructor(mark: number) {
      this.#mark = mark;
    }
    *main(): GuestCode {
      yield op.write(0x1000, 4, this.#mark);
    }
    *vector(cause: number): GuestCode {
      yield op.write(0x2000, 4, this.#mark + cause);
    }
    *secondary(entry: number): GuestCode {
      yield op.write(0x3000, 4, this.#mark + entry);
    }
  }
  const first = (g: GuestCode) => g.next().value;
  const looped = loopFormImage(new Marked(7));
  expect(first(looped.main([0x4000_0000, 0, 0, 0]))).toEqual(op.write(0x1000, 4, 7));
  expect(first(looped.vector!(1))).toEqual(op.write(0x2000, 4, 8));
  expect(first(looped.secondary!(2, 0))).toEqual(op.write(0x3000, 4, 9));
  const both = perArchImage({}, { aarch64: () => new Marked(20), riscv64: () => new Marked(30) });
  expect(first(both.main([0, 0x8000_0000]))).toEqual(op.write(0x1000, 4, 30));
  expect(first(both.vector!(5))).toEqual(op.write(0x2000, 4, 35));
  expect(first(both.secondary!(6, 0))).toEqual(op.write(0x3000, 4, 36));
});
