// The expected texts below are what dtc prints (checked against dtc 1.6.1 and
// 1.8.1); test/dtc-interop.test.ts compares with a live dtc as well.
import { describe, expect, test } from "vitest";
import { formatDtsValue, toDts } from "./fdt-dts.js";
import { parseFdt } from "./fdt-reader.js";
import { FdtWriter } from "./fdt-writer.js";

const bytes = (...b: number[]): Uint8Array => new Uint8Array(b);
const text = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, "latin1"));

describe("formatDtsValue: dtc's type guess", () => {
  test.each([
    ["empty", bytes(), ";"],
    ["a string", text("hvc\0"), ' = "hvc";'],
    ["an empty string is a byte", text("\0"), " = [00];"],
    ["a one-character string", text("/\0"), ' = "/";'],
    ["a cell", bytes(0, 0, 0, 1), " = <0x01>;"],
    ["cells, two digits at least", bytes(0, 0, 0, 0, 0x08, 0, 0, 0, 0xff, 0xff, 0xff, 0xff), " = <0x00 0x8000000 0xffffffff>;"],
    ["bytes when the length is not a multiple of 4", bytes(0xde, 0xad, 0xbe), " = [de ad be];"],
    ["a printable 4-byte value without NUL is cells", text("abcd"), " = <0x61626364>;"],
    ["a high byte makes it not a string", bytes(0x80, 0x81, 0x82, 0), " = <0x80818200>;"],
    ["more NULs than other bytes is not a string", text("a\0\0\0"), " = <0x61000000>;"],
    ["as many NULs as other bytes is a string list", text("a\0b\0"), ' = "a", "b";'],
    ["escapes", text('q"\\\t\n\r\x07\x08\x0b\x0c\0'), ' = "q\\"\\\\\\t\\n\\r\\a\\b\\v\\f";'],
    ["an empty string inside a list", text("ab\0\0cd\0"), ' = "ab", "", "cd";'],
    ["a leading NUL", text("\0ab\0"), ' = "", "ab";'],
  ])("%s", (_what, value, expected) => {
    expect(formatDtsValue(value)).toBe(expected);
  });

  test("string lists joined as dtc 1.5.0 to 1.7.0 print them", () => {
    expect(formatDtsValue(text("arm,pl011\0arm,primecell\0"), { stringLists: "joined" })).toBe(' = "arm,pl011\\0arm,primecell";');
    expect(formatDtsValue(text("ab\0\0cd\0"), { stringLists: "joined" })).toBe(' = "ab\\0\\0cd";');
    expect(formatDtsValue(text("one\0"), { stringLists: "joined" })).toBe(' = "one";');
  });
});

describe("toDts layout", () => {
  test("the smallest tree", () => {
    const w = new FdtWriter();
    w.beginNode("");
    w.endNode();
    expect(toDts(parseFdt(w.finish()))).toBe("/dts-v1/;\n\n/ {\n};\n");
  });

  test("reservations, tabs, a blank line before each child, empty nodes", () => {
    const w = new FdtWriter();
    w.addMemReserve(0x1000, 0x2000);
    w.addMemReserve(0xffff_ffff_ffff_0000n, 0x10);
    w.beginNode("");
    w.propertyNull("e");
    w.beginNode("a");
    w.beginNode("b@1");
    w.propertyU32("x", 1);
    w.endNode();
    w.beginNode("c");
    w.endNode();
    w.endNode();
    w.beginNode("d");
    w.propertyStringList("compatible", ["x,y", "z"]);
    w.endNode();
    w.endNode();
    expect(toDts(parseFdt(w.finish()))).toBe(
      [
        "/dts-v1/;",
        "",
        "/memreserve/\t0x0000000000001000 0x0000000000002000;",
        "/memreserve/\t0xffffffffffff0000 0x0000000000000010;",
        "/ {",
        "\te;",
        "",
        "\ta {",
        "",
        "\t\tb@1 {",
        "\t\t\tx = <0x01>;",
        "\t\t};",
        "",
        "\t\tc {",
        "\t\t};",
        "\t};",
        "",
        "\td {",
        '\t\tcompatible = "x,y", "z";',
        "\t};",
        "};",
        "",
      ].join("\n"),
    );
  });

  test("a name property equal to the node-name is left out, as dtc deletes it", () => {
    const w = new FdtWriter();
    w.beginNode("");
    w.propertyString("name", "");
    w.beginNode("uart@9000000");
    w.propertyString("name", "uart");
    w.propertyU32("reg", 1);
    w.endNode();
    w.endNode();
    const fdt = parseFdt(w.finish());
    expect(fdt.findNode("/uart")!.string("name")).toBe("uart"); // still in the tree
    expect(toDts(fdt)).toBe("/dts-v1/;\n\n/ {\n\n\tuart@9000000 {\n\t\treg = <0x01>;\n\t};\n};\n");
  });

  test("phandle is a plain property", () => {
    const w = new FdtWriter();
    w.beginNode("");
    w.propertyU32("phandle", 0x8001);
    w.endNode();
    expect(toDts(parseFdt(w.finish()))).toBe("/dts-v1/;\n\n/ {\n\tphandle = <0x8001>;\n};\n");
  });
});
