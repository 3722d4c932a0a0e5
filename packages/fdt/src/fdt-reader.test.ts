import { describe, expect, test } from "vitest";
import { Tokens, rawBlob, withWord } from "../test/raw-blob.js";
import { armVirtTree } from "../test/virt-trees.js";
import { FdtHeaderOffset as H } from "./fdt-constants.js";
import { FdtError } from "./fdt-error.js";
import { parseFdt } from "./fdt-reader.js";

// With no reservations, rawBlob puts the structure block at 40 + 16.
const STRUCT = 0x38;

/** The FdtError parseFdt throws for `blob`; fails if it throws something else or nothing. */
function parseError(blob: Uint8Array): FdtError {
  try {
    parseFdt(blob);
  } catch (e) {
    expect(e).toBeInstanceOf(FdtError);
    return e as FdtError;
  }
  throw new Error("parseFdt accepted the blob");
}

/** A root with one property named by `strings` offset 0, then one child "c" with nothing. */
const simple = (): Tokens => new Tokens().begin("").prop(0, [0, 0, 0, 1]).begin("c").end().end().finish();

describe("parseFdt accepts", () => {
  test("a minimal hand-made blob", () => {
    const fdt = parseFdt(rawBlob({ struct: simple(), strings: "a\0" }));
    expect(fdt.root.name).toBe("");
    expect(fdt.root.u32("a")).toBe(1);
    expect(fdt.root.children.map((c) => c.path)).toEqual(["/c"]);
    expect(fdt.memReserve).toEqual([]);
  });

  test("FDT_NOP before the root, between properties, before FDT_END_NODE and before FDT_END", () => {
    const t = new Tokens().nop().begin("").nop().prop(0, [1]).nop().nop().prop(2, []).begin("c").nop().end().nop().end().nop().finish();
    const fdt = parseFdt(rawBlob({ struct: t, strings: "a\0b\0" }));
    expect([...fdt.root.properties.keys()]).toEqual(["a", "b"]);
    expect(fdt.root.children).toHaveLength(1);
  });

  test("version 16: a 36-byte header and no size_dt_struct (the field is not read)", () => {
    const fdt = parseFdt(rawBlob({ struct: simple(), strings: "a\0", header: { version: 16, sizeDtStruct: 0xdead } }));
    expect(fdt.version).toBe(16);
    expect(fdt.root.u32("a")).toBe(1);
  });

  test("a later version that is backwards compatible with 16 or 17", () => {
    expect(parseFdt(rawBlob({ struct: simple(), strings: "a\0", header: { version: 18 } })).version).toBe(18);
    expect(parseFdt(rawBlob({ struct: simple(), strings: "a\0", header: { version: 20, lastCompVersion: 17 } })).lastCompVersion).toBe(17);
  });

  test("bytes after totalsize, a view into a larger buffer, and free space between blocks", () => {
    const blob = rawBlob({ struct: simple(), strings: "a\0", trailing: 100 });
    expect(parseFdt(blob).root.u32("a")).toBe(1);
    const big = new Uint8Array(blob.length + 13);
    big.set(blob, 13);
    expect(parseFdt(big.subarray(13)).root.u32("a")).toBe(1);
    // Move the strings block 16 bytes further, leaving a gap.
    const gap = rawBlob({ struct: simple(), strings: "\0".repeat(16) + "a\0" });
    const moved = withWord(withWord(gap, H.offDtStrings, new DataView(gap.buffer).getUint32(H.offDtStrings) + 16), H.sizeDtStrings, 2);
    expect(parseFdt(moved).root.u32("a")).toBe(1);
  });

  test("values are copies: changing the blob later changes nothing", () => {
    const blob = armVirtTree();
    const fdt = parseFdt(blob);
    const before = fdt.root.string("model");
    blob.fill(0);
    expect(fdt.root.string("model")).toBe(before);
  });

  test("non-zero padding, which changes no value (libfdt and dtc ignore it too)", () => {
    const t = new Tokens().begin("").word(3).word(1).word(0).word(0x7f000000).begin("c").end().end().finish();
    expect(parseFdt(rawBlob({ struct: t, strings: "a\0" })).root.prop("a")).toEqual(new Uint8Array([0x7f]));
  });
});

describe("parseFdt rejects, naming what and where", () => {
  const cases: [string, () => Uint8Array, string][] = [
    ["bad magic", () => withWord(rawBlob({ struct: simple(), strings: "a\0" }), 0, 0x12345678), "fdt: bad magic 0x12345678 (expected 0xd00dfeed)"],
    ["fewer than 4 bytes", () => new Uint8Array(3), "fdt: blob is 3 bytes, too short for the magic number"],
    ["a short header", () => rawBlob({ struct: simple(), strings: "a\0" }).slice(0, 39), "fdt: blob is 39 bytes, shorter than the 40-byte header"],
    ["version 15", () => rawBlob({ struct: simple(), header: { version: 15, lastCompVersion: 15 } }), "fdt: unsupported version 15 (this reader handles versions 16 and 17)"],
    ["last_comp_version 18", () => rawBlob({ struct: simple(), header: { version: 18, lastCompVersion: 18 } }), "fdt: version 18 is compatible only back to version 18; this reader handles 16 and 17"],
    ["last_comp_version above version", () => rawBlob({ struct: simple(), header: { version: 16, lastCompVersion: 17 } }), "fdt: last compatible version 17 is later than version 16"],
    ["totalsize beyond the buffer", () => rawBlob({ struct: simple(), strings: "a\0" }).slice(0, 80), "fdt: totalsize 0x66 is larger than the 0x50 bytes given: the blob is truncated"],
    ["totalsize below the header", () => rawBlob({ struct: simple(), header: { totalsize: 8 } }), "fdt: totalsize 0x8 is smaller than the 40-byte header"],
    ["a misaligned reservation block", () => rawBlob({ struct: simple(), header: { offMemRsvmap: 44 } }), "fdt: memory reservation block offset 0x2c is not 8-byte aligned"],
    ["a misaligned structure block", () => rawBlob({ struct: simple(), header: { offDtStruct: 0x39 } }), "fdt: structure block offset 0x39 is not 4-byte aligned"],
    ["a reservation block inside the header", () => rawBlob({ struct: simple(), header: { offMemRsvmap: 32 } }), "fdt: memory reservation block offset 0x20 is outside the blob (after the 40-byte header, up to totalsize 0x64)"],
    ["a structure block past totalsize", () => rawBlob({ struct: simple(), strings: "a\0", header: { sizeDtStruct: 0x40 } }), "fdt: structure block [0x38, 0x78) runs past totalsize 0x66"],
    ["a strings block past totalsize", () => rawBlob({ struct: simple(), strings: "a\0", header: { sizeDtStrings: 3 } }), "fdt: strings block [0x64, 0x67) runs past totalsize 0x66"],
    ["a strings offset past totalsize", () => rawBlob({ struct: simple(), strings: "a\0", header: { offDtStrings: 0xffffffff } }), "fdt: strings block offset 0xffffffff is outside the blob (after the 40-byte header, up to totalsize 0x66)"],
    ["reservations without terminator", () => rawBlob({ struct: new Uint8Array(0), memReserve: [[0x1000n, 0x10n]], header: { offMemRsvmap: 40, totalsize: 56, offDtStruct: 56, offDtStrings: 56 } }), "fdt: memory reservation block runs past totalsize 0x38 without its terminating entry (entry 1 at offset 0x38)"],
    ["a reservation of size 0 with an address", () => rawBlob({ struct: simple(), memReserve: [[0x1000n, 0x10n], [0x2000n, 0n]] }), "fdt: memory reservation entry 1 at offset 0x38 has size 0 but address 0x2000 (the terminating entry is all zero)"],
    ["FDT_END_NODE first", () => rawBlob({ struct: new Tokens().end().finish() }), "fdt: FDT_END_NODE without FDT_BEGIN_NODE at offset 0x38"],
    ["FDT_END_NODE after the root ended", () => rawBlob({ struct: new Tokens().begin("").end().end().finish() }), "fdt: FDT_END_NODE without FDT_BEGIN_NODE at offset 0x44"],
    ["a second root", () => rawBlob({ struct: new Tokens().begin("").end().begin("").end().finish() }), "fdt: FDT_BEGIN_NODE at offset 0x44 after the root node ended (expected FDT_END)"],
    ["a property before the root", () => rawBlob({ struct: new Tokens().prop(0, []).finish(), strings: "a\0" }), "fdt: FDT_PROP at offset 0x38 before the root node"],
    ["a property after the root", () => rawBlob({ struct: new Tokens().begin("").end().prop(0, []).finish(), strings: "a\0" }), "fdt: FDT_PROP at offset 0x44 after the root node ended"],
    ["FDT_END before the root", () => rawBlob({ struct: new Tokens().finish() }), "fdt: FDT_END at offset 0x38 before the root node"],
    ["FDT_END inside a node", () => rawBlob({ struct: new Tokens().begin("").begin("cpus").finish() }), "fdt: FDT_END at offset 0x4c inside /cpus, with 2 node(s) still open"],
    ["no FDT_END", () => rawBlob({ struct: new Tokens().begin("").end() }), "fdt: missing FDT_END: the structure reaches the end of the structure block at offset 0x44"],
    ["no FDT_END in version 16", () => rawBlob({ struct: new Tokens().begin("").begin("a"), header: { version: 16 } }), "fdt: missing FDT_END: the structure reaches totalsize at offset 0x48 with /a still open"],
    ["words after FDT_END", () => rawBlob({ struct: new Tokens().begin("").end().finish().nop() }), "fdt: 4 byte(s) after FDT_END at offset 0x44 inside the structure block (FDT_END must be its last token)"],
    ["a bad token", () => rawBlob({ struct: new Tokens().begin("").word(5).end().finish() }), "fdt: bad token 0x00000005 at offset 0x40 in /"],
    ["a root with a name", () => rawBlob({ struct: new Tokens().begin("x").end().finish() }), "fdt: the root node at offset 0x38 is named 'x'; the root's name is empty"],
    ["a child without a name", () => rawBlob({ struct: new Tokens().begin("").begin("").end().end().finish() }), "fdt: node with an empty name in / at offset 0x40"],
    ["a '/' in a node name", () => rawBlob({ struct: new Tokens().begin("").begin("a/b").end().end().finish() }), "fdt: node name 'a/b' in / at offset 0x40 contains '/'"],
    ["a duplicate child", () => rawBlob({ struct: new Tokens().begin("").begin("a").end().begin("a").end().end().finish() }), "fdt: duplicate node 'a' in / at offset 0x4c"],
    ["a node name without NUL", () => rawBlob({ struct: new Uint8Array([0, 0, 0, 1, 0x61, 0x62, 0x63, 0x64]) }), "fdt: the name of the node at offset 0x38 is not NUL-terminated inside the structure block"],
    ["a control byte in a node name", () => rawBlob({ struct: new Tokens().begin("").begin("a\u0001").end().end().finish() }), "fdt: node name at offset 0x44 has byte 0x01 at offset 0x45, not a printable ASCII character"],
    ["a cut-off FDT_PROP", () => rawBlob({ struct: new Tokens().begin("").word(3).word(0) }), "fdt: FDT_PROP at offset 0x40 in / is cut off by the end of the structure block"],
    ["a property past the structure block", () => rawBlob({ struct: new Tokens().begin("").begin("memory@40000000").word(3).word(20).word(0).word(0).end().end().finish(), strings: "reg\0" }), "fdt: property 'reg' of /memory@40000000 runs past the structure block (20 bytes from offset 0x60; the end of the structure block is 0x70)"],
    ["a name offset past the strings block", () => rawBlob({ struct: new Tokens().begin("").prop(2).end().finish(), strings: "a\0" }), "fdt: name offset 0x2 of the property at offset 0x40 in / is outside the strings block (size 0x2)"],
    ["a name offset of 0xffffffff", () => rawBlob({ struct: new Tokens().begin("").prop(0xffffffff).end().finish(), strings: "a\0" }), "fdt: name offset 0xffffffff of the property at offset 0x40 in / is outside the strings block (size 0x2)"],
    ["a property name without NUL", () => rawBlob({ struct: new Tokens().begin("").prop(0).end().finish(), strings: "ab\0", header: { sizeDtStrings: 2 } }), "fdt: the name of the property at offset 0x40 in / (strings offset 0x0) is not NUL-terminated inside the strings block"],
    ["an empty property name", () => rawBlob({ struct: new Tokens().begin("").prop(0).end().finish(), strings: "\0" }), "fdt: the property at offset 0x40 in / has an empty name"],
    ["a property after a child", () => rawBlob({ struct: new Tokens().begin("").begin("c").end().prop(0).end().finish(), strings: "a\0" }), "fdt: property 'a' of / at offset 0x4c follows a child node; properties come first (Devicetree Specification v0.4 §5.4.2)"],
    ["a duplicate property", () => rawBlob({ struct: new Tokens().begin("").prop(0).prop(0).end().finish(), strings: "a\0" }), "fdt: duplicate property 'a' in / at offset 0x4c"],
    ["a phandle of 8 bytes", () => rawBlob({ struct: new Tokens().begin("").prop(0, [0, 0, 0, 0, 0, 0, 0, 1]).end().finish(), strings: "phandle\0" }), "fdt: property 'phandle' of / at offset 0x40 is 8 bytes; a phandle is one u32"],
    ["phandle 0", () => rawBlob({ struct: new Tokens().begin("").prop(0, [0, 0, 0, 0]).end().finish(), strings: "phandle\0" }), "fdt: phandle 0x0 of / at offset 0x40 is reserved (0 and 0xffffffff are not phandles)"],
    ["a phandle used twice", () => rawBlob({ struct: new Tokens().begin("").begin("a").prop(0, [0, 0, 0, 7]).end().begin("b").prop(0, [0, 0, 0, 7]).end().end().finish(), strings: "phandle\0" }), "fdt: phandle 0x7 of /b at offset 0x64 is also used by /a"],
    ["phandle and linux,phandle differing", () => rawBlob({ struct: new Tokens().begin("").prop(0, [0, 0, 0, 1]).prop(8, [0, 0, 0, 2]).end().finish(), strings: "phandle\0linux,phandle\0" }), "fdt: 'linux,phandle' 0x2 of / at offset 0x50 differs from its other phandle 0x1"],
    // The strings block is the child's name "c" inside the structure block: every name resolves, yet the blocks share bytes.
    ["overlapping blocks", () => rawBlob({ struct: simple(), strings: "a\0", header: { offDtStrings: 0x54, sizeDtStrings: 2 } }), "fdt: the structure block [0x38, 0x64) overlaps the strings block [0x54, 0x56)"],
  ];

  test.each(cases)("%s", (_what, make, message) => {
    expect(parseError(make()).message).toBe(message);
  });

  test("nesting deeper than 64 levels", () => {
    const t = new Tokens().begin("");
    for (let i = 1; i <= 64; i++) t.begin("n");
    const e = parseError(rawBlob({ struct: t }));
    expect(e.message).toMatch(/^fdt: node 'n' in \/n(\/n){62} at offset 0x[0-9a-f]+ nests deeper than 64 levels$/);
    expect(e.offset).toBeGreaterThan(STRUCT);
  });

  test("FdtError: its code, the irqlab error marker, and the offset of the fault", () => {
    const e = parseError(rawBlob({ struct: new Tokens().finish() }));
    expect(e.name).toBe("FdtError");
    expect(e.code).toBe("ERR_IRQLAB_FDT");
    expect(FdtError.isInstance(e)).toBe(true);
    expect(FdtError.isInstance(new Error("x"))).toBe(false);
    // The marker @irqlab/sim's IrqlabError.isInstance() looks for.
    expect((e as unknown as Record<symbol, unknown>)[Symbol.for("irqlab.error")]).toBe(true);
  });

  test("errors carry the offset of the fault", () => {
    expect(parseError(rawBlob({ struct: new Tokens().begin("").word(5).end().finish() })).offset).toBe(0x40);
    expect(parseError(withWord(rawBlob({ struct: simple() }), 0, 1)).offset).toBe(0);
  });

  test("not a Uint8Array", () => {
    expect(() => parseFdt([0xd0, 0x0d] as unknown as Uint8Array)).toThrow("fdt: parseFdt() needs the blob as a Uint8Array");
  });
});
