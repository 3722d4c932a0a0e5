/**
 * The virt board layouts: the numbers hw/arm/virt.c and hw/riscv/virt.c
 * compute under KVM, and QEMU's errors when a configuration does not fit.
 */

import { ConfigError } from "@irqlab/sim";
import { describe, expect, test } from "vitest";
import { armVirtLayout, armVirtMpidr, riscvVirtLayout } from "../src/index.js";
import { armConfig, riscvConfig, smp } from "./virt-configs.js";

const MiB = 2 ** 20;
const GiB = 2 ** 30;

describe("arm virt layout", () => {
  test("the default map: GICv3 with ITS, high ECAM and MMIO above 256 GiB, a 40-bit IPA", () => {
    const l = armVirtLayout(armConfig({ smp: smp(4) }));
    expect(l.ram).toEqual({ base: GiB, size: 128 * MiB });
    expect(l.gic.dist).toEqual({ base: 0x0800_0000, size: 0x1_0000 });
    expect(l.gic.redistRegions).toEqual([{ index: 0, base: 0x080a_0000, size: 0xf6_0000, count: 4, capacity: 123 }]);
    expect(l.gic.its).toEqual({ base: 0x0808_0000, size: 0x2_0000 });
    expect(l.gic.nrIrqs).toBe(288);
    expect(l.gic.maxCpus).toBe(123 + 512);
    expect(l.highRegions.gicRedist2).toEqual({ base: 256 * GiB, size: 64 * MiB, enabled: true });
    expect(l.pcie.ecam).toEqual({ base: 0x40_1000_0000, size: 256 * MiB });
    expect(l.pcie.buses).toBe(256);
    expect(l.pcie.mmioHigh).toEqual({ base: 512 * GiB, size: 512 * GiB });
    expect(l.pcie.intxSpis).toEqual([3, 4, 5, 6]);
    expect(l.ipaBits).toBe(40);
    expect(l.msiGsiBase).toBe(256);
    expect(l.uart).toEqual({ region: { base: 0x0900_0000, size: 0x1000 }, spi: 1 });
    expect(l.psci).toEqual({ method: "hvc", version: { major: 1, minor: 1 } });
    expect(l.timer).toEqual({ secureEl1: 29, nonSecureEl1: 30, virtual: 27, hypervisor: 26 });
    expect(l.pmuIntid).toBe(23);
  });

  test("MPIDRs: 16 CPUs per Aff0 cluster, whatever the -smp topology; cpu-map ids from the topology", () => {
    expect([0, 15, 16, 17, 200].map(armVirtMpidr)).toEqual([0x0, 0xf, 0x100, 0x101, 0xc08]);
    const l = armVirtLayout(armConfig({ smp: smp(8, { sockets: 2, clusters: 2, cores: 2, threads: 1 }) }));
    expect(l.cpus.map((c) => c.mpidr)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(l.cpus[5]).toMatchObject({ socket: 1, cluster: 0, core: 1, thread: 0, present: true });
  });

  test("123 redistributors fit the low region; the 124th goes to VIRT_HIGH_GIC_REDIST2", () => {
    expect(armVirtLayout(armConfig({ smp: smp(123) })).gic.redistRegions).toHaveLength(1);
    const l = armVirtLayout(armConfig({ smp: smp(200) }));
    expect(l.gic.redistRegions.map((r) => [r.base, r.size, r.count])).toEqual([
      [0x080a_0000, 0xf6_0000, 123],
      [256 * GiB, 64 * MiB, 77],
    ]);
  });

  test("QEMU's error when maxcpus does not fit the redistributor space", () => {
    const tooMany = armConfig({ smp: smp(124), highmemRedists: false });
    expect(() => armVirtLayout(tooMany)).toThrow(ConfigError);
    expect(() => armVirtLayout(tooMany)).toThrow(
      "Number of SMP CPUs requested (124) exceeds max CPUs supported by machine 'mach-virt' (123)\nTry 'highmem-redists=on' for more CPUs",
    );
    expect(() => armVirtLayout(armConfig({ smp: smp(2, { maxcpus: 124 }), highmemRedists: false }))).toThrow(/requested \(124\)/);
    expect(() => armVirtLayout(armConfig({ smp: smp(513) }))).toThrow("Invalid SMP CPUs 513. The max CPUs supported by machine 'virt' is 512");
  });

  test("absent CPU slots get no redistributor unless the hotplug model asks for maxcpus of them", () => {
    const config = armConfig({ smp: smp(2, { maxcpus: 4 }) });
    expect(armVirtLayout(config).gic.redistRegions[0]!.count).toBe(2);
    expect(armVirtLayout(config, { redistributors: 4 }).gic.redistRegions[0]!.count).toBe(4);
    expect(armVirtLayout(config).cpus.map((c) => c.present)).toEqual([true, true, false, false]);
  });

  test("highmem=off: a 32-bit map, the low ECAM (16 buses), no 64-bit window, 123 CPUs at most", () => {
    const l = armVirtLayout(armConfig({ smp: smp(2), highmem: false }));
    expect(l.pcie.ecam).toEqual({ base: 0x3f00_0000, size: 16 * MiB });
    expect(l.pcie.buses).toBe(16);
    expect(l.pcie.mmioHigh).toBeUndefined();
    expect(l.highRegions.gicRedist2.enabled).toBe(false);
    expect(l.gic.maxCpus).toBe(123);
    expect(l.ipaBits).toBe(32);
  });

  test("the high regions float above RAM and drop out when the IPA space is too small", () => {
    const l = armVirtLayout(armConfig({ ramBytes: 600 * GiB }));
    expect(l.highRegions.gicRedist2.base).toBe(601 * GiB);
    expect(l.highRegions.pcieEcam).toEqual({ base: 601 * GiB + 256 * MiB, size: 256 * MiB, enabled: true });
    expect(l.highRegions.pcieMmio.enabled).toBe(false); // [1 TiB, 1.5 TiB) is beyond 40 bits
    expect(l.ipaBits).toBe(40);
    const big = armVirtLayout(armConfig({ ramBytes: 600 * GiB }), { maxIpaBits: 44 });
    expect(big.pcie.mmioHigh).toEqual({ base: 1024 * GiB, size: 512 * GiB });
    expect(big.ipaBits).toBe(41);
  });

  test("QEMU's errors when RAM does not fit the IPA space", () => {
    expect(() => armVirtLayout(armConfig({ ramBytes: 1100 * GiB }))).toThrow(
      `Addressing limited to 40 bits, but memory exceeds it by ${77 * GiB} bytes`,
    );
    expect(() => armVirtLayout(armConfig({ ramBytes: 5 * GiB, highmem: false }))).toThrow(/^Addressing limited to 32 bits/);
  });

  test("its=off: no ITS, and nothing else moves", () => {
    const l = armVirtLayout(armConfig({ its: false }));
    expect(l.gic.its).toBeUndefined();
    expect(l.pcie.ecam.base).toBe(0x40_1000_0000);
  });

  test("the CPU compatible follows -cpu", () => {
    expect(armVirtLayout(armConfig({ cpu: "host" })).cpuCompatible).toBe("arm,armv8");
    expect(armVirtLayout(armConfig({ cpu: "cortex-a57" })).cpuCompatible).toBe("arm,cortex-a57");
  });

  test("refuses a riscv64 config", () => {
    expect(() => armVirtLayout(riscvConfig())).toThrow(ConfigError);
  });
});

describe("riscv virt layout", () => {
  test("aia=aplic-imsic under KVM: S-level IMSIC files with guest files, one APLIC in the kernel", () => {
    const l = riscvVirtLayout(riscvConfig({ smp: smp(4), aiaGuests: 5 }));
    expect(l.ram).toEqual({ base: 0x8000_0000, size: 128 * MiB });
    const im = l.imsic!;
    expect([im.guestBits, im.hartBits, im.groupBits, im.hartStride]).toEqual([3, 2, 0, 0x8000]);
    expect(im.files.map((f) => f.address)).toEqual([0x2800_0000, 0x2800_8000, 0x2801_0000, 0x2801_8000]);
    expect(im.groups).toEqual([{ base: 0x2800_0000, size: 4 * 0x8000 }]);
    expect(l.aplic).toMatchObject({ delivery: "msi", emulated: false, numSources: 96 });
    expect(l.aplic!.domains).toEqual([{ socket: 0, base: 0xd00_0000, size: 0x8000, firstHart: 0, numHarts: 4 }]);
    expect(l.kvmAia).toEqual({
      mode: "auto",
      aplic: { nrSources: 96, base: 0xd00_0000 },
      nrIds: 255,
      group: undefined,
      guestBits: 3,
      hartBits: 2,
      imsicAddrs: [0x2800_0000, 0x2800_8000, 0x2801_0000, 0x2801_8000],
      gsiPinRoutes: 97,
    });
    expect(l.msiGsiBase).toBe(97);
    expect(l.plic).toBeUndefined();
    expect(l.uart).toEqual({ region: { base: 0x1000_0000, size: 0x100 }, irq: 10 });
    expect(l.pcie.intxIrqs).toEqual([32, 33, 34, 35]);
    expect(l.pcie.mmioHigh).toEqual({ base: 16 * GiB, size: 16 * GiB });
    expect(l.timebaseFrequency).toBe(10_000_000);
  });

  test("KVM's guest_bits (fls(aia-guests)) equals the device tree's imsic_num_bits(aia-guests + 1)", () => {
    for (let g = 0; g <= 7; g++) {
      const l = riscvVirtLayout(riscvConfig({ aiaGuests: g }));
      expect(l.kvmAia!.guestBits).toBe(l.imsic!.guestBits);
    }
  });

  test("kernel-irqchip=split keeps the APLIC in QEMU and out of the KVM device", () => {
    const l = riscvVirtLayout(riscvConfig({ smp: smp(2), kernelIrqchip: "split" }));
    expect(l.aplic!.emulated).toBe(true);
    expect(l.kvmAia!.aplic).toBeUndefined();
  });

  test("aia=aplic: a QEMU APLIC in direct mode, no IMSIC, no KVM AIA device", () => {
    const l = riscvVirtLayout(riscvConfig({ smp: smp(2), aia: "aplic" }));
    expect(l.aplic).toMatchObject({ delivery: "direct", emulated: true });
    expect([l.imsic, l.kvmAia, l.msiGsiBase]).toEqual([undefined, undefined, undefined]);
  });

  test("aia=none: the PLIC with one S-mode context per hart", () => {
    const l = riscvVirtLayout(riscvConfig({ smp: smp(2), aia: "none" }));
    expect(l.plic).toEqual({
      domains: [{ socket: 0, base: 0xc00_0000, size: 0x60_0000, firstHart: 0, numHarts: 2 }],
      contextsPerHart: 1,
      ndev: 95,
      numPrioBits: 3,
    });
    expect(l.aplic).toBeUndefined();
  });

  test("-smp sockets= alone is one riscv socket; -numa nodes are sockets with their own IMSIC group", () => {
    expect(riscvVirtLayout(riscvConfig({ smp: smp(8, { sockets: 2 }) })).sockets).toHaveLength(1);
    const numaNodes = [
      { cpus: 4, memBytes: 128 * MiB },
      { cpus: 2, memBytes: 128 * MiB },
    ];
    const config = riscvConfig({ smp: smp(6), ramBytes: 256 * MiB, aiaGuests: 3 });
    const l = riscvVirtLayout(config, { numaNodes });
    expect(l.sockets.map((s) => [s.firstHart, s.numHarts, s.mem.base])).toEqual([
      [0, 4, 0x8000_0000],
      [4, 2, 0x8800_0000],
    ]);
    expect(l.imsic!.groups).toEqual([
      { base: 0x2800_0000, size: 0x1_0000 },
      { base: 0x2900_0000, size: 0x8000 },
    ]);
    expect(l.kvmAia!.imsicAddrs[4]).toBe(0x2900_0000);
    expect(l.kvmAia!.group).toEqual({ bits: 1, shift: 24 });
    expect(l.kvmAia!.hartBits).toBe(2);
    expect(l.aplic!.domains).toHaveLength(1);
    expect(l.irqchipSocket).toEqual({ mmio: 0, virtio: 0, pcie: 0 });
    const split = riscvVirtLayout(riscvConfig({ smp: smp(6), ramBytes: 256 * MiB, aiaGuests: 3, kernelIrqchip: "split" }), { numaNodes });
    expect(split.aplic!.domains.map((d) => d.base)).toEqual([0xd00_0000, 0xd00_8000]);
    expect(split.irqchipSocket).toEqual({ mmio: 0, virtio: 1, pcie: 1 });
  });

  test("QEMU's errors", () => {
    expect(() => riscvVirtLayout(riscvConfig({ aiaGuests: 8 }))).toThrow("Invalid number of AIA IMSIC guests\nValid values be between 0 and 7.");
    const numa = (memBytes: number) => [{ cpus: 1, memBytes }];
    expect(() => riscvVirtLayout(riscvConfig(), { numaNodes: numa(64 * MiB) })).toThrow(
      "total memory for NUMA nodes (0x4000000) should equal RAM size (0x8000000)",
    );
    const five = Array.from({ length: 5 }, () => ({ cpus: 1, memBytes: 32 * MiB }));
    expect(() => riscvVirtLayout(riscvConfig({ smp: smp(5), ramBytes: 160 * MiB }), { numaNodes: five })).toThrow(
      "number of sockets/nodes should be less than 4",
    );
    expect(() => riscvVirtLayout(armConfig())).toThrow(ConfigError);
  });

  test("the 64-bit PCIe window sits at the top of RAM rounded up to 16 GiB", () => {
    expect(riscvVirtLayout(riscvConfig({ ramBytes: 16 * GiB })).pcie.mmioHigh.base).toBe(32 * GiB);
  });
});
