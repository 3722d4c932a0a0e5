import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { Rng, RngStreams } from "./rng.js";

describe("Rng (xoshiro128**)", () => {
  test("the same seed gives the same sequence; a different seed another", () => {
    const a = new RngStreams(42).stream("x");
    const b = new RngStreams(42).stream("x");
    const c = new RngStreams(43).stream("x");
    const sa = Array.from({ length: 16 }, () => a.nextU32());
    expect(Array.from({ length: 16 }, () => b.nextU32())).toEqual(sa);
    expect(Array.from({ length: 16 }, () => c.nextU32())).not.toEqual(sa);
  });

  test("matches the reference xoshiro128** step from a known state", () => {
    // Reference: xoshiro128starstar.c (Blackman & Vigna), stepped by hand from
    // state {1, 2, 3, 4}: result = rotl(2 * 5, 7) * 9 = 11520; t = 2 << 9;
    // s2 = 3^1 = 2, s3 = 4^2 = 6, s1 = 2^2 = 0, s0 = 1^6 = 7, s2 ^= t -> 1026,
    // s3 = rotl(6, 11) = 12288.
    const r = Rng.fromState([1, 2, 3, 4]);
    expect(r.nextU32()).toBe(11520);
    expect(r.state()).toEqual([7, 0, 1026, 12288]);
  });

  test("int() stays in range and covers it", () => {
    const r = new Rng(7);
    const seen = new Set<number>();
    for (let i = 0; i < 2000; i++) {
      const v = r.int(-3, 3);
      expect(v).toBeGreaterThanOrEqual(-3);
      expect(v).toBeLessThanOrEqual(3);
      seen.add(v);
    }
    expect(seen.size).toBe(7);
    expect(() => r.int(5, 4)).toThrow(/min <= max/);
  });

  test("nextFloat is in [0, 1) and roughly uniform", () => {
    const r = new Rng(1);
    let sum = 0;
    for (let i = 0; i < 10000; i++) {
      const f = r.nextFloat();
      expect(f).toBeGreaterThanOrEqual(0);
      expect(f).toBeLessThan(1);
      sum += f;
    }
    expect(sum / 10000).toBeGreaterThan(0.48);
    expect(sum / 10000).toBeLessThan(0.52);
  });

  test("state round-trips", () => {
    const r = new Rng(99);
    r.nextU32();
    const copy = Rng.fromState(r.state());
    expect(Array.from({ length: 8 }, () => copy.nextU32())).toEqual(Array.from({ length: 8 }, () => r.nextU32()));
  });

  test("seeds are validated", () => {
    expect(() => new RngStreams(-1)).toThrow(/seed/);
    expect(() => new RngStreams(1.5)).toThrow(/seed/);
    expect(new RngStreams("abc").stream("s").nextU32()).toBe(new RngStreams("abc").stream("s").nextU32());
  });
});

describe("RngStreams independence (property)", () => {
  test("drawing from one stream never changes another stream's numbers", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 2 ** 40 }),
        fc.array(fc.constantFrom("a", "b", "c"), { maxLength: 60 }),
        (seed, draws) => {
          // Reference: stream "a" drawn alone.
          const alone = new RngStreams(seed).stream("a");
          const expectA = Array.from({ length: draws.filter((d) => d === "a").length }, () => alone.nextU32());
          // Interleaved with draws from other streams.
          const streams = new RngStreams(seed);
          const gotA: number[] = [];
          for (const d of draws) {
            const v = streams.stream(d).nextU32();
            if (d === "a") gotA.push(v);
          }
          expect(gotA).toEqual(expectA);
        },
      ),
    );
  });

  test("distinct names give distinct sequences", () => {
    const s = new RngStreams(5);
    const a = Array.from({ length: 4 }, () => s.stream("scheduler").nextU32());
    const b = Array.from({ length: 4 }, () => s.stream("workload").nextU32());
    expect(a).not.toEqual(b);
    expect(s.stream("scheduler")).toBe(s.stream("scheduler"));
  });
});
