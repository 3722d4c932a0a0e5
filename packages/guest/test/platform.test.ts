// PlatformInfo from QEMU-shaped trees built with FdtWriter: what a Linux guest finds.
import { describe, expect, test } from "vitest";
import { allocateBootMemory, treeArch } from "../src/index.js";
import { checkFdt } from "../src/index.js";
import { platformOf } from "./helpers.js";
import { armVirtTree, riscvVirtTree } from "./trees.js";

const MiB = 1024 * 1024;

describe("arm64 virt with GICv3 and ITS", () => {
  const p = platformOf(armVirtTree({ cpus: 4 }), "aarch64");

  test("memory, model and the blob as reserved memory", () => {
    expect(p.arch).toBe("aarch64");
    expect(p.model).toBe("linux,dummy-virt");
    expect(p.compatible).toEqual(["linux,dummy-virt"]);
    expect(p.memory).toEqual([{ base: 0x4000_0000, size: 128 * MiB }]);
    expect(p.memorySize).toBe(128 * MiB);
    expect(p.reserved[0]).toEqual({ base: 0x4000_0000, size: armVirtTree({ cpus: 4 }).length });
  });

  test("CPUs: reg is the MPIDR, enable-method psci, boot CPU first", () => {
    expect(p.cpus.map((c) => [c.logical, c.path, c.hwid, c.enableMethod])).toEqual([
      [0, "/cpus/cpu@0", 0, "psci"],
      [1, "/cpus/cpu@1", 1, "psci"],
      [2, "/cpus/cpu@2", 2, "psci"],
      [3, "/cpus/cpu@3", 3, "psci"],
    ]);
    expect(p.cpus[0]!.isa).toBeUndefined();
  });

  test("another boot CPU gets logical number 0, the rest keep tree order", () => {
    const q = platformOf(armVirtTree({ cpus: 4 }), "aarch64", 2);
    expect(q.cpus.map((c) => [c.logical, c.hwid])).toEqual([[0, 2], [1, 0], [2, 1], [3, 3]]);
  });

  test("the GICv3: distributor, one redistributor region, the ITS child", () => {
    expect(p.gic).toEqual({
      path: "/intc@8000000",
      phandle: 0x8003,
      interruptCells: 3,
      distributor: { base: 0x0800_0000, size: 0x1_0000 },
      redistributorRegions: [{ base: 0x080a_0000, size: 0xf6_0000 }],
      redistributorStride: undefined,
      otherRegions: [],
      its: [{ path: "/intc@8000000/its@8080000", phandle: 0x8004, region: { base: 0x0808_0000, size: 0x2_0000 }, msiCells: 1 }],
    });
  });

  test("#redistributor-regions = 2 splits reg accordingly", () => {
    const q = platformOf(armVirtTree({ twoRedistRegions: true }), "aarch64");
    expect(q.gic?.redistributorRegions).toEqual([
      { base: 0x080a_0000, size: 0xf6_0000 },
      { base: 0x40_1000_0000, size: 0x400_0000 },
    ]);
  });

  test("the console is the PL011 of stdout-path, its interrupt an SPI of the GIC", () => {
    expect(p.console).toEqual({
      kind: "pl011",
      path: "/pl011@9000000",
      region: { base: 0x0900_0000, size: 0x1000 },
      interrupts: [{ controller: "/intc@8000000", cells: [0, 1, 4] }],
    });
  });

  test("PSCI 1.0 over HVC with the standard function ids", () => {
    expect(p.psci).toEqual({
      path: "/psci",
      version: "1.0",
      method: "hvc",
      cpuOn: 0xc400_0003,
      cpuOff: 0x8400_0002,
      systemOff: 0x8400_0008,
      systemReset: 0x8400_0009,
    });
    expect(platformOf(armVirtTree({ psciMethod: "smc" }), "aarch64").psci?.method).toBe("smc");
  });

  test("PSCI 0.1 takes CPU_ON/CPU_OFF from the node and has no SYSTEM_OFF", () => {
    const q = platformOf(armVirtTree({ psci01: true }), "aarch64");
    expect(q.psci).toMatchObject({ version: "0.1", cpuOn: 0x9500_0003, cpuOff: 0x9500_0002, systemOff: undefined });
  });

  test("the PCIe host: ECAM, bus range, ranges decoded, msi-map to the ITS", () => {
    expect(p.pcie).toEqual([
      {
        path: "/pcie@10000000",
        ecam: { base: 0x40_1000_0000, size: 0x1000_0000 },
        busRange: [0, 0xff],
        domain: 0,
        ranges: [
          { space: "io", prefetchable: false, pciAddress: 0, cpuAddress: 0x3eff_0000, size: 0x1_0000 },
          { space: "mem32", prefetchable: false, pciAddress: 0x1000_0000, cpuAddress: 0x1000_0000, size: 0x2eff_0000 },
          { space: "mem64", prefetchable: true, pciAddress: 0x80_0000_0000, cpuAddress: 0x80_0000_0000, size: 0x80_0000_0000 },
        ],
        msiMap: [{ ridBase: 0, controller: "/intc@8000000/its@8080000", outBase: 0, length: 0x1_0000 }],
        msiMapMask: undefined,
        msiParent: undefined,
        dmaCoherent: true,
      },
    ]);
  });

  test("no ITS: no msi-map, no ITS child", () => {
    const q = platformOf(armVirtTree({ its: false }), "aarch64");
    expect(q.gic?.its).toEqual([]);
    expect(q.pcie[0]?.msiMap).toEqual([]);
  });

  test("riscv-only fields stay empty", () => {
    expect([p.aplics, p.imsics, p.timebaseFrequency]).toEqual([[], [], undefined]);
  });

  test("/memreserve/ entries are reserved, and the boot allocator avoids them and the blob", () => {
    const blob = armVirtTree({ memReserve: [[0x4000_2000, 0x3000]] });
    const q = platformOf(blob, "aarch64");
    expect(q.reserved).toEqual([{ base: 0x4000_0000, size: blob.length }, { base: 0x4000_2000, size: 0x3000 }]);
    expect(blob.length).toBeLessThan(0x2000);
    expect(allocateBootMemory(q, 0x1000)).toBe(0x4000_1000);
    expect(allocateBootMemory(q, 0x2000)).toBe(0x4000_5000);
    expect(allocateBootMemory(q, 0x1000, 0x1_0000)).toBe(0x4001_0000);
    expect(allocateBootMemory(q, 256 * MiB)).toBeUndefined();
  });
});

describe("riscv64 virt with APLIC and IMSIC", () => {
  const p = platformOf(riscvVirtTree({ harts: 4 }), "riscv64", 0, 0x87e0_0000);

  test("memory, harts with ISA and cpu-intc, timebase", () => {
    expect(p.memory).toEqual([{ base: 0x8000_0000, size: 128 * MiB }]);
    expect(p.timebaseFrequency).toBe(10_000_000);
    expect(p.cpus.map((c) => [c.logical, c.hwid, c.intcPhandle, c.enableMethod])).toEqual([
      [0, 0, 0x10, undefined],
      [1, 1, 0x11, undefined],
      [2, 2, 0x12, undefined],
      [3, 3, 0x13, undefined],
    ]);
    expect(p.cpus[0]!.isa).toBe("rv64imafdch_zicsr_zifencei_smaia_ssaia");
  });

  test("the boot hart from a0 comes first", () => {
    const q = platformOf(riscvVirtTree({ harts: 4 }), "riscv64", 3);
    expect(q.cpus.map((c) => c.hwid)).toEqual([3, 0, 1, 2]);
  });

  test("the IMSIC with Linux's defaults for the index bits", () => {
    expect(p.imsics).toEqual([
      {
        path: "/soc/interrupt-controller@28000000",
        phandle: 0x40,
        compatible: ["qemu,imsics", "riscv,imsics"],
        level: "supervisor",
        regions: [{ base: 0x2800_0000, size: 0x4000 }],
        harts: [0, 1, 2, 3],
        numIds: 255,
        numGuestIds: 255,
        guestIndexBits: 0,
        hartIndexBits: 2,
        groupIndexBits: 0,
        groupIndexShift: 24,
        ipiId: undefined,
      },
    ]);
    // __fls(5) = 2, and 4 < 5 harts: one bit more.
    expect(platformOf(riscvVirtTree({ harts: 5 }), "riscv64").imsics[0]?.hartIndexBits).toBe(3);
    expect(platformOf(riscvVirtTree({ harts: 1 }), "riscv64").imsics[0]?.hartIndexBits).toBe(0);
  });

  test("the APLIC in MSI mode takes its level from the IMSIC", () => {
    expect(p.aplics).toEqual([
      {
        path: "/soc/interrupt-controller@d000000",
        phandle: 0x41,
        compatible: ["qemu,aplic", "riscv,aplic"],
        level: "supervisor",
        region: { base: 0x0d00_0000, size: 0x8000 },
        numSources: 96,
        delivery: "msi",
        msiParent: "/soc/interrupt-controller@28000000",
        harts: [],
        children: [],
        delegation: [],
      },
    ]);
  });

  test("the APLIC in direct mode lists the harts of its IDCs", () => {
    const q = platformOf(riscvVirtTree({ harts: 2, aia: "aplic" }), "riscv64");
    expect(q.imsics).toEqual([]);
    expect(q.aplics[0]).toMatchObject({ delivery: "direct", msiParent: undefined, harts: [0, 1], level: "supervisor" });
  });

  test("the console is the NS16550A with its APLIC interrupt", () => {
    expect(p.console).toEqual({
      kind: "ns16550a",
      path: "/soc/serial@10000000",
      region: { base: 0x1000_0000, size: 0x100 },
      regShift: 0,
      regIoWidth: 1,
      clockFrequency: 3_686_400,
      interrupts: [{ controller: "/soc/interrupt-controller@d000000", cells: [10, 4] }],
    });
    const q = platformOf(riscvVirtTree({ uartRegShift: 2, uartRegIoWidth: 4 }), "riscv64");
    expect(q.console).toMatchObject({ regShift: 2, regIoWidth: 4 });
  });

  test("the PCIe host's MSIs go to the IMSIC", () => {
    expect(p.pcie[0]).toMatchObject({ path: "/soc/pci@30000000", ecam: { base: 0x3000_0000, size: 0x1000_0000 }, msiParent: "/soc/interrupt-controller@28000000", msiMap: [] });
  });

  test("no stdout-path: no UART (the SBI console is used)", () => {
    expect(platformOf(riscvVirtTree({ stdoutPath: null }), "riscv64").console).toBeUndefined();
  });

  test("addresses are translated through a bus's non-identity ranges", () => {
    const q = platformOf(riscvVirtTree({ offsetBus: true }), "riscv64");
    expect(q.console?.region).toEqual({ base: 0x1000_0000, size: 0x100 });
    expect(q.aplics[0]?.region).toEqual({ base: 0x0d00_0000, size: 0x8000 });
    expect(q.imsics[0]?.regions).toEqual([{ base: 0x2800_0000, size: 0x4000 }]);
  });

  test("arm-only fields stay empty", () => {
    expect([p.gic, p.psci]).toEqual([undefined, undefined]);
  });
});

test("treeArch tells the architecture from the CPUs' compatible", () => {
  const arch = (blob: Uint8Array): unknown => {
    const r = checkFdt(blob, 0);
    return r.ok ? treeArch(r.fdt) : r.message;
  };
  expect(arch(armVirtTree())).toBe("aarch64");
  expect(arch(riscvVirtTree())).toBe("riscv64");
  expect(arch(armVirtTree({ cpuCompatible: "acme,cpu" }))).toBeUndefined();
});
