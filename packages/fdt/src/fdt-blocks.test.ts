import { describe, expect, test } from "vitest";
import { FdtHeaderOffset as H } from "./fdt-constants.js";
import { ByteSink, StringsBlock } from "./fdt-blocks.js";
import { FdtWriter } from "./fdt-writer.js";

function contents(block: StringsBlock): string {
  const out = new Uint8Array(block.size);
  block.writeTo(out, 0);
  return Buffer.from(out).toString("latin1");
}

describe("StringsBlock: libfdt's find-or-add", () => {
  test("an equal name is stored once", () => {
    const s = new StringsBlock();
    expect(s.offsetOf("reg")).toBe(0);
    expect(s.offsetOf("compatible")).toBe(4);
    expect(s.offsetOf("reg")).toBe(0);
    expect(contents(s)).toBe("reg\0compatible\0");
  });

  test("a name that is the tail of an earlier one reuses it", () => {
    const s = new StringsBlock();
    expect(s.offsetOf("#address-cells")).toBe(0);
    expect(s.offsetOf("cells")).toBe(9);
    expect(s.offsetOf("address-cells")).toBe(1);
    expect(s.offsetOf("s")).toBe(13);
    expect(contents(s)).toBe("#address-cells\0");
  });

  test("the first occurrence wins; a longer name added later does not move a shorter one", () => {
    const s = new StringsBlock();
    expect(s.offsetOf("size-cells")).toBe(0);
    expect(s.offsetOf("#size-cells")).toBe(11); // appended: "size-cells" is not its tail in the table
    expect(s.offsetOf("size-cells")).toBe(0);
    expect(s.offsetOf("ells")).toBe(6);
    expect(contents(s)).toBe("size-cells\0#size-cells\0");
  });

  test("a match must end at a NUL: a prefix is not reused", () => {
    const s = new StringsBlock();
    s.offsetOf("interrupts");
    expect(s.offsetOf("interrupt")).toBe(11);
    expect(contents(s)).toBe("interrupts\0interrupt\0");
  });

  test("in a blob: size_dt_strings counts each stored name once", () => {
    const w = new FdtWriter();
    w.beginNode("");
    w.propertyU32("#address-cells", 2);
    w.propertyU32("#size-cells", 2);
    w.beginNode("cpus");
    w.propertyU32("#address-cells", 1);
    w.propertyU32("#size-cells", 0);
    w.propertyNull("size-cells");
    w.endNode();
    w.endNode();
    const blob = w.finish();
    const dv = new DataView(blob.buffer);
    const off = dv.getUint32(H.offDtStrings);
    const size = dv.getUint32(H.sizeDtStrings);
    expect(Buffer.from(blob.subarray(off, off + size)).toString("latin1")).toBe("#address-cells\0#size-cells\0");
  });
});

describe("ByteSink", () => {
  test("big-endian words, bytes, zero padding to 4, growth past its first buffer", () => {
    const b = new ByteSink();
    b.u32(0x01020304);
    b.ascii("ab");
    b.u8(0);
    b.align4();
    expect([...b.view()]).toEqual([1, 2, 3, 4, 0x61, 0x62, 0, 0]);
    b.align4(); // already aligned: nothing added
    expect(b.length).toBe(8);
    b.bytes(new Uint8Array(1000).fill(7));
    b.u32(0xdeadbeef);
    expect(b.length).toBe(1012);
    expect([...b.view().subarray(1004)]).toEqual([7, 7, 7, 7, 0xde, 0xad, 0xbe, 0xef]);
  });
});
