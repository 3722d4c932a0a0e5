/**
 * The benches' allocation meter (bench/alloc-meter.ts) counts what the
 * operation allocates and nothing of its own: an operation that allocates
 * nothing reads 0 however few its calls, and one that allocates reads in
 * proportion to what it allocates, also when collections run during its
 * windows.
 */
import { describe, expect, test } from "vitest";
import { bytesAllocatedPerOp } from "../bench/alloc-meter.js";

let sink: unknown;
let count = 0;

/** An operation that allocates `arrays` arrays of eight numbers a call, each kept until the next call. */
function allocating(arrays: number): () => void {
  return () => {
    const kept: number[][] = [];
    for (let i = 0; i < arrays; i++) kept.push([count, count, count, count, count, count, count, count]);
    count++;
    sink = kept;
  };
}

describe("bytesAllocatedPerOp", () => {
  test.each([200, 20_000])("an operation that allocates nothing reads 0 over %i calls: reading the heap's sizes is not counted", (n) => {
    expect(
      bytesAllocatedPerOp(() => {
        count++;
      }, n),
    ).toBe(0);
  });

  test("twice the allocations read twice the bytes", () => {
    const one = bytesAllocatedPerOp(allocating(1), 20_000);
    const two = bytesAllocatedPerOp(allocating(2), 20_000);
    expect(one).toBeGreaterThan(0);
    // The array holding them is the same size in both: the second array of numbers is the whole difference.
    const perArray = two - one;
    expect(perArray).toBeGreaterThan(0);
    expect(one).toBeGreaterThanOrEqual(perArray);
  });

  test("an operation that allocates enough for collections to run in its windows still reads a figure, the same as in fewer calls", () => {
    const many = allocating(64);
    // Over 50,000 calls, tens of megabytes: the young generation is collected many times.
    const big = bytesAllocatedPerOp(many, 50_000);
    const small = bytesAllocatedPerOp(many, 500);
    expect(Number.isNaN(big)).toBe(false);
    expect(Math.abs(big - small) / small).toBeLessThan(0.02);
    expect(sink).toBeDefined();
  });
});
