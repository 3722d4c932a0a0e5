// The trees QEMU's virt machines boot a guest with: parsed, looked up the way
// a guest's GIC/ITS and AIA drivers would, and printed exactly as dtc prints
// them. Fixtures are QEMU's own output (see fixtures/README.md); a live run of
// QEMU, when it is installed, checks today's output too.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { describe, expect, test } from "vitest";
import { parseFdt, toDts, writeFdt } from "../src/index.js";
import { dtbToDts, requireDtc } from "./dtc.js";

const fixtures = join(import.meta.dirname, "fixtures");
const blob = (name: string): Uint8Array => new Uint8Array(gunzipSync(readFileSync(join(fixtures, `${name}.dtb.gz`))));
const text = (file: string): string => readFileSync(join(fixtures, file), "utf8");

const MACHINES = ["qemu-virt-aarch64-gicv3", "qemu-virt-riscv64-aia"] as const;

describe.each(MACHINES)("%s", (name) => {
  test("toDts equals dtc 1.6.1's and dtc 1.8.1's output byte for byte", () => {
    const fdt = parseFdt(blob(name));
    expect(toDts(fdt, { stringLists: "joined" })).toBe(text(`${name}.dtc-1.6.1.dts`));
    expect(toDts(fdt)).toBe(text(`${name}.dtc-1.8.1.dts`));
  });

  test("toDts equals the installed dtc's output", (ctx) => {
    const dtc = requireDtc((note) => ctx.skip(note));
    const b = blob(name);
    expect(toDts(parseFdt(b), { stringLists: dtc.stringLists })).toBe(dtbToDts(dtc, b).stdout.toString("utf8"));
  });

  test("written again by FdtWriter: the same tree, packed", () => {
    const original = blob(name);
    const fdt = parseFdt(original);
    const again = writeFdt(fdt);
    expect(again.length).toBeLessThanOrEqual(new DataView(original.buffer).getUint32(4));
    expect(toDts(parseFdt(again))).toBe(toDts(fdt));
    expect(writeFdt(parseFdt(again))).toEqual(again);
  });
});

describe("what guest drivers look up", () => {
  test("arm64: the GICv3 and its ITS, the PCIe msi-map pointing at the ITS, the boot CPU", () => {
    const fdt = parseFdt(blob("qemu-virt-aarch64-gicv3"));
    expect(fdt.version).toBe(17);
    expect(fdt.bootCpuidPhys).toBe(0);
    const [gic] = fdt.findCompatible("arm,gic-v3");
    expect(gic!.path).toBe("/intc@8000000");
    expect(gic!.u32("#interrupt-cells")).toBe(3);
    expect(gic!.has("interrupt-controller")).toBe(true);
    expect(fdt.nodeByPhandle(fdt.root.u32("interrupt-parent")!)).toBe(gic);
    const its = gic!.child("its")!;
    expect(its.isCompatible("arm,gic-v3-its")).toBe(true);
    expect(its.cells("reg")).toEqual([0, 0x808_0000, 0, 0x2_0000]);
    const pcie = fdt.findNode("/pcie@10000000")!;
    const [rid, itsPhandle, base, length] = pcie.cells("msi-map")!;
    expect([rid, base, length]).toEqual([0, 0, 0x1_0000]);
    expect(fdt.nodeByPhandle(itsPhandle!)).toBe(its);
    expect(fdt.findNode("/cpus/cpu@0")!.u32("reg")).toBe(fdt.bootCpuidPhys);
    expect(fdt.findNode("/chosen")!.string("stdout-path")).toBe("/pl011@9000000");
  });

  test("riscv64: IMSIC files per hart, the APLIC domains and their MSI parents", () => {
    const fdt = parseFdt(blob("qemu-virt-riscv64-aia"));
    const imsics = fdt.findCompatible("riscv,imsics");
    expect(imsics.map((n) => n.name)).toEqual(["imsics@28000000", "imsics@24000000"]);
    // interrupts-extended: <hart intc phandle, cause> per hart; 9 is S-level external, 11 M-level.
    const sLevel = fdt.findNode("/soc/imsics@28000000")!;
    const pairs = sLevel.cells("interrupts-extended")!;
    expect(pairs.filter((_, i) => i % 2 === 1)).toEqual([9, 9]);
    for (const ph of pairs.filter((_, i) => i % 2 === 0)) expect(fdt.nodeByPhandle(ph)!.isCompatible("riscv,cpu-intc")).toBe(true);
    expect(sLevel.u32("riscv,num-ids")).toBe(255);
    const sDomain = fdt.findNode("/soc/aplic@d000000")!;
    expect(fdt.nodeByPhandle(sDomain.u32("msi-parent")!)).toBe(sLevel);
    const mDomain = fdt.findNode("/soc/aplic@c000000")!;
    expect(fdt.nodeByPhandle(mDomain.cells("riscv,children")![0]!)).toBe(sDomain);
    expect(fdt.findNode("/soc/serial@10000000")!.stringList("compatible")).toEqual(["ns16550a"]);
  });
});

describe("live QEMU", () => {
  const machines: [string, string[]][] = [
    ["qemu-system-aarch64", ["-nodefaults", "-M", "virt,gic-version=3,dumpdtb=%", "-cpu", "max", "-smp", "2"]],
    ["qemu-system-riscv64", ["-nodefaults", "-M", "virt,aia=aplic-imsic,dumpdtb=%", "-smp", "2"]],
  ];

  test.for(machines)("%s -M virt,dumpdtb: toDts equals dtc's output", ([qemu, args], ctx) => {
    if (spawnSync(qemu, ["--version"]).status !== 0) ctx.skip(`${qemu} is not installed`);
    const dtc = requireDtc((note) => ctx.skip(note));
    const dir = mkdtempSync(join(tmpdir(), "irqlab-fdt-"));
    try {
      const file = join(dir, "dump.dtb");
      const r = spawnSync(qemu, args.map((a) => a.replace("%", file)), { encoding: "utf8", timeout: 60_000 });
      expect(r.status, r.stderr).toBe(0);
      const b = new Uint8Array(readFileSync(file));
      expect(toDts(parseFdt(b), { stringLists: dtc.stringLists })).toBe(dtbToDts(dtc, b).stdout.toString("utf8"));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
