// Cross-checks against dtc, the reference implementation: dtc accepts every
// blob FdtWriter makes, parseFdt reads every blob dtc makes, and toDts prints
// exactly what `dtc -I dtb -O dts` prints. Needs dtc (see test/dtc.ts).
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { parseFdt, toDts, writeFdt } from "../src/index.js";
import { dtbToDts, dtsToDtb, requireDtc, runDtc } from "./dtc.js";
import { RANDOM_TREE_WARNINGS, modelOf, treeArb, writeModel } from "./tree-model.js";
import { armVirtTree, riscvAiaTree } from "./virt-trees.js";

describe("dtc reads what FdtWriter writes", () => {
  test("the virt-like trees: accepted with no warning at all, and toDts equals dtc's output", (ctx) => {
    const dtc = requireDtc((note) => ctx.skip(note));
    for (const blob of [armVirtTree(), riscvAiaTree()]) {
      const r = dtbToDts(dtc, blob);
      expect(r.stderr).toBe("");
      expect(r.status).toBe(0);
      expect(toDts(parseFdt(blob), { stringLists: dtc.stringLists })).toBe(r.stdout.toString("utf8"));
    }
  });

  test("random trees: exit 0, no error, only advisory warnings, toDts equals dtc's output (property)", (ctx) => {
    const dtc = requireDtc((note) => ctx.skip(note));
    fc.assert(
      fc.property(treeArb, (model) => {
        const blob = writeModel(model);
        const r = dtbToDts(dtc, blob);
        expect(r.status).toBe(0);
        expect(r.errors).toBe(false);
        expect(r.warnings.filter((w) => !RANDOM_TREE_WARNINGS.has(w))).toEqual([]);
        expect(toDts(parseFdt(blob), { stringLists: dtc.stringLists })).toBe(r.stdout.toString("utf8"));
      }),
      { numRuns: 60 },
    );
  });

  test("dtc's own re-encoding of a blob parses to the same tree", (ctx) => {
    const dtc = requireDtc((note) => ctx.skip(note));
    fc.assert(
      fc.property(treeArb, (model) => {
        const again = runDtc(dtc, ["-q", "-I", "dtb", "-O", "dtb", "-"], writeModel(model));
        expect(again.status).toBe(0);
        expect(modelOf(parseFdt(new Uint8Array(again.stdout)))).toEqual(model);
      }),
      { numRuns: 30 },
    );
  });
});

const EVERY_FORM = `/dts-v1/;
/memreserve/ 0x10000000 0x4000;
/memreserve/ 0xffffffff00000000 0x1000;
/ {
	#address-cells = <2>;
	#size-cells = <2>;
	compatible = "acme,board", "acme,soc";
	model = "Acme \\"Road Runner\\"\\tv2";
	empty;
	one-char = "/";
	bytes = [de ad be ef 01];
	odd-bytes = [00 01 02];
	big = /bits/ 64 <0xfedcba9876543210>;
	half = /bits/ 16 <0x1234 0x5678>;
	gic: interrupt-controller@8000000 {
		compatible = "arm,gic-v3";
		reg = <0x0 0x8000000 0x0 0x10000>;
		#interrupt-cells = <3>;
		#address-cells = <0>;
		interrupt-controller;
	};
	uart@9000000 {
		compatible = "arm,pl011", "arm,primecell";
		reg = <0x0 0x9000000 0x0 0x1000>;
		interrupt-parent = <&gic>;
		interrupts = <0 1 4>;
	};
	aliases {
		serial0 = &{/uart@9000000};
	};
	chosen {
		stdout-path = "serial0:115200n8";
	};
};
`;

describe("parseFdt reads what dtc writes", () => {
  test("a source with every value form: values, phandles made from labels, and dtc's dts", (ctx) => {
    const dtc = requireDtc((note) => ctx.skip(note));
    const blob = dtsToDtb(dtc, EVERY_FORM);
    const fdt = parseFdt(blob);
    expect(fdt.version).toBe(17);
    expect(fdt.lastCompVersion).toBe(16);
    expect(fdt.memReserve).toEqual([
      { address: 0x1000_0000n, size: 0x4000n },
      { address: 0xffff_ffff_0000_0000n, size: 0x1000n },
    ]);
    const root = fdt.root;
    expect(root.stringList("compatible")).toEqual(["acme,board", "acme,soc"]);
    expect(root.string("model")).toBe('Acme "Road Runner"\tv2');
    expect(root.prop("empty")).toEqual(new Uint8Array(0));
    expect(root.u64("big")).toBe(0xfedc_ba98_7654_3210n);
    expect(root.prop("half")).toEqual(new Uint8Array([0x12, 0x34, 0x56, 0x78]));
    const gic = fdt.findNode("/interrupt-controller@8000000")!;
    expect(gic.phandle).toBeDefined();
    const uart = fdt.findNode("serial0")!;
    expect(uart.path).toBe("/uart@9000000");
    expect(fdt.nodeByPhandle(uart.u32("interrupt-parent")!)).toBe(gic);
    expect(uart.cells("interrupts")).toEqual([0, 1, 4]);
    expect(toDts(fdt, { stringLists: dtc.stringLists })).toBe(dtbToDts(dtc, blob).stdout.toString("utf8"));
    // Written again by FdtWriter, dtc prints the same source.
    expect(dtbToDts(dtc, writeFdt(fdt)).stdout.toString("utf8")).toBe(dtbToDts(dtc, blob).stdout.toString("utf8"));
  });

  test("version 16 blobs (dtc -V 16): 36-byte header, no size_dt_struct", (ctx) => {
    const dtc = requireDtc((note) => ctx.skip(note));
    const blob = dtsToDtb(dtc, EVERY_FORM, ["-V", "16"]);
    const fdt = parseFdt(blob);
    expect(fdt.version).toBe(16);
    expect(fdt.root.stringList("compatible")).toEqual(["acme,board", "acme,soc"]);
    expect(toDts(fdt, { stringLists: dtc.stringLists })).toBe(dtbToDts(dtc, blob).stdout.toString("utf8"));
  });

  test("free space: padding (-p), spare reservation slots (-R), alignment (-a), minimum size (-S)", (ctx) => {
    const dtc = requireDtc((note) => ctx.skip(note));
    const plain = modelOf(parseFdt(dtsToDtb(dtc, EVERY_FORM)));
    for (const extra of [["-p", "256"], ["-R", "4"], ["-a", "64"], ["-S", "8192"], ["-R", "2", "-p", "1000"]]) {
      expect(modelOf(parseFdt(dtsToDtb(dtc, EVERY_FORM, extra)))).toEqual(plain);
    }
  });

  test("dtc's output for our writer's blobs compiles back to an equal tree", (ctx) => {
    const dtc = requireDtc((note) => ctx.skip(note));
    for (const blob of [armVirtTree(), riscvAiaTree()]) {
      const source = dtbToDts(dtc, blob).stdout.toString("utf8");
      expect(modelOf(parseFdt(dtsToDtb(dtc, source)))).toEqual(modelOf(parseFdt(blob)));
    }
  });
});
