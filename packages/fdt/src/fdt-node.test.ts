import { describe, expect, test } from "vitest";
import { ARM_PHANDLES, armVirtTree, riscvAiaTree } from "../test/virt-trees.js";
import { FdtError } from "./fdt-error.js";
import { parseFdt } from "./fdt-reader.js";
import { FdtWriter } from "./fdt-writer.js";

describe("FdtNode accessors", () => {
  const fdt = parseFdt(armVirtTree());

  test("typed reads of the arm64 tree", () => {
    const root = fdt.root;
    expect(root.path).toBe("/");
    expect(root.u32("#address-cells")).toBe(2);
    expect(root.string("model")).toBe("linux,dummy-virt");
    const memory = fdt.findNode("/memory@40000000")!;
    expect(memory.baseName).toBe("memory");
    expect(memory.unitAddress).toBe("40000000");
    expect(memory.cells("reg")).toEqual([0, 0x4000_0000, 0, 0x800_0000]);
    expect(fdt.findNode("/psci")!.stringList("compatible")).toEqual(["arm,psci-1.0", "arm,psci-0.2", "arm,psci"]);
    expect(fdt.findNode("/chosen")!.u64("linux,initrd-start")).toBe(0x4800_0000n);
    expect(fdt.findNode("/timer")!.has("always-on")).toBe(true);
    expect(fdt.findNode("/timer")!.prop("always-on")).toEqual(new Uint8Array(0));
  });

  test("absent properties read as undefined", () => {
    const n = fdt.root;
    expect(n.prop("nope")).toBeUndefined();
    expect(n.u32("nope")).toBeUndefined();
    expect(n.u64("nope")).toBeUndefined();
    expect(n.string("nope")).toBeUndefined();
    expect(n.stringList("nope")).toBeUndefined();
    expect(n.cells("nope")).toBeUndefined();
    expect(n.has("nope")).toBe(false);
    expect(fdt.findNode("/timer")!.phandle).toBeUndefined();
  });

  test("a property of the wrong shape is an FdtError naming it", () => {
    const memory = fdt.findNode("/memory@40000000")!;
    expect(() => memory.u32("reg")).toThrow(new FdtError("fdt: property 'reg' of /memory@40000000 is 16 bytes; a u32 is 4"));
    expect(() => memory.u64("reg")).toThrow(new FdtError("fdt: property 'reg' of /memory@40000000 is 16 bytes; a u64 is 8"));
    expect(() => memory.string("reg")).toThrow(new FdtError("fdt: property 'reg' of /memory@40000000 is not a single string: it has a NUL at byte 0 of 16"));
    expect(() => fdt.findNode("/psci")!.string("compatible")).toThrow(/is not a single string: it has a NUL at byte 12 of 35/);
    expect(() => fdt.root.string("#address-cells")).toThrow(/is not a single string: it has a NUL at byte 0/);
    expect(() => fdt.findNode("/timer")!.string("always-on")).toThrow(new FdtError("fdt: property 'always-on' of /timer is not a string: it does not end with NUL"));
    expect(() => fdt.findNode("/timer")!.stringList("interrupts")).toThrow(
      new FdtError("fdt: property 'interrupts' of /timer is not a string list: it does not end with NUL"),
    );
  });

  test("cells, string lists and strings on hand-made values", () => {
    const w = new FdtWriter();
    w.beginNode("");
    w.property("odd", new Uint8Array([1, 2, 3]));
    w.property("bad-utf8", new Uint8Array([0xff, 0]));
    w.property("no-nul", new Uint8Array([0x61]));
    w.property("list", new TextEncoder().encode("a\0\0b\0"));
    w.endNode();
    const root = parseFdt(w.finish()).root;
    expect(() => root.cells("odd")).toThrow(new FdtError("fdt: property 'odd' of / is 3 bytes, not a whole number of 4-byte cells"));
    expect(() => root.string("bad-utf8")).toThrow(new FdtError("fdt: property 'bad-utf8' of / is not valid UTF-8"));
    expect(() => root.stringList("bad-utf8")).toThrow(new FdtError("fdt: property 'bad-utf8' of / is not valid UTF-8"));
    expect(() => root.stringList("no-nul")).toThrow(new FdtError("fdt: property 'no-nul' of / is not a string list: it does not end with NUL"));
    expect(root.stringList("list")).toEqual(["a", "", "b"]);
  });

  test("phandle, or linux,phandle when there is no phandle", () => {
    expect(fdt.findNode("/intc@8000000")!.phandle).toBe(ARM_PHANDLES.gic);
    const w = new FdtWriter();
    w.beginNode("");
    w.beginNode("old");
    w.propertyU32("linux,phandle", 9);
    w.endNode();
    w.endNode();
    const old = parseFdt(w.finish());
    expect(old.findNode("/old")!.phandle).toBe(9);
    expect(old.nodeByPhandle(9)).toBe(old.findNode("/old"));
  });
});

describe("Fdt look-ups", () => {
  const fdt = parseFdt(armVirtTree());

  test("by path: exact, without unit address, with stray slashes; undefined when absent", () => {
    const its = fdt.findNode("/intc@8000000/its@8080000")!;
    expect(its.path).toBe("/intc@8000000/its@8080000");
    expect(fdt.findNode("/intc/its")).toBe(its);
    expect(fdt.findNode("//intc@8000000//its@8080000/")).toBe(its);
    expect(fdt.findNode("/")).toBe(fdt.root);
    expect(fdt.findNode("/cpus/cpu")!.name).toBe("cpu@0"); // the first match, as libfdt
    expect(fdt.findNode("/cpus/cpu@1")!.u32("reg")).toBe(1);
    expect(fdt.findNode("/cpus/cpu@2")).toBeUndefined();
    expect(fdt.findNode("/intc@8000001")).toBeUndefined();
    expect(fdt.findNode("")).toBeUndefined();
  });

  test("by alias", () => {
    expect(fdt.findNode("serial0")!.path).toBe("/pl011@9000000");
    expect(fdt.findNode("serial1")).toBeUndefined();
    expect(fdt.findNode("serial0/nothing")).toBeUndefined();
    expect(fdt.findNode("/serial0")).toBeUndefined();
  });

  test("by phandle, and parents", () => {
    const its = fdt.nodeByPhandle(ARM_PHANDLES.its)!;
    expect(its.name).toBe("its@8080000");
    expect(its.parent).toBe(fdt.nodeByPhandle(ARM_PHANDLES.gic));
    expect(fdt.nodeByPhandle(0x1234)).toBeUndefined();
    const uart = fdt.findNode("/pl011@9000000")!;
    expect(uart.cells("clocks")!.map((p) => fdt.nodeByPhandle(p)!.name)).toEqual(["apb-pclk", "apb-pclk"]);
  });

  test("by compatible, and every node in document order", () => {
    expect(fdt.findCompatible("arm,primecell").map((n) => n.path)).toEqual(["/pl011@9000000"]);
    expect(fdt.findCompatible("arm,gic-v3-its").map((n) => n.path)).toEqual(["/intc@8000000/its@8080000"]);
    const riscv = parseFdt(riscvAiaTree());
    expect([...riscv.nodes()].map((n) => n.path)).toEqual([
      "/",
      "/cpus",
      "/cpus/cpu@0",
      "/cpus/cpu@0/interrupt-controller",
      "/cpus/cpu@1",
      "/cpus/cpu@1/interrupt-controller",
      "/memory@80000000",
      "/soc",
      "/soc/imsics@28000000",
      "/soc/aplic@d000000",
      "/soc/serial@10000000",
      "/chosen",
    ]);
    const aplic = riscv.findCompatible("riscv,aplic")[0]!;
    expect(riscv.nodeByPhandle(aplic.u32("msi-parent")!)!.isCompatible("riscv,imsics")).toBe(true);
  });
});
