import { describe, expect, test } from "vitest";
import { DENSE_PAGES_PER_ENTRY, PageIndex } from "./page-index.js";

/** Every lookup of `pages` and of the pages around them, as a map of the same entries answers it. */
function expectLikeMap(entries: readonly (readonly [number, string])[], probes: readonly number[]): void {
  const index = new PageIndex(entries);
  const map = new Map<number, string>();
  for (const [p, v] of entries) if (!map.has(p)) map.set(p, v);
  for (const p of probes) expect(index.get(p), `page ${p}`).toBe(map.get(p));
}

describe("PageIndex", () => {
  test("side by side pages (one group of harts), with a gap and pages around them", () => {
    const entries = [0x28000, 0x28001, 0x28002, 0x28005].map((p) => [p, `hart@${p.toString(16)}`] as const);
    expectLikeMap(entries, [0, 0x27fff, 0x28000, 0x28001, 0x28002, 0x28003, 0x28004, 0x28005, 0x28006, 0x28000 + 0.5, -1]);
  });

  test("groups spread wider than the array holds: every page still answers", () => {
    const far = 0x28000 + 4 * DENSE_PAGES_PER_ENTRY;
    const entries = [0x28000, 0x28001, far, far + 1].map((p) => [p, `p${p}`] as const);
    expectLikeMap(entries, [0x28000, 0x28001, 0x28002, far - 1, far, far + 1, far + 2]);
  });

  test("the widest span kept in the array and the narrowest kept in the map, their two ends", () => {
    for (const span of [2 * DENSE_PAGES_PER_ENTRY - 1, 2 * DENSE_PAGES_PER_ENTRY]) {
      const last = 0x1000 + span;
      expectLikeMap([[0x1000, "first"], [last, "last"]], [0x0fff, 0x1000, 0x1001, last - 1, last, last + 1]);
    }
  });

  test("of two entries for one page the first is kept; pages that are no whole number; no entries", () => {
    expectLikeMap([[7, "first"], [7, "second"], [9, "nine"]], [6, 7, 8, 9]);
    expectLikeMap([[0.5, "half"], [3, "three"]], [0, 0.5, 1, 3]);
    expectLikeMap([[2 ** 40, "high"], [2 ** 40 + 1, "next"]], [2 ** 40, 2 ** 40 + 1, 2 ** 40 + 2]);
    expect(new PageIndex<string>([]).get(0)).toBeUndefined();
  });
});
