import { Bitmap } from "@irqlab/sim";
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { HGEI_NONE_FREE, HgeiAllocator } from "./hgei-allocator.js";

describe("HgeiAllocator (Linux arch/riscv/kvm/aia.c aia_hgei_control)", () => {
  test("allocates the lowest free line from 1 up, then fails with -ENOENT", () => {
    const a = new HgeiAllocator(2, 5);
    expect([1, 2, 3, 4, 5].map((o) => a.alloc(0, o))).toEqual([1, 2, 3, 4, 5]);
    expect(a.alloc(0, 6)).toBe(HGEI_NONE_FREE);
    expect(HGEI_NONE_FREE).toBe(-2); // -ENOENT, include/uapi/asm-generic/errno-base.h
    a.free(0, 3);
    expect(a.alloc(0, 7)).toBe(3);
    expect(a.ownerOf(0, 3)).toBe(7);
    expect(a.freeOn(0)).toBe(0);
    expect(a.freeOn(1)).toBe(5);
    expect(a.totalFree).toBe(5);
  });

  test("line numbers above 31 use the high word (GEILEN up to 63)", () => {
    const a = new HgeiAllocator(1, 63);
    const lines = Array.from({ length: 63 }, (_, i) => a.alloc(0, i));
    expect(lines).toEqual(Array.from({ length: 63 }, (_, i) => i + 1));
    expect(a.alloc(0, 99)).toBe(HGEI_NONE_FREE);
    a.free(0, 40);
    expect(a.alloc(0, 99)).toBe(40);
    const b = new HgeiAllocator(1, 31);
    expect(Array.from({ length: 32 }, (_, i) => b.alloc(0, i)).at(-1)).toBe(HGEI_NONE_FREE);
  });

  test("freeing a free or out-of-range line is ignored, as in Linux", () => {
    const a = new HgeiAllocator(1, 3);
    a.free(0, 2);
    a.free(0, 0);
    a.free(0, 9);
    expect(a.totalFree).toBe(3);
    expect(() => a.alloc(1, 0)).toThrow(/host CPU 1/);
    expect(() => new HgeiAllocator(1, 64)).toThrow(/0..63/);
  });

  test("finds a CPU with a free line, wrapping, within an affinity mask", () => {
    const a = new HgeiAllocator(4, 1);
    a.alloc(1, 0);
    a.alloc(2, 1);
    expect(a.findCpuWithFree(1)).toBe(3);
    a.alloc(3, 2);
    expect(a.findCpuWithFree(1)).toBe(0);
    const only2 = new Bitmap(4);
    only2.set(2);
    expect(a.findCpuWithFree(0, only2)).toBe(-1);
    a.alloc(0, 3);
    expect(a.findCpuWithFree(0)).toBe(-1);
  });

  test("matches a set model under random alloc/free (property)", () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 0, max: 3 }), fc.integer({ min: 1, max: 40 })), { maxLength: 300 }),
        (ops) => {
          const a = new HgeiAllocator(4, 37);
          const used = Array.from({ length: 4 }, () => new Map<number, number>());
          let owner = 0;
          for (const [isAlloc, cpu, line] of ops) {
            if (isAlloc) {
              const got = a.alloc(cpu, owner);
              const free = Array.from({ length: 37 }, (_, i) => i + 1).filter((l) => !used[cpu]!.has(l));
              expect(got).toBe(free[0] ?? HGEI_NONE_FREE);
              if (got > 0) used[cpu]!.set(got, owner);
              owner++;
            } else {
              a.free(cpu, line);
              used[cpu]!.delete(line);
            }
            expect(a.freeOn(cpu)).toBe(37 - used[cpu]!.size);
          }
          for (let c = 0; c < 4; c++) for (const [l, o] of used[c]!) expect(a.ownerOf(c, l)).toBe(o);
          expect(a.totalFree).toBe(4 * 37 - used.reduce((n, m) => n + m.size, 0));
        },
      ),
    );
  });
});
