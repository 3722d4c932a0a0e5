import { describe, expect, test } from "vitest";
import { armVirtTree, riscvAiaTree } from "../test/virt-trees.js";
import { FdtError } from "./fdt-error.js";
import { parseFdt } from "./fdt-reader.js";
import { FdtWriter } from "./fdt-writer.js";

function hexOf(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString("hex");
}

function words(...ws: (number | string)[]): string {
  return ws.map((w) => (typeof w === "string" ? Buffer.from(w, "latin1").toString("hex") : w.toString(16).padStart(8, "0"))).join("");
}

describe("FdtWriter layout", () => {
  test("the smallest tree, byte for byte", () => {
    const w = new FdtWriter();
    w.beginNode("");
    w.endNode();
    expect(hexOf(w.finish())).toBe(
      words(0xd00dfeed, 0x48, 0x38, 0x48, 0x28, 17, 16, 0, 0, 0x10) + // header
        words(0, 0, 0, 0) + // terminating reservation entry
        words(1, 0, 2, 9), // FDT_BEGIN_NODE "" FDT_END_NODE FDT_END
    );
  });

  test("a small tree, byte for byte: padding, name offsets, a reused string tail", () => {
    const w = new FdtWriter({ bootCpuidPhys: 3 });
    w.addMemReserve(0x1000, 0x2000n);
    w.beginNode("");
    w.propertyU32("#address-cells", 1);
    w.beginNode("a@1");
    // "cells\0" is the tail of "#address-cells\0" at offset 9: no new string.
    w.propertyString("cells", "x");
    w.endNode();
    w.endNode();
    expect(hexOf(w.finish())).toBe(
      words(0xd00dfeed, 0x93, 0x48, 0x84, 0x28, 17, 16, 3, 15, 0x3c) +
        words(0, 0x1000, 0, 0x2000, 0, 0, 0, 0) +
        words(1, 0, 3, 4, 0, 1) + // root, #address-cells = <1>
        words(1, "a@1\0", 3, 2, 9, "x\0\0\0", 2) + // a@1, cells = "x"
        words(2, 9) +
        Buffer.from("#address-cells\0", "latin1").toString("hex"),
    );
  });

  test("header fields agree with the layout (virt-like trees)", () => {
    for (const blob of [armVirtTree(), riscvAiaTree()]) {
      const dv = new DataView(blob.buffer);
      const [totalsize, offStruct, offStrings, offMem, , , , sizeStrings, sizeStruct] = [4, 8, 12, 16, 20, 24, 28, 32, 36].map((o) => dv.getUint32(o));
      expect(totalsize).toBe(blob.length);
      expect(offMem).toBe(40);
      expect(offStruct! % 4).toBe(0);
      expect(offStruct! + sizeStruct!).toBe(offStrings);
      expect(offStrings! + sizeStrings!).toBe(totalsize);
      expect(dv.getUint32(offStrings! - 4)).toBe(9); // FDT_END is the last token
    }
  });

  test("u64 values up to 2^64-1 as bigint; numbers up to 2^53-1", () => {
    const w = new FdtWriter();
    w.beginNode("");
    w.propertyU64("max", 0xffff_ffff_ffff_ffffn);
    w.propertyU64("safe", Number.MAX_SAFE_INTEGER);
    w.propertyArrayU64("both", [1, 2n]);
    w.propertyArrayU32("none", []);
    w.propertyStringList("nolist", []);
    w.endNode();
    const root = parseFdt(w.finish()).root;
    expect(root.u64("max")).toBe(0xffff_ffff_ffff_ffffn);
    expect(root.u64("safe")).toBe(BigInt(Number.MAX_SAFE_INTEGER));
    expect(root.cells("both")).toEqual([0, 1, 0, 2]);
    expect(root.prop("none")).toEqual(new Uint8Array(0));
    expect(root.stringList("nolist")).toEqual([]);
  });

  test("property() copies its value", () => {
    const w = new FdtWriter();
    const v = new Uint8Array([1, 2, 3]);
    w.beginNode("");
    w.property("v", v);
    v[0] = 9;
    w.endNode();
    expect(parseFdt(w.finish()).root.prop("v")).toEqual(new Uint8Array([1, 2, 3]));
  });

  test("strings are UTF-8; the spec's full name alphabets are accepted", () => {
    const w = new FdtWriter();
    w.beginNode("");
    w.propertyString("label", "Grüße ✓");
    w.propertyNull("ibm,ppc-interrupt-server#s");
    w.propertyNull("a.b_c+d?e#f-g,h");
    w.beginNode("Node.name_with+all-chars,0@unit.addr_1+2-3,4");
    w.endNode();
    w.endNode();
    const fdt = parseFdt(w.finish());
    expect(fdt.root.string("label")).toBe("Grüße ✓");
    expect(fdt.root.children[0]!.unitAddress).toBe("unit.addr_1+2-3,4");
  });
});

/** Runs `steps` on a new writer with the root begun, and returns the FdtError message. */
function misuse(steps: (w: FdtWriter) => void, beginRoot = true): string {
  const w = new FdtWriter();
  if (beginRoot) w.beginNode("");
  try {
    steps(w);
  } catch (e) {
    expect(e).toBeInstanceOf(FdtError);
    return (e as FdtError).message;
  }
  throw new Error("no error");
}

describe("FdtWriter misuse, with the error texts", () => {
  const cases: [string, (w: FdtWriter) => void, string, boolean?][] = [
    ["a first node that is not the root", (w) => { w.beginNode("cpus"); }, `fdt: the first node must be the root: call beginNode("") before beginNode('cpus')`, false],
    ["a property before any node", (w) => { w.propertyNull("x"); }, `fdt: property 'x' outside any node: call beginNode("") first`, false],
    ["a typed property before any node, with a bad value too", (w) => { w.propertyU32("x", -1); }, `fdt: property 'x' outside any node: call beginNode("") first`, false],
    ["endNode without a node", (w) => { w.endNode(); }, "fdt: endNode() without an open node", false],
    ["finish before any node", (w) => { w.finish(); }, `fdt: finish() before any node: the tree needs a root, beginNode("")`, false],
    ["a second root", (w) => { w.endNode(); w.beginNode(""); }, "fdt: beginNode('') after the root node ended; a tree has exactly one root"],
    ["a property after the root", (w) => { w.endNode(); w.propertyNull("x"); }, "fdt: property 'x' after the root node ended"],
    ["endNode after the root", (w) => { w.endNode(); w.endNode(); }, "fdt: endNode() after the root node ended"],
    ["finish with nodes open", (w) => { w.beginNode("cpus"); w.beginNode("cpu@0"); w.finish(); }, "fdt: finish() with 3 node(s) still open, the innermost /cpus/cpu@0"],
    ["anything after finish", (w) => { w.endNode(); w.finish(); w.propertyNull("x"); }, "fdt: property() after finish(); start a new FdtWriter"],
    ["a typed property after finish", (w) => { w.endNode(); w.finish(); w.propertyU32("x", 1); }, "fdt: property() after finish(); start a new FdtWriter"],
    ["finish twice", (w) => { w.endNode(); w.finish(); w.finish(); }, "fdt: finish() after finish(); start a new FdtWriter"],
    ["a bad value in a bad place: the place is reported", (w) => { w.beginNode("a"); w.endNode(); w.propertyU32("x", -1); }, "fdt: property 'x' of / after its child nodes; write a node's properties before its children (Devicetree Specification v0.4 §5.4.2)"],
    ["an empty child name", (w) => { w.beginNode(""); }, "fdt: empty node name in /: only the root is unnamed, and it is begun first"],
    ["a bad character", (w) => { w.beginNode("uart 0"); }, "fdt: bad node name 'uart 0' in /: character U+0020 is not allowed (node names use 0-9 a-z A-Z , . _ + -)"],
    ["a '/' in a node name", (w) => { w.beginNode("a/b"); }, "fdt: bad node name 'a/b' in /: character '/' is not allowed (node names use 0-9 a-z A-Z , . _ + -)"],
    ["a digit first", (w) => { w.beginNode("0cpu"); }, "fdt: bad node name '0cpu' in /: a node-name must start with a letter"],
    ["a node-name of 32 characters", (w) => { w.beginNode(`${"n".repeat(32)}@1`); }, `fdt: bad node name '${"n".repeat(32)}@1' in /: the node-name before '@' is 32 characters; at most 31 are allowed`],
    ["an empty unit address", (w) => { w.beginNode("cpu@"); }, "fdt: bad node name 'cpu@' in /: the unit address after '@' is empty"],
    ["an empty node-name before '@'", (w) => { w.beginNode("@1"); }, "fdt: bad node name '@1' in /: the node-name before '@' is empty"],
    ["two '@'", (w) => { w.beginNode("a@1@2"); }, "fdt: bad node name 'a@1@2' in /: a node name has at most one '@'"],
    ["a bad unit address character", (w) => { w.beginNode("a@1:2"); }, "fdt: bad node name 'a@1:2' in /: character ':' is not allowed in the unit address (0-9 a-z A-Z , . _ + -)"],
    ["a duplicate child", (w) => { w.beginNode("cpus"); w.beginNode("cpu@0"); w.endNode(); w.beginNode("cpu@0"); }, "fdt: duplicate node name 'cpu@0' in /cpus"],
    ["a child named like a property", (w) => { w.propertyNull("chosen"); w.beginNode("chosen"); }, "fdt: node 'chosen' in / has the name of a property of /; a node-name without unit address must differ from its siblings' property names (Devicetree Specification v0.4 §2.2.1)"],
    ["nesting deeper than 64", (w) => { for (let i = 0; i < 64; i++) w.beginNode("n"); }, `fdt: node 'n' in /${Array(63).fill("n").join("/")} would nest deeper than 64 levels`],
    ["an empty property name", (w) => { w.propertyNull(""); }, "fdt: empty property name in /"],
    ["a bad property character", (w) => { w.propertyNull("reg*"); }, "fdt: bad property name 'reg*' in /: character '*' is not allowed (property names use 0-9 a-z A-Z , . _ + ? # -)"],
    ["a property name of 32 characters", (w) => { w.propertyNull("p".repeat(32)); }, `fdt: bad property name '${"p".repeat(32)}' in /: it is 32 characters; at most 31 are allowed`],
    ["a duplicate property", (w) => { w.beginNode("memory@0"); w.propertyNull("reg"); w.propertyU32("reg", 1); }, "fdt: duplicate property 'reg' in /memory@0"],
    ["a property after a child", (w) => { w.beginNode("cpus"); w.endNode(); w.propertyU32("x", 1); }, "fdt: property 'x' of / after its child nodes; write a node's properties before its children (Devicetree Specification v0.4 §5.4.2)"],
    ["a negative u32", (w) => { w.propertyU32("x", -1); }, "fdt: property 'x' of / is -1, not a u32 (an integer from 0 to 0xffffffff)"],
    ["a u32 above 0xffffffff", (w) => { w.propertyU32("x", 2 ** 32); }, "fdt: property 'x' of / is 4294967296, not a u32 (an integer from 0 to 0xffffffff)"],
    ["a fractional u32", (w) => { w.propertyU32("x", 1.5); }, "fdt: property 'x' of / is 1.5, not a u32 (an integer from 0 to 0xffffffff)"],
    ["NaN in a cell array", (w) => { w.propertyArrayU32("reg", [1, NaN]); }, "fdt: element 1 of property 'reg' of / is NaN, not a u32 (an integer from 0 to 0xffffffff)"],
    ["a u64 number above 2^53-1", (w) => { w.propertyU64("x", 2 ** 60); }, "fdt: property 'x' of / is 1152921504606847000, above 2^53-1 where a number loses bits; pass a bigint for a u64 this large"],
    ["a u64 bigint of 2^64", (w) => { w.propertyArrayU64("x", [0n, 1n << 64n]); }, "fdt: element 1 of property 'x' of / is 18446744073709551616n, not a u64 (an integer from 0 to 2^64-1)"],
    ["a negative u64", (w) => { w.propertyU64("x", -1n); }, "fdt: property 'x' of / is -1n, not a u64 (an integer from 0 to 2^64-1)"],
    ["a NUL inside a string", (w) => { w.propertyString("model", "a\0b"); }, "fdt: property 'model' of / contains a NUL character at index 1; a string ends at its NUL"],
    ["a NUL inside a list item", (w) => { w.propertyStringList("compatible", ["a", "b\0"]); }, "fdt: string 1 of property 'compatible' of / contains a NUL character at index 1; a string ends at its NUL"],
    ["a lone surrogate", (w) => { w.propertyString("model", "\ud800"); }, "fdt: property 'model' of / is not well-formed Unicode (it has a lone surrogate)"],
    ["a value that is not bytes", (w) => { w.property("x", [1, 2] as unknown as Uint8Array); }, "fdt: value of property 'x' is not a Uint8Array"],
    ["a phandle of 8 bytes", (w) => { w.propertyU64("phandle", 1); }, "fdt: property 'phandle' of / is 8 bytes; a phandle is one u32 cell"],
    ["phandle 0", (w) => { w.propertyU32("phandle", 0); }, "fdt: phandle 0x0 of / is reserved (0 and 0xffffffff are not phandles)"],
    ["phandle 0xffffffff", (w) => { w.propertyU32("linux,phandle", 0xffffffff); }, "fdt: phandle 0xffffffff of / is reserved (0 and 0xffffffff are not phandles)"],
    ["a phandle used twice", (w) => { w.beginNode("a"); w.propertyU32("phandle", 5); w.endNode(); w.beginNode("b"); w.propertyU32("phandle", 5); }, "fdt: phandle 0x5 of /b is already used by /a"],
    ["phandle and linux,phandle differing", (w) => { w.propertyU32("phandle", 5); w.propertyU32("linux,phandle", 6); }, "fdt: 'linux,phandle' 0x6 of / differs from its other phandle 0x5"],
    ["a wrong name property", (w) => { w.beginNode("uart@1"); w.propertyString("name", "serial"); }, `fdt: property 'name' of /uart@1 must be the node-name "uart" as a string (dtc rejects any other value)`],
    ["a bad boot CPU id", () => { new FdtWriter({ bootCpuidPhys: -2 }); }, "fdt: bootCpuidPhys is -2, not a u32 (an integer from 0 to 0xffffffff)"],
    ["a reservation of size 0", (w) => { w.addMemReserve(0x1000, 0); }, "fdt: memory reservation at 0x1000 has size 0 (an entry of size 0 ends the list)"],
    ["a reservation past 2^64", (w) => { w.addMemReserve(0xffff_ffff_ffff_f000n, 0x2000); }, "fdt: memory reservation 0xfffffffffffff000 + 0x2000 runs past 2^64"],
    ["overlapping reservations", (w) => { w.addMemReserve(0x1000, 0x1000); w.addMemReserve(0x1800, 0x1000); }, "fdt: memory reservation [0x1800, 0x2800) overlaps [0x1000, 0x2000)"],
    ["a negative reservation address", (w) => { w.addMemReserve(-1, 1); }, "fdt: memory reservation address is -1, not a u64 (an integer from 0 to 2^64-1)"],
  ];

  test.each(cases)("%s", (_what, steps, message, beginRoot) => {
    expect(misuse(steps, beginRoot ?? true)).toBe(message);
  });

  test("what the rules allow: phandle with an equal linux,phandle, a correct name property, props named like unit-address children", () => {
    const w = new FdtWriter();
    w.beginNode("");
    w.propertyU32("phandle", 1);
    w.propertyU32("linux,phandle", 1);
    w.propertyString("name", "");
    w.beginNode("uart@1");
    w.propertyString("name", "uart");
    w.endNode();
    w.endNode();
    const fdt = parseFdt(w.finish());
    expect(fdt.nodeByPhandle(1)).toBe(fdt.root);
  });

  test("a failed call leaves the writer usable", () => {
    const w = new FdtWriter();
    w.beginNode("");
    expect(() => { w.propertyU32("x", -1); }).toThrow(FdtError);
    expect(() => { w.beginNode("bad name"); }).toThrow(FdtError);
    w.propertyU32("x", 1);
    w.endNode();
    expect(parseFdt(w.finish()).root.u32("x")).toBe(1);
  });
});
