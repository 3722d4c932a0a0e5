import { describe, expect, test } from "vitest";
import { ConfigError, RegionOverlapError } from "./errors.js";
import { MMIO_UNHANDLED, MmioBus, type AccessSize, type MmioDevice, type WideValue } from "./mmio-bus.js";

/** A device with one 64-bit register at offset 0 and a log of accesses. */
class Reg64 implements MmioDevice {
  lo = 0;
  hi = 0;
  log: string[] = [];
  read(offset: number, size: AccessSize, wide: WideValue): number {
    this.log.push(`r${size}@${offset}`);
    if (offset === 0 && size === 8) {
      wide.hi = this.hi;
      return this.lo;
    }
    if (offset === 4 && size === 4) return this.hi;
    return offset === 0 ? this.lo : 0;
  }
  write(offset: number, size: AccessSize, value: number, hi: number): void {
    this.log.push(`w${size}@${offset}`);
    if (offset === 0) {
      this.lo = value;
      if (size === 8) this.hi = hi;
    }
  }
}

describe("MmioBus", () => {
  test("dispatches by address with the offset inside the region", () => {
    const bus = new MmioBus();
    const a = new Reg64();
    const b = new Reg64();
    bus.map(0x1000, 0x100, a, "a");
    bus.map(0x8000_0000_0000, 0x1000, b, "b"); // above 2^32
    expect(bus.write(0x1000, 4, 0x1234)).toBe(true);
    expect(bus.read(0x1000, 4)).toBe(0x1234);
    expect(bus.write(0x8000_0000_0000, 8, 0xdeadbeef, 0xcafef00d)).toBe(true);
    expect(bus.read(0x8000_0000_0000, 8)).toBe(0xdeadbeef);
    expect(bus.readHi).toBe(0xcafef00d);
    expect(bus.read(0x8000_0000_0004, 4)).toBe(0xcafef00d);
    expect(bus.readHi).toBe(0); // a narrower read resets the high word
    expect(a.log).toEqual(["w4@0", "r4@0"]);
  });

  test("reports unhandled for unclaimed addresses and straddling accesses", () => {
    const bus = new MmioBus();
    bus.map(0x1000, 0x100, new Reg64(), "a");
    expect(bus.read(0x0fff, 1)).toBe(MMIO_UNHANDLED);
    expect(bus.read(0x1100, 4)).toBe(MMIO_UNHANDLED);
    expect(bus.read(0x10fe, 4)).toBe(MMIO_UNHANDLED); // would cross the end, as kvm_io_bus refuses
    expect(bus.write(0x2000, 4, 1)).toBe(false);
    expect(bus.read(0x10fc, 4)).toBe(0);
  });

  test("quietRead: only a whole access to a device that declares quiet loads", () => {
    const bus = new MmioBus();
    bus.map(0x1000, 0x100, new Reg64(), "plain");
    bus.map(0x2000, 0x100, Object.assign(new Reg64(), { quietReads: true }), "quiet");
    expect(bus.quietRead(0x1000, 4)).toBe(false);
    expect(bus.quietRead(0x2000, 4)).toBe(true);
    expect(bus.quietRead(0x20fc, 8)).toBe(false); // crosses the region's end: no device claims it
    expect(bus.quietRead(0x3000, 4)).toBe(false);
  });

  test("quietRead: a device that says per load, asked with the offset inside its region", () => {
    const bus = new MmioBus();
    const asked: string[] = [];
    // Quiet except the word at offset 0 (a FIFO's data register, say).
    const dev = Object.assign(new Reg64(), {
      readIsQuiet: (offset: number, size: AccessSize) => {
        asked.push(`${size}@${offset}`);
        return offset !== 0;
      },
    });
    bus.map(0x4000, 0x100, dev, "mixed");
    expect(bus.quietRead(0x4000, 4)).toBe(false);
    expect(bus.quietRead(0x4004, 4)).toBe(true);
    expect(bus.quietRead(0x40fe, 4)).toBe(false); // not claimed: the device is not asked
    expect(asked).toEqual(["4@0", "4@4"]);
    expect(dev.log).toEqual([]); // asking reads nothing
  });

  test("a device read of 0xffffffff is not confused with unhandled", () => {
    const bus = new MmioBus();
    bus.map(0, 4, { read: () => -1, write: () => undefined }, "ones");
    expect(bus.read(0, 4)).toBe(0xffffffff);
  });

  test("refuses overlaps naming both regions, and bad ranges", () => {
    const bus = new MmioBus();
    bus.map(0x1000, 0x1000, new Reg64(), "gicd");
    expect(() => bus.map(0x1800, 0x1000, new Reg64(), "its")).toThrow(RegionOverlapError);
    expect(() => bus.map(0x1800, 0x1000, new Reg64(), "its")).toThrow(/'its'.*overlaps 'gicd'/);
    expect(() => bus.map(0x3000, 0, new Reg64(), "empty")).toThrow(ConfigError);
    expect(() => bus.map(0x3000, 0x10, new Reg64(), "gicd")).toThrow(/already mapped/);
  });

  test("unmap frees the range and invalidates the lookup cache", () => {
    const bus = new MmioBus();
    const r = bus.map(0x1000, 0x100, new Reg64(), "a");
    expect(bus.read(0x1000, 4)).toBe(0); // caches region a
    expect(bus.unmap(r)).toBe(true);
    expect(bus.read(0x1000, 4)).toBe(MMIO_UNHANDLED);
    expect(bus.unmap("a")).toBe(false);
    bus.map(0x1000, 0x100, new Reg64(), "again");
    expect(bus.find(0x1000)?.name).toBe("again");
  });

  test("binary search finds the right region among many", () => {
    const bus = new MmioBus();
    const devs: Reg64[] = [];
    for (let i = 0; i < 64; i++) {
      const d = new Reg64();
      d.lo = i;
      devs.push(d);
      bus.map(0x10000 * (63 - i), 0x100, d, `r${i}`);
    }
    for (let i = 0; i < 64; i++) expect(bus.read(0x10000 * (63 - i), 4)).toBe(i);
    expect(bus.read(0x10000 * 5 + 0x100, 4)).toBe(MMIO_UNHANDLED);
  });
});
