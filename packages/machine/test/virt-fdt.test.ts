/**
 * The virt boards' device trees against QEMU's, node for node and property
 * for property. For every option set below, QEMU 7.2's own tree (a fixture
 * dumped under TCG by fixtures/qemu-dtb/regenerate.sh) is compiled back to a
 * blob with dtc, our blob for the same options under KVM is built, dtc must
 * accept ours, and the two trees must print the same canonical lines (see
 * fdt-compare.ts: phandle references compared by the node they point to)
 * once the explicit allowed differences of virt-fdt-differences.ts are
 * applied. Then the properties those differences hide are checked directly.
 */

import { readFileSync } from "node:fs";
import { parseFdt } from "@irqlab/fdt";
import { describe, expect, test } from "vitest";
import {
  armVirtLayout,
  buildArmVirtFdt,
  buildRiscvVirtFdt,
  riscvVirtLayout,
  type MachineConfig,
  type RiscvVirtLayoutOptions,
} from "../src/index.js";
import { dtbToDts, dtsToDtb, requireDtc } from "./dtc.js";
import { bytesOf, canonicalLines, cellsOf, propOf, treeOf, walk, type TNode } from "./fdt-compare.js";
import { armConfig, riscvConfig, smp } from "./virt-configs.js";
import { ARM_VIRT_DIFFERENCES, RISCV_VIRT_DIFFERENCES, type AllowedDifference } from "./virt-fdt-differences.js";

const MiB = 2 ** 20;
const GiB = 2 ** 30;
const FIXTURES = new URL("./fixtures/qemu-dtb/", import.meta.url);

/** A deterministic stand-in for QEMU's RNG: bytes 0, 1, 2, … */
const counting = (n: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => i & 0xff);

interface Case {
  /** Fixture name (fixtures/qemu-dtb/NAME.dts); its header has QEMU's command line. */
  readonly fixture: string;
  readonly config: MachineConfig;
  readonly riscv?: RiscvVirtLayoutOptions;
}

/** aarch64: -nodefaults -M virt,gic-version=3,dtb-randomness=off[,…] -cpu max under QEMU; KVM -cpu host here. */
const ARM_CASES: readonly Case[] = [
  { fixture: "arm-virt-smp1", config: armConfig({ smp: smp(1) }) },
  { fixture: "arm-virt-smp4", config: armConfig({ smp: smp(4) }) },
  { fixture: "arm-virt-smp8-topo", config: armConfig({ smp: smp(8, { sockets: 2, clusters: 2, cores: 2, threads: 1 }) }) },
  { fixture: "arm-virt-smp8-threads", config: armConfig({ smp: smp(8, { sockets: 1, clusters: 2, cores: 2, threads: 2 }) }) },
  { fixture: "arm-virt-its-off", config: armConfig({ smp: smp(2), its: false }) },
  { fixture: "arm-virt-m1g", config: armConfig({ smp: smp(1), ramBytes: GiB }) },
  { fixture: "arm-virt-smp2-max4", config: armConfig({ smp: smp(2, { maxcpus: 4 }) }) },
  { fixture: "arm-virt-smp200", config: armConfig({ smp: smp(200) }) },
  { fixture: "arm-virt-highmem-off", config: armConfig({ smp: smp(2), highmem: false }) },
];

/** riscv64: -nodefaults -M virt,aia=…[,aia-guests=] under QEMU (TCG); KVM here. */
const RISCV_CASES: readonly Case[] = [
  { fixture: "riscv-virt-imsic-smp4", config: riscvConfig({ smp: smp(4), aia: "aplic-imsic" }) },
  { fixture: "riscv-virt-imsic-guests5", config: riscvConfig({ smp: smp(4), aia: "aplic-imsic", aiaGuests: 5 }) },
  { fixture: "riscv-virt-aplic-smp2", config: riscvConfig({ smp: smp(2), aia: "aplic" }) },
  // -smp sockets= is not a riscv virt socket: without -numa the board has one socket of 8 harts.
  { fixture: "riscv-virt-imsic-smp8-sockets2", config: riscvConfig({ smp: smp(8, { sockets: 2 }), aia: "aplic-imsic" }) },
  {
    // Two NUMA sockets. TCG has one S-level APLIC per socket; so does KVM with kernel-irqchip=split
    // (the in-kernel AIA has a single APLIC: checked below).
    fixture: "riscv-virt-imsic-numa2",
    config: riscvConfig({ smp: smp(6), ramBytes: 256 * MiB, aia: "aplic-imsic", aiaGuests: 3, kernelIrqchip: "split" }),
    riscv: { numaNodes: [{ cpus: 4, memBytes: 128 * MiB }, { cpus: 2, memBytes: 128 * MiB }] },
  },
  { fixture: "riscv-virt-plic-smp2", config: riscvConfig({ smp: smp(2), aia: "none" }) },
];

function fixtureSource(name: string): string {
  return readFileSync(new URL(`${name}.dts`, FIXTURES), "utf8");
}

/** Applies the differences, compares, and returns the differences that applied. */
function compareWithQemu(dtc: string, c: Case, ours: Uint8Array, differences: readonly AllowedDifference[]): string[] {
  const dts = dtbToDts(dtc, ours);
  expect(dts.status, `dtc -I dtb -O dts rejected our blob: ${dts.stderr}`).toBe(0);
  const qemu = treeOf(dtsToDtb(dtc, fixtureSource(c.fixture)));
  const mine = treeOf(ours);
  const applied = differences.filter((d) => d.apply(qemu, mine) > 0).map((d) => `${d.kind}: ${d.what}`);
  expect(canonicalLines(mine)).toEqual(canonicalLines(qemu));
  // Beyond the comparison by target: QEMU's phandle numbers themselves, as the board allocates them.
  expect(phandleNumbers(mine)).toEqual(phandleNumbers(qemu));
  return applied;
}

function phandleNumbers(root: TNode): Record<string, number> {
  const out: Record<string, number> = {};
  for (const { path, node } of walk(root)) {
    const v = propOf(node, "phandle");
    if (v) out[path] = cellsOf(v)[0]!;
  }
  return out;
}

describe("arm virt device tree = QEMU's, node for node", () => {
  for (const c of ARM_CASES) {
    test(c.fixture, async (ctx) => {
      const dtc = requireDtc((note) => ctx.skip(note));
      const ours = buildArmVirtFdt(armVirtLayout(c.config));
      const applied = compareWithQemu(dtc, c, ours, ARM_VIRT_DIFFERENCES);
      await ctx.annotate(`allowed differences applied:\n${applied.join("\n")}`);
    });
  }
});

describe("riscv virt device tree = QEMU's, node for node", () => {
  for (const c of RISCV_CASES) {
    test(c.fixture, async (ctx) => {
      const dtc = requireDtc((note) => ctx.skip(note));
      const ours = buildRiscvVirtFdt(riscvVirtLayout(c.config, c.riscv), { randomBytes: counting });
      const applied = compareWithQemu(dtc, c, ours, RISCV_VIRT_DIFFERENCES);
      await ctx.annotate(`allowed differences applied:\n${applied.join("\n")}`);
    });
  }
});

describe("the comparison has teeth", () => {
  test("a wrong cell, a reference to another node, a missing node or a swapped order is a difference", (ctx) => {
    const dtc = requireDtc((note) => ctx.skip(note));
    const qemu = treeOf(dtsToDtb(dtc, fixtureSource("arm-virt-smp4")));
    const ours = treeOf(buildArmVirtFdt(armVirtLayout(armConfig({ smp: smp(4) }))));
    for (const d of ARM_VIRT_DIFFERENCES) d.apply(qemu, ours);
    const same = canonicalLines(qemu);
    expect(canonicalLines(ours)).toEqual(same);
    const edits: ((t: TNode) => void)[] = [
      (t) => (nodeOf(t, "/pl011@9000000").props.find((p) => p.name === "interrupts")!.value = bytesOf([0, 2, 4])),
      (t) => {
        // msi-map pointing at the GIC instead of the ITS: same number of cells, another node.
        const gic = cellsOf(propOf(nodeOf(t, "/intc@8000000"), "phandle")!)[0]!;
        nodeOf(t, "/pcie@10000000").props.find((p) => p.name === "msi-map")!.value = bytesOf([0, gic, 0, 0x10000]);
      },
      (t) => nodeOf(t, "/cpus").children.pop(),
      (t) => nodeOf(t, "/cpus/cpu-map/socket0/cluster0").children.reverse(),
    ];
    for (const edit of edits) {
      const t = treeOf(buildArmVirtFdt(armVirtLayout(armConfig({ smp: smp(4) }))));
      for (const d of ARM_VIRT_DIFFERENCES) d.apply(treeOf(dtsToDtb(dtc, fixtureSource("arm-virt-smp4"))), t);
      edit(t);
      expect(canonicalLines(t)).not.toEqual(same);
    }
  });
});

function nodeOf(t: TNode, path: string): TNode {
  const n = walk(t).find((e) => e.path === path)?.node;
  if (!n) throw new Error(`no node ${path}`);
  return n;
}

describe("fixtures", () => {
  test.each([...ARM_CASES, ...RISCV_CASES].map((c) => c.fixture))("%s records QEMU's version and command line", (name) => {
    const head = fixtureSource(name).split("\n").slice(0, 5).join("\n");
    expect(head).toMatch(/^\/\/ version: QEMU emulator version \d+\.\d+/m);
    expect(head).toMatch(new RegExp(`^// command: qemu-system-(aarch64|riscv64) -nodefaults -M virt.*dumpdtb=${name}\\.dtb`, "m"));
  });
});

describe("what the allowed differences hide, checked directly", () => {
  test("arm: upstream's root dma-coherent and /aliases/serial0 = stdout-path", () => {
    const fdt = parseFdt(buildArmVirtFdt(armVirtLayout(armConfig())));
    expect(fdt.root.has("dma-coherent")).toBe(true);
    expect(fdt.findNode("/aliases")?.string("serial0")).toBe("/pl011@9000000");
    expect(fdt.findNode("/chosen")?.string("stdout-path")).toBe("/pl011@9000000");
    expect(fdt.findNode("/cpus/cpu@0")?.string("compatible")).toBe("arm,armv8");
    expect(fdt.findNode("/cpus/cpu@0")?.has("next-level-cache")).toBe(false);
  });

  test("arm: PSCI through HVC with KVM's 1.x compatible list; the timer's four PPIs, level-high", () => {
    const fdt = parseFdt(buildArmVirtFdt(armVirtLayout(armConfig({ smp: smp(2) }))));
    const psci = fdt.findNode("/psci")!;
    expect(psci.stringList("compatible")).toEqual(["arm,psci-1.0", "arm,psci-0.2", "arm,psci"]);
    expect(psci.string("method")).toBe("hvc");
    expect(fdt.findNode("/timer")?.cells("interrupts")).toEqual([1, 13, 4, 1, 14, 4, 1, 11, 4, 1, 10, 4]);
    expect(fdt.findNode("/cpus/cpu@1")?.string("enable-method")).toBe("psci");
  });

  test("riscv: upstream's APLIC #address-cells, ISA properties and /aliases", () => {
    const fdt = parseFdt(buildRiscvVirtFdt(riscvVirtLayout(riscvConfig({ smp: smp(2) }))));
    const aplic = fdt.findNode("/soc/interrupt-controller@d000000")!;
    expect(aplic.u32("#address-cells")).toBe(0);
    expect(aplic.stringList("compatible")).toEqual(["qemu,aplic", "riscv,aplic"]);
    const cpu = fdt.findNode("/cpus/cpu@1")!;
    expect(cpu.string("riscv,isa")).toBe("rv64imafdc_zicntr_zicsr_zifencei_zihpm_ssaia_sstc");
    expect(cpu.string("riscv,isa-base")).toBe("rv64i");
    expect(cpu.stringList("riscv,isa-extensions")).toEqual(["i", "m", "a", "f", "d", "c", "zicntr", "zicsr", "zifencei", "zihpm", "ssaia", "sstc"]);
    expect(fdt.findNode("/aliases")?.string("serial0")).toBe("/soc/serial@10000000");
  });

  test("riscv: the PMU event map has no counters under KVM", () => {
    const fdt = parseFdt(buildRiscvVirtFdt(riscvVirtLayout(riscvConfig())));
    expect(fdt.findNode("/pmu")?.cells("riscv,event-to-mhpmcounters")).toEqual([
      1, 1, 1, 2, 2, 4, 0x10019, 0x10019, 0, 0x1001b, 0x1001b, 0, 0x10021, 0x10021, 0,
    ]);
  });

  test("riscv: the in-kernel AIA has one APLIC for every socket; the IMSIC keeps one group per socket", () => {
    const numaNodes = [
      { cpus: 4, memBytes: 128 * MiB },
      { cpus: 2, memBytes: 128 * MiB },
    ];
    const config = riscvConfig({ smp: smp(6), ramBytes: 256 * MiB, aiaGuests: 3 });
    const fdt = parseFdt(buildRiscvVirtFdt(riscvVirtLayout(config, { numaNodes })));
    const ics = fdt.root.child("soc")!.children.filter((n) => n.name.startsWith("interrupt-controller@"));
    expect(ics.map((n) => n.name)).toEqual(["interrupt-controller@d000000", "interrupt-controller@28000000"]);
    const aplic = ics[0]!;
    expect(aplic.u32("numa-node-id")).toBe(0);
    expect(fdt.nodeByPhandle(aplic.u32("msi-parent")!)?.name).toBe("interrupt-controller@28000000");
    const imsic = ics[1]!;
    expect(imsic.cells("reg")).toEqual([0, 0x2800_0000, 0, 4 * 0x4000, 0, 0x2900_0000, 0, 2 * 0x4000]);
    expect([imsic.u32("riscv,guest-index-bits"), imsic.u32("riscv,hart-index-bits"), imsic.u32("riscv,group-index-bits")]).toEqual([2, 2, 1]);
    expect(imsic.u32("riscv,group-index-shift")).toBe(24);
    // Everything wired goes to that one APLIC.
    const pci = fdt.findNode("/soc/pci@30000000")!;
    expect(new Set(cellsOf(pci.prop("interrupt-map")!).filter((_, i) => i % 7 === 4))).toEqual(new Set([aplic.phandle]));
  });

  test("no randomness without a source; QEMU's layout of kaslr-seed and rng-seed with one", () => {
    const layout = armVirtLayout(armConfig());
    const plain = parseFdt(buildArmVirtFdt(layout)).findNode("/chosen")!;
    expect([...plain.properties.keys()]).toEqual(["stdout-path"]);
    const seeded = parseFdt(buildArmVirtFdt(layout, { randomBytes: counting })).findNode("/chosen")!;
    expect([...seeded.properties.keys()]).toEqual(["stdout-path", "rng-seed", "kaslr-seed"]);
    expect([...seeded.prop("kaslr-seed")!]).toEqual([7, 6, 5, 4, 3, 2, 1, 0]);
    expect(seeded.prop("rng-seed")![0]).toBe(8);
    expect(seeded.prop("rng-seed")!.length).toBe(32);
    expect(buildArmVirtFdt(layout)).toEqual(buildArmVirtFdt(layout));
  });

  test("bootargs and initrd go to /chosen as QEMU's boot code writes them", () => {
    const boot = { bootargs: "console=ttyAMA0", initrd: { start: 0x4800_0000, end: 0x4810_0000 } };
    const arm = parseFdt(buildArmVirtFdt(armVirtLayout(armConfig()), boot)).findNode("/chosen")!;
    expect(arm.string("bootargs")).toBe("console=ttyAMA0");
    expect(arm.cells("linux,initrd-start")).toEqual([0, 0x4800_0000]);
    const rv = parseFdt(buildRiscvVirtFdt(riscvVirtLayout(riscvConfig()), boot)).findNode("/chosen")!;
    expect([...rv.properties.keys()]).toEqual(["bootargs", "linux,initrd-end", "linux,initrd-start", "stdout-path"]);
  });
});
