import { describe, expect, it } from "vitest";
import { KeySet } from "./key-set.js";

describe("KeySet", () => {
  it("holds each key once, and answers has() as a Set would", () => {
    const k = new KeySet(4);
    expect(k.add(0)).toBe(true);
    expect(k.add(0)).toBe(false);
    expect(k.has(0)).toBe(true);
    expect(k.has(1)).toBe(false);
    expect(k.size).toBe(1);
  });

  it("keeps every key across its growth, wide keys and keys that differ only above bit 32 included", () => {
    const k = new KeySet(8);
    const ref = new Set<number>();
    // Low halves collide on purpose: the same 32 bits under different high parts.
    const keys: number[] = [];
    for (let i = 0; i < 5000; i++) keys.push(i, (i % 7) + 2 ** 32 * (i + 1), 2 ** 46 - 1 - i, Number.MAX_SAFE_INTEGER - i);
    for (const key of keys) {
      const isNew = !ref.has(key);
      ref.add(key);
      expect(k.add(key)).toBe(isNew);
    }
    expect(k.size).toBe(ref.size);
    for (const key of keys) expect(k.has(key)).toBe(true);
    for (let i = 0; i < 2000; i++) {
      const absent = 2 ** 40 + i * 3 + 1;
      expect(k.has(absent)).toBe(ref.has(absent));
    }
  });

  it("refuses a key that is not a non-negative safe integer", () => {
    const k = new KeySet();
    for (const bad of [-1, 0.5, 2 ** 53, Number.NaN, Number.POSITIVE_INFINITY]) expect(() => k.add(bad)).toThrow(RangeError);
    expect(k.size).toBe(0);
  });
});
