// Property tests: random valid trees survive writing and reading unchanged,
// and the writer's output is a fixed point of parse-then-write.
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { modelOf, treeArb, writeModel, type NodeModel } from "../test/tree-model.js";
import { FdtHeaderOffset as H } from "./fdt-constants.js";
import { toDts } from "./fdt-dts.js";
import { parseFdt } from "./fdt-reader.js";
import { writeFdt } from "./fdt-writer.js";

describe("write, then read (property)", () => {
  test("gives back the names, property bytes and order, reservations and boot CPU", () => {
    fc.assert(
      fc.property(treeArb, (model) => {
        const fdt = parseFdt(writeModel(model));
        expect(modelOf(fdt)).toEqual(model);
        expect(fdt.version).toBe(17);
        expect(fdt.lastCompVersion).toBe(16);
      }),
      { numRuns: 300 },
    );
  });

  test("writing the parsed tree again gives identical bytes", () => {
    fc.assert(
      fc.property(treeArb, (model) => {
        const blob = writeModel(model);
        expect(writeFdt(parseFdt(blob))).toEqual(blob);
      }),
      { numRuns: 300 },
    );
  });

  test("every node is found by its path and by its phandle", () => {
    fc.assert(
      fc.property(treeArb, (model) => {
        const fdt = parseFdt(writeModel(model));
        for (const node of fdt.nodes()) {
          expect(fdt.findNode(node.path)).toBe(node);
          const ph = node.phandle;
          if (ph !== undefined) expect(fdt.nodeByPhandle(ph)).toBe(node);
        }
      }),
      { numRuns: 200 },
    );
  });

  test("the layout is packed and consistent; each property name is stored where its offset says", () => {
    fc.assert(
      fc.property(treeArb, (model) => {
        const blob = writeModel(model);
        const dv = new DataView(blob.buffer);
        const word = (o: number): number => dv.getUint32(o);
        expect(word(H.totalsize)).toBe(blob.length);
        expect(word(H.offMemRsvmap)).toBe(40);
        expect(word(H.offDtStruct)).toBe(40 + 16 * (model.memReserve.length + 1));
        expect(word(H.offDtStruct) + word(H.sizeDtStruct)).toBe(word(H.offDtStrings));
        expect(word(H.offDtStrings) + word(H.sizeDtStrings)).toBe(blob.length);
        const names = new Set<string>();
        const collect = (n: NodeModel): void => {
          for (const [k] of n.props) names.add(k);
          n.children.forEach(collect);
        };
        collect(model.root);
        // De-duplication never stores more than each distinct name once.
        expect(word(H.sizeDtStrings)).toBeLessThanOrEqual([...names].reduce((s, n) => s + n.length + 1, 0));
      }),
      { numRuns: 200 },
    );
  });

  test("toDts is the same for a tree and for the tree written again", () => {
    fc.assert(
      fc.property(treeArb, (model) => {
        const fdt = parseFdt(writeModel(model));
        expect(toDts(parseFdt(writeFdt(fdt)))).toBe(toDts(fdt));
      }),
      { numRuns: 100 },
    );
  });
});
