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

/** A record of a chain: objects of one class are one size each (no allocation site adds a memento to them). */
class Link {
  constructor(
    readonly value: number,
    readonly next: Link | undefined,
  ) {}
}

/** An operation that allocates a chain of `links` records a call, kept until the next call. */
function allocating(links: number): () => void {
  return () => {
    let head: Link | undefined;
    for (let i = 0; i < links; i++) head = new Link(count, head);
    count++;
    sink = head;
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

  test("each record more a call reads the same bytes more: the figure is in proportion to what the operation allocates", () => {
    const [one, two, three] = [1, 2, 3].map((links) => bytesAllocatedPerOp(allocating(links), 20_000));
    expect(one).toBeGreaterThan(0);
    // To within the rounding and the odd byte a window's noise adds (a record is 40 bytes on Node 20).
    expect(Math.abs(two! - 2 * one!)).toBeLessThan(0.5);
    expect(Math.abs(three! - 3 * one!)).toBeLessThan(0.5);
  });

  test("an operation that allocates enough for collections to run in its windows still reads a figure, the same as in fewer calls", () => {
    const many = allocating(256);
    // Over 50,000 calls, tens of megabytes: the young generation is collected many times.
    const big = bytesAllocatedPerOp(many, 50_000);
    const small = bytesAllocatedPerOp(many, 500);
    expect(Number.isNaN(big)).toBe(false);
    expect(Math.abs(big - small) / small).toBeLessThan(0.02);
    expect(sink).toBeDefined();
  });
});
