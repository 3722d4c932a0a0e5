/**
 * VS-file allocation on guest entry and release on exit (target:
 * ≥ 10 M allocate+release pairs/s): a host of 1024 harts × 63 guest files,
 * most of them taken, one alloc + free per operation on a rotating hart.
 */
import { bench, describe } from "vitest";
import { HgeiAllocator } from "../src/vsfile/hgei-allocator.js";

const BATCH = 10_000;

describe("@irqlab/kvm VS-files", () => {
  const alloc = new HgeiAllocator(1024, 63);
  for (let cpu = 0; cpu < 1024; cpu++) for (let i = 0; i < 60; i++) alloc.alloc(cpu, cpu * 64 + i);
  let cpu = 0;
  bench(`HGEI allocate + release (entry/exit), 1024 harts x 63 files [x${BATCH}]`, () => {
    for (let i = 0; i < BATCH; i++) {
      const line = alloc.alloc(cpu, 1);
      alloc.free(cpu, line);
      cpu = (cpu + 1) & 1023;
    }
  });
});
