// Malformed blobs: whatever is done to a valid blob, parseFdt returns a tree or
// throws FdtError — never another exception, never a hang — and what it
// returns can be used without surprises.
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { treeArb, writeModel } from "../test/tree-model.js";
import { wordAt, withWord } from "../test/raw-blob.js";
import { armVirtTree, riscvAiaTree } from "../test/virt-trees.js";
import { FDT_BEGIN_NODE, FDT_END, FDT_NOP, FDT_PROP, FdtHeaderOffset as H, align4 } from "./fdt-constants.js";
import { toDts } from "./fdt-dts.js";
import { FdtError } from "./fdt-error.js";
import { parseFdt } from "./fdt-reader.js";
import type { Fdt } from "./fdt-tree.js";
import { writeFdt } from "./fdt-writer.js";

const SAMPLES: readonly [string, Uint8Array][] = [
  ["arm64 virt-like", armVirtTree()],
  ["riscv64 AIA virt-like", riscvAiaTree()],
];

/** The tree, or undefined after an FdtError; any other exception fails the test. */
function parseOrFdtError(blob: Uint8Array): Fdt | undefined {
  try {
    return parseFdt(blob);
  } catch (e) {
    if (!(e instanceof FdtError)) throw e;
    return undefined;
  }
}

function expectFdtError(blob: Uint8Array): FdtError {
  try {
    parseFdt(blob);
  } catch (e) {
    expect(e).toBeInstanceOf(FdtError);
    return e as FdtError;
  }
  throw new Error("parseFdt accepted a malformed blob");
}

/** Uses everything a parsed tree offers; only FdtError may come out. */
function exercise(fdt: Fdt): void {
  const onlyFdtError = (f: () => unknown): void => {
    try {
      f();
    } catch (e) {
      if (!(e instanceof FdtError)) throw e;
    }
  };
  toDts(fdt);
  onlyFdtError(() => writeFdt(fdt));
  for (const node of fdt.nodes()) {
    expect(fdt.findNode(node.path)).toBeDefined();
    expect(node.phandle === undefined || fdt.nodeByPhandle(node.phandle) === node).toBe(true);
    for (const name of node.properties.keys()) {
      onlyFdtError(() => node.u32(name));
      onlyFdtError(() => node.u64(name));
      onlyFdtError(() => node.string(name));
      onlyFdtError(() => node.stringList(name));
      onlyFdtError(() => node.cells(name));
    }
  }
}

/** Offsets of the tokens of a valid blob's structure block, with each token. */
function tokens(blob: Uint8Array): [number, number][] {
  const out: [number, number][] = [];
  let p = wordAt(blob, H.offDtStruct);
  for (;;) {
    const t = wordAt(blob, p);
    out.push([p, t]);
    if (t === FDT_END) return out;
    if (t === FDT_BEGIN_NODE) p = align4(blob.indexOf(0, p + 4) + 1);
    else if (t === FDT_PROP) p = align4(p + 12 + wordAt(blob, p + 4));
    else p += 4;
  }
}

describe.each(SAMPLES)("a damaged %s blob", (_name, blob) => {
  test("truncated at every length: FdtError", () => {
    for (let len = 0; len < blob.length; len++) expectFdtError(blob.subarray(0, len));
  });

  test("totalsize lowered to every smaller value: FdtError", () => {
    for (let size = 0; size < blob.length; size++) expectFdtError(withWord(blob, H.totalsize, size));
  });

  test("size_dt_struct cut to every shorter multiple of 4: FdtError", () => {
    const size = wordAt(blob, H.sizeDtStruct);
    for (let cut = 0; cut < size; cut += 4) {
      expect(expectFdtError(withWord(blob, H.sizeDtStruct, cut)).message).toMatch(/missing FDT_END|runs past|cut off|not NUL-terminated/);
    }
  });

  test("every header field set to hostile values: a tree or FdtError", () => {
    const total = blob.length;
    const values = [0, 1, 3, 4, 7, 8, 15, 16, 17, 0x28, 0x38, total - 1, total, total + 1, 0x7fff_ffff, 0x8000_0000, 0xffff_fffc, 0xffff_ffff];
    for (const field of Object.values(H)) {
      for (const v of values) {
        const fdt = parseOrFdtError(withWord(blob, field, v));
        if (fdt !== undefined) exercise(fdt);
      }
    }
  });

  test("every token replaced by every other token and by junk: a tree or FdtError", () => {
    for (const [at] of tokens(blob)) {
      for (const t of [0, 1, 2, 3, 4, 5, 8, 9, 0x10, 0xffff_ffff]) {
        const fdt = parseOrFdtError(withWord(blob, at, t));
        if (fdt !== undefined) exercise(fdt);
      }
    }
  });

  test("every FDT_PROP's name offset pushed out of the strings block: FdtError naming it", () => {
    const size = wordAt(blob, H.sizeDtStrings);
    for (const [at, t] of tokens(blob)) {
      if (t !== FDT_PROP) continue;
      for (const off of [size, size + 1, 0x7fff_ffff, 0xffff_ffff]) {
        expect(expectFdtError(withWord(blob, at + 8, off)).message).toMatch(/^fdt: name offset 0x[0-9a-f]+ of the property at offset 0x[0-9a-f]+ in \/.* is outside the strings block/);
      }
    }
  });

  test("a property length grown past the block: FdtError naming the property", () => {
    const [at] = tokens(blob).find(([, t]) => t === FDT_PROP)!;
    expect(expectFdtError(withWord(blob, at + 4, 0xffff_fff0)).message).toMatch(/^fdt: property '[^']+' of \/ runs past the structure block/);
  });

  test("every token blanked to FDT_NOP: a tree or FdtError (NOP may stand for any token)", () => {
    for (const [at] of tokens(blob)) {
      const fdt = parseOrFdtError(withWord(blob, at, FDT_NOP));
      if (fdt !== undefined) exercise(fdt);
    }
  });
});

describe("random damage (property)", () => {
  const damageArb = fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 });

  test("bytes of random valid blobs changed at random: a tree or FdtError", () => {
    fc.assert(
      fc.property(treeArb, damageArb, (model, damage) => {
        const blob = writeModel(model);
        for (const [i, b] of damage) blob[i % blob.length] = b;
        const fdt = parseOrFdtError(blob);
        if (fdt !== undefined) exercise(fdt);
      }),
      { numRuns: 500 },
    );
  });

  test("aligned words set to small numbers (token-like, offset-like): a tree or FdtError", () => {
    const wordsArb = fc.array(fc.tuple(fc.nat(), fc.oneof(fc.integer({ min: 0, max: 16 }), fc.nat({ max: 0x400 }), fc.constant(0xffff_ffff))), { minLength: 1, maxLength: 4 });
    fc.assert(
      fc.property(treeArb, wordsArb, (model, damage) => {
        let blob = writeModel(model);
        for (const [i, w] of damage) blob = withWord(blob, ((i % (blob.length >> 2)) << 2) >>> 0, w);
        const fdt = parseOrFdtError(blob);
        if (fdt !== undefined) exercise(fdt);
      }),
      { numRuns: 500 },
    );
  });

  test("random bytes behind a valid magic: a tree or FdtError", () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 200 }), (tail) => {
        const blob = new Uint8Array(4 + tail.length);
        blob.set([0xd0, 0x0d, 0xfe, 0xed]);
        blob.set(tail, 4);
        const fdt = parseOrFdtError(blob);
        if (fdt !== undefined) exercise(fdt);
      }),
      { numRuns: 500 },
    );
  });
});
