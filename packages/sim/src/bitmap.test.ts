import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { Bitmap, lowestSetBit } from "./bitmap.js";

describe("Bitmap", () => {
  test("set, clear, get and bounds", () => {
    const b = new Bitmap(70);
    b.set(0);
    b.set(69);
    b.set(70); // outside: ignored
    expect([b.get(0), b.get(69), b.get(70), b.get(-1)]).toEqual([true, true, false, false]);
    expect(b.count()).toBe(2);
    b.clear(0);
    expect(b.findNextSet()).toBe(69);
    expect(b.findNextSet(70)).toBe(-1);
  });

  test("lowestSetBit", () => {
    expect(lowestSetBit(1)).toBe(0);
    expect(lowestSetBit(0x80000000)).toBe(31);
    expect(lowestSetBit(0b10100)).toBe(2);
  });

  test("snapshot arrays never set bits past the size", () => {
    const b = new Bitmap(33);
    b.loadArray([0xffffffff, 0xffffffff]);
    expect(b.count()).toBe(33);
    expect(b.toArray()).toEqual([0xffffffff, 1]);
  });

  test("findNextSet and findFirstCommon agree with a Set model (property)", () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.integer({ min: 0, max: 2046 })),
        fc.uniqueArray(fc.integer({ min: 0, max: 2046 })),
        fc.integer({ min: 0, max: 2047 }),
        (xs, ys, from) => {
          const a = new Bitmap(2047);
          const b = new Bitmap(2047);
          xs.forEach((x) => a.set(x));
          ys.forEach((y) => b.set(y));
          const next = xs.filter((x) => x >= from).sort((p, q) => p - q)[0] ?? -1;
          expect(a.findNextSet(from)).toBe(next);
          const ySet = new Set(ys);
          const common = xs.filter((x) => ySet.has(x)).sort((p, q) => p - q)[0] ?? -1;
          expect(a.findFirstCommon(b)).toBe(common);
          const both = xs.filter((x) => ySet.has(x)).sort((p, q) => p - q);
          const wrapped = both.find((x) => x >= from) ?? both[0] ?? -1;
          expect(a.findNextCommonWrapping(b, from)).toBe(wrapped);
          expect(a.count()).toBe(xs.length);
          a.orWith(b);
          expect(a.count()).toBe(new Set([...xs, ...ys]).size);
        },
      ),
    );
  });
});
