// The architected timer node as the guest reads it (boot/dt-timer.ts): QEMU's own arm virt trees,
// the tree irqlab's arm64 machine builds for a KVM guest, and malformed nodes.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Machine, parseSystemCommandLine } from "@irqlab/machine";
import { describe, expect, test } from "vitest";
import { requireDtc, dtsToDtb } from "./dtc.js";
import { halt } from "../src/index.js";
import { panicOf, platformOf } from "./helpers.js";

const FIXTURES = join(import.meta.dirname, "../../machine/test/fixtures/qemu-dtb");

describe("findArchTimer", () => {
  describe.each(["arm-virt-smp4.dts", "arm-virt-its-off.dts", "arm-virt-smp1.dts"])("QEMU's %s", (name) => {
    test("secure 29, non-secure 30, virtual 27, hypervisor 26 (include/hw/arm/bsa.h), level-high, always-on", (ctx) => {
      const blob = dtsToDtb(requireDtc((n) => ctx.skip(n)), readFileSync(join(FIXTURES, name), "utf8"));
      expect(platformOf(blob, "aarch64").timer).toEqual({
        path: "/timer",
        securePhysical: 29,
        physical: 30,
        virtual: 27,
        virtualFlags: 4,
        hypPhysical: 26,
        hypVirtual: undefined,
        alwaysOn: true,
      });
    });
  });

  test("the tree of irqlab's `-M virt -accel kvm` lists the same PPIs, so a guest finds the vtimer KVM raises (27)", () => {
    const cl = parseSystemCommandLine("aarch64", ["-M", "virt", "-accel", "kvm", "-smp", "2", "-nographic"]);
    if (cl.kind !== "run") throw new Error(cl.kind);
    const m = Machine.create({ config: cl.config, kernel: { main: halt }, console: () => undefined });
    const t = platformOf(m.fdt, "aarch64").timer;
    expect(t?.virtual).toBe(27);
    expect(t?.physical).toBe(30);
    expect(t?.hypPhysical).toBe(26);
  });

  test("a timer interrupt that is not a GIC PPI, or fewer than four interrupts, is a panic naming the node", (ctx) => {
    const dtc = requireDtc((n) => ctx.skip(n));
    const src = readFileSync(join(FIXTURES, "arm-virt-smp4.dts"), "utf8");
    const spi = src.replace("interrupts = <0x01 0x0d 0x04 0x01 0x0e 0x04 0x01 0x0b 0x04", "interrupts = <0x01 0x0d 0x04 0x01 0x0e 0x04 0x00 0x0b 0x04");
    expect(spi).not.toBe(src);
    expect(panicOf(dtsToDtb(dtc, spi), "aarch64")).toContain("/timer: interrupt 2 <0 11 4> is not a GIC PPI");
    const short = src.replace("interrupts = <0x01 0x0d 0x04 0x01 0x0e 0x04 0x01 0x0b 0x04 0x01 0x0a 0x04>", "interrupts = <0x01 0x0d 0x04 0x01 0x0e 0x04>");
    expect(panicOf(dtsToDtb(dtc, short), "aarch64")).toContain("/timer lists 2 interrupts");
  });
});
