// Finding the irqlab,cpu-hotplug node: its two register blocks and its GIC
// interrupt, and what a malformed node gives.
import { FdtWriter, parseFdt } from "@irqlab/fdt";
import { describe, expect, test } from "vitest";
import { CPU_HOTPLUG_COMPATIBLE, findCpuHotplug } from "../src/index.js";

const GIC_PH = 1;

function tree(node?: { reg?: number[]; interrupts?: number[]; status?: string }): Uint8Array {
  const w = new FdtWriter();
  w.beginNode("");
  w.propertyU32("interrupt-parent", GIC_PH);
  w.propertyU32("#size-cells", 2);
  w.propertyU32("#address-cells", 2);
  w.beginNode("intc@8000000");
  w.propertyU32("#interrupt-cells", 3);
  w.propertyNull("interrupt-controller");
  w.propertyU32("phandle", GIC_PH);
  w.endNode();
  if (node !== undefined) {
    w.beginNode("cpu-hotplug@90d0000");
    w.propertyString("compatible", CPU_HOTPLUG_COMPATIBLE);
    if (node.reg !== undefined) w.propertyArrayU32("reg", node.reg);
    if (node.interrupts !== undefined) w.propertyArrayU32("interrupts", node.interrupts);
    if (node.status !== undefined) w.propertyString("status", node.status);
    w.endNode();
  }
  w.endNode();
  return w.finish();
}

const REG = [0, 0x090d_0000, 0, 12, 0, 0x0908_0000, 0, 4];

describe("findCpuHotplug", () => {
  test("the block, the GED selector and the GED's SPI", () => {
    expect(findCpuHotplug(parseFdt(tree({ reg: REG, interrupts: [0, 9, 1] })))).toEqual({
      path: "/cpu-hotplug@90d0000",
      block: { base: 0x090d_0000, size: 12 },
      ged: { base: 0x0908_0000, size: 4 },
      interrupt: { controller: "/intc@8000000", cells: [0, 9, 1] },
    });
  });

  test("absent or disabled: undefined", () => {
    expect(findCpuHotplug(parseFdt(tree()))).toBeUndefined();
    expect(findCpuHotplug(parseFdt(tree({ reg: REG, interrupts: [0, 9, 1], status: "disabled" })))).toBeUndefined();
  });

  test("malformed: the message names the problem", () => {
    expect(findCpuHotplug(parseFdt(tree({ reg: REG.slice(0, 4), interrupts: [0, 9, 1] })))).toBe(
      "/cpu-hotplug@90d0000: reg has 1 entries, expected the CPU hotplug block and the GED event selector",
    );
    expect(findCpuHotplug(parseFdt(tree({ reg: REG })))).toBe("/cpu-hotplug@90d0000: no interrupts");
    expect(findCpuHotplug(parseFdt(tree({ reg: REG.slice(0, 3), interrupts: [0, 9, 1] })))).toMatch(/reg of \/cpu-hotplug@90d0000 is 3 cells/);
  });
});
