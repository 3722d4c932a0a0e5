// QEMU's own device trees (packages/machine/test/fixtures/qemu-dtb, dumped from
// qemu-system-* 7.2 under TCG and decompiled with dtc): compiled back to blobs
// with dtc, parsed into PlatformInfo, and booted with the images.
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { helloImage, smpHelloImage, type GuestArch, type PlatformInfo } from "../src/index.js";
import { requireDtc, dtsToDtb } from "./dtc.js";
import { lines, runGuest } from "./guest-executor.js";
import { platformOf } from "./helpers.js";

const FIXTURES = join(import.meta.dirname, "../../machine/test/fixtures/qemu-dtb");
const MiB = 1024 * 1024;

function compile(skip: (note: string) => never, name: string): Uint8Array {
  return dtsToDtb(requireDtc(skip), readFileSync(join(FIXTURES, name), "utf8"));
}

function archOf(name: string): GuestArch {
  return name.startsWith("arm-") ? "aarch64" : "riscv64";
}

/** Boots `image` on the tree: the executor's CPUs are the tree's, its UART the tree's console. */
function boot(blob: Uint8Array, arch: GuestArch, p: PlatformInfo, image = helloImage()): ReturnType<typeof runGuest> {
  const ram = p.memory[0]!;
  const c = p.console!;
  return runGuest({
    arch,
    image,
    blob,
    ram: { base: ram.base, size: p.memorySize },
    cpus: p.cpus.map((x) => x.hwid),
    uart: c.kind === "pl011" ? { kind: "pl011", base: c.region.base } : { kind: "ns16550a", base: c.region.base, regShift: c.regShift },
  });
}

const fixtures = readdirSync(FIXTURES).filter((f) => f.endsWith(".dts")).sort();

test("the fixtures are there", () => {
  expect(fixtures.length).toBeGreaterThanOrEqual(15);
});

describe.each(fixtures)("%s", (name) => {
  test("parses into a platform and boots hello", (ctx) => {
    const blob = compile((note) => ctx.skip(note), name);
    const arch = archOf(name);
    const p = platformOf(blob, arch);
    expect(p.cpus.length).toBeGreaterThan(0);
    expect(p.console?.kind).toBe(arch === "aarch64" ? "pl011" : "ns16550a");
    const r = boot(blob, arch, p);
    expect(lines(r.uart)).toContain("Hello from irqlab");
    expect(r.stop).toBe("power");
    expect(r.faults).toEqual([]);
  });
});

describe("what the QEMU trees say", () => {
  test("arm64 smp4: four PSCI CPUs, GICv3 + ITS, PCIe with msi-map, PSCI 1.0 over HVC", (ctx) => {
    const p = platformOf(compile((n) => ctx.skip(n), "arm-virt-smp4.dts"), "aarch64");
    expect(p.cpus.map((c) => [c.hwid, c.enableMethod])).toEqual([[0, "psci"], [1, "psci"], [2, "psci"], [3, "psci"]]);
    expect(p.memory).toEqual([{ base: 0x4000_0000, size: 128 * MiB }]);
    expect(p.gic?.distributor).toEqual({ base: 0x0800_0000, size: 0x1_0000 });
    expect(p.gic?.its.map((i) => i.region)).toEqual([{ base: 0x0808_0000, size: 0x2_0000 }]);
    expect(p.pcie[0]?.msiMap[0]?.controller).toBe(p.gic?.its[0]?.path);
    expect(p.psci).toMatchObject({ version: "1.0", method: "hvc" });
    expect(p.console).toMatchObject({ kind: "pl011", region: { base: 0x0900_0000, size: 0x1000 } });
  });

  test("arm64 smp200: two redistributor regions, MPIDRs with Aff1", (ctx) => {
    const p = platformOf(compile((n) => ctx.skip(n), "arm-virt-smp200.dts"), "aarch64");
    expect(p.cpus).toHaveLength(200);
    expect(p.gic?.redistributorRegions).toEqual([
      { base: 0x080a_0000, size: 0xf6_0000 },
      { base: 0x40_0000_0000, size: 0x400_0000 },
    ]);
    expect(p.cpus.at(-1)?.hwid).toBe(0xc07);
  });

  test("arm64 m1g, its-off, highmem-off", (ctx) => {
    expect(platformOf(compile((n) => ctx.skip(n), "arm-virt-m1g.dts"), "aarch64").memorySize).toBe(1024 * MiB);
    const noIts = platformOf(compile((n) => ctx.skip(n), "arm-virt-its-off.dts"), "aarch64");
    expect([noIts.gic?.its, noIts.pcie[0]?.msiMap]).toEqual([[], []]);
    const low = platformOf(compile((n) => ctx.skip(n), "arm-virt-highmem-off.dts"), "aarch64");
    expect(low.pcie[0]?.ecam).toEqual({ base: 0x3f00_0000, size: 0x100_0000 });
    expect(low.pcie[0]?.ranges.map((r) => r.space)).toEqual(["io", "mem32"]);
  });

  test("riscv64 TCG trees carry machine- and supervisor-level AIA nodes, told apart by their hart interrupts", (ctx) => {
    const p = platformOf(compile((n) => ctx.skip(n), "riscv-virt-imsic-smp4.dts"), "riscv64");
    expect(p.imsics.map((i) => [i.path, i.level, i.harts])).toEqual([
      ["/soc/imsics@28000000", "supervisor", [0, 1, 2, 3]],
      ["/soc/imsics@24000000", "machine", [0, 1, 2, 3]],
    ]);
    const [s, m] = p.aplics;
    expect([s?.path, s?.level, s?.msiParent]).toEqual(["/soc/aplic@d000000", "supervisor", "/soc/imsics@28000000"]);
    expect([m?.path, m?.level, m?.children, m?.delegation]).toEqual([
      "/soc/aplic@c000000",
      "machine",
      ["/soc/aplic@d000000"],
      [{ child: "/soc/aplic@d000000", first: 1, last: 0x60 }],
    ]);
    expect(p.pcie[0]?.msiParent).toBe("/soc/imsics@28000000");
    expect(p.timebaseFrequency).toBe(10_000_000);
  });

  test("riscv64 NUMA: two memory nodes, IMSIC groups", (ctx) => {
    const p = platformOf(compile((n) => ctx.skip(n), "riscv-virt-imsic-numa2.dts"), "riscv64");
    expect(p.memory).toHaveLength(2);
    expect(p.memorySize).toBe(256 * MiB);
    const s = p.imsics.find((i) => i.level === "supervisor");
    expect([s?.regions.length, s?.groupIndexBits, s?.groupIndexShift, s?.hartIndexBits, s?.guestIndexBits]).toEqual([2, 1, 24, 2, 2]);
  });

  test("riscv64 APLIC-only (direct delivery) and PLIC trees", (ctx) => {
    const direct = platformOf(compile((n) => ctx.skip(n), "riscv-virt-aplic-smp2.dts"), "riscv64");
    expect(direct.aplics.map((a) => [a.delivery, a.level, a.harts])).toEqual([
      ["direct", "supervisor", [0, 1]],
      ["direct", "machine", [0, 1]],
    ]);
    const plic = platformOf(compile((n) => ctx.skip(n), "riscv-virt-plic-smp2.dts"), "riscv64");
    expect([plic.aplics, plic.imsics]).toEqual([[], []]);
  });

  test.for(["arm-virt-smp8-topo.dts", "riscv-virt-imsic-smp8-sockets2.dts"])("smp-hello brings all of %s online", (name, ctx) => {
    const blob = compile((n) => ctx.skip(n), name);
    const arch = archOf(name);
    const p = platformOf(blob, arch);
    const r = boot(blob, arch, p, smpHelloImage());
    expect(lines(r.uart)).toContain(`smp: all ${p.cpus.length} CPUs online`);
    expect(lines(r.uart).filter((l) => l.endsWith(" online") && l.startsWith("CPU"))).toHaveLength(p.cpus.length - 1);
  });
});
