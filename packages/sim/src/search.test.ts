import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { largestHolding } from "./search.js";

describe("largestHolding", () => {
  test("the largest k of 1..n a true-then-false predicate holds for, its true answers asked in increasing order", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 5000 }), fc.integer({ min: 0, max: 6000 }), (n, edge) => {
        const asked: [number, boolean][] = [];
        const k = largestHolding(n, (j) => {
          expect(j).toBeGreaterThanOrEqual(1);
          expect(j).toBeLessThanOrEqual(n);
          const yes = j <= edge;
          asked.push([j, yes]);
          return yes;
        });
        expect(k).toBe(Math.min(n, edge));
        const yeses = asked.filter(([, y]) => y).map(([j]) => j);
        expect(yeses).toEqual([...yeses].sort((a, b) => a - b));
        if (k > 0) expect(yeses.at(-1)).toBe(k);
        // Doubling then halving: about twice log2 of the answer, plus a couple.
        expect(asked.length).toBeLessThanOrEqual(2 * Math.ceil(Math.log2(Math.max(2, k + 1))) + 3);
      }),
      { numRuns: 500 },
    );
  });
});
