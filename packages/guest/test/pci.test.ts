// PCI enumeration, BAR assignment, capability walk and MSI-X programming
// against the machine's PCIe host bridge and functions; msi-map.
import { MsixTestFunction, PcieHost, VfioPciFunction, VIRTIO_SCSI_PCI_LAYOUT } from "@irqlab/machine";
import { op } from "@irqlab/sim";
import { describe, expect, test } from "vitest";
import { MsixCapability, enumeratePciBus, msiMapId, type PcieHostInfo, type PciEnumeration } from "../src/index.js";
import { ItsRig } from "./its-rig.js";

const ECAM = 0x40_1000_0000;
const DOORBELL = 0x0808_0000 + 0x1_0040;

function host(extra: Partial<PcieHostInfo> = {}): PcieHostInfo {
  return {
    path: "/pcie@10000000",
    ecam: { base: ECAM, size: 0x1000_0000 },
    busRange: [0, 255],
    domain: 0,
    ranges: [
      { space: "io", prefetchable: false, pciAddress: 0, cpuAddress: 0x3eff_0000, size: 0x1_0000 },
      { space: "mem32", prefetchable: false, pciAddress: 0x1000_0000, cpuAddress: 0x1000_0000, size: 0x2eff_0000 },
      { space: "mem64", prefetchable: false, pciAddress: 0x80_0000_0000, cpuAddress: 0x80_0000_0000, size: 0x80_0000_0000 },
    ],
    msiMap: [{ ridBase: 0, controller: "/intc@8000000/its@8080000", outBase: 0, length: 0x1_0000 }],
    msiMapMask: undefined,
    msiParent: undefined,
    dmaCoherent: true,
    ...extra,
  };
}

interface Sent {
  addr: number;
  data: number;
  rid: number;
}

function bus(): { rig: ItsRig; sent: Sent[]; test: MsixTestFunction; vfio: VfioPciFunction } {
  const rig = new ItsRig({ cpus: 1 });
  const sent: Sent[] = [];
  const sink = (lo: number, hi: number, data: number, rid: number): void => {
    sent.push({ addr: hi * 2 ** 32 + lo, data, rid });
  };
  const pcie = new PcieHost({
    barListener: {
      barMapped: (fn, bar, address, size, device) => rig.bus.map(address, size, device, `${fn.name}/bar${bar}`),
      barUnmapped: (fn, bar) => rig.bus.unmap(`${fn.name}/bar${bar}`),
    },
  });
  rig.bus.map(ECAM, 0x1000_0000, pcie, "ecam");
  const t = new MsixTestFunction({ sink, name: "msixtest" });
  pcie.plug(t, 1);
  // QEMU's KVM/VFIO side is not under test here: record what it is asked.
  const asked: string[] = [];
  const note = (what: string) => (v?: number) => asked.push(`${what} ${v ?? ""}`);
  const backend = { addRoute: note("addRoute"), updateRoute: note("updateRoute"), removeRoute: note("removeRoute"), setTrigger: note("setTrigger"), disableIndex: note("disableIndex"), signalIrqfd: note("signalIrqfd") };
  const vfio = new VfioPciFunction({ ...VIRTIO_SCSI_PCI_LAYOUT, backend, sink, name: "vfio" });
  pcie.plug(vfio, 2);
  return { rig, sent, test: t, vfio };
}

describe("enumeration", () => {
  test("bus 0: the host bridge, the test function, the passed-through virtio-scsi; Linux's log lines", () => {
    const { rig } = bus();
    const e = rig.run(enumeratePciBus(host()));
    expect(e.functions.map((f) => [f.name, f.vendorId, f.deviceId, f.classCode, f.requesterId])).toEqual([
      ["0000:00:00.0", 0x1b36, 0x0008, 0x060000, 0],
      ["0000:00:01.0", 0x1234, 0x11e9, 0xff0000, 8],
      ["0000:00:02.0", 0x1af4, 0x1004, 0x010000, 16],
    ]);
    expect(e.log).toEqual([
      "pci 0000:00:00.0: [1b36:0008] type 00 class 0x060000",
      "pci 0000:00:01.0: [1234:11e9] type 00 class 0xff0000",
      "pci 0000:00:02.0: [1af4:1004] type 00 class 0x010000",
      "pci 0000:00:02.0: BAR 4 [mem 0x8000000000-0x8000003fff 64bit pref]: assigned",
      "pci 0000:00:01.0: BAR 0 [mem 0x10000000-0x10000fff]: assigned",
      "pci 0000:00:01.0: BAR 1 [mem 0x10001000-0x10001fff]: assigned",
      "pci 0000:00:02.0: BAR 1 [mem 0x10002000-0x10002fff]: assigned",
    ]);
    expect(rig.faults).toEqual([]);
  });

  test("BARs decode where they were assigned; memory decode and bus mastering are on", () => {
    const { rig } = bus();
    const e = rig.run(enumeratePciBus(host()));
    const f = e.functions[1]!;
    expect(rig.run((function* () { return (yield op.read(f.bars[0]!.cpuAddress!, 4)).value; })())).toBe(0x5458534d); // "MSXT"
    expect(rig.run(f.config.read16(0x04)) & 0x6).toBe(0x6);
  });

  test("the capability walk: PCIe then MSI-X on the vfio function, MSI-X alone on the test function", () => {
    const { rig } = bus();
    const e = rig.run(enumeratePciBus(host()));
    expect(e.functions.map((f) => f.capabilities)).toEqual([[], [0x11], [0x10, 0x11]]);
  });

  test("a 64-bit BAR falls back below 4 GiB without a high window", () => {
    const { rig } = bus();
    const h = host();
    const e: PciEnumeration = rig.run(enumeratePciBus({ ...h, ranges: h.ranges.filter((r) => r.space !== "mem64") }));
    expect(e.functions[2]!.bars.find((b) => b.index === 4)!.cpuAddress).toBe(0x1000_0000);
  });
});

describe("MSI-X", () => {
  test("Linux's sequence: enabled under the function mask, all entries masked, messages written, mask lifted", () => {
    const { rig, sent, test: t } = bus();
    const e = rig.run(enumeratePciBus(host()));
    const f = e.functions[1]!;
    const msix = rig.run(MsixCapability.find(f))!;
    expect(msix.vectors).toBe(8);
    rig.run(msix.setup(Array.from({ length: 8 }, (_, i) => ({ addressLo: DOORBELL, addressHi: 0, data: i }))));
    expect([t.msix.enabled, t.msix.functionMasked]).toEqual([true, false]);
    const doorbell = function* (v: number) {
      yield op.write(f.bars[0]!.cpuAddress! + 8, 4, v);
    };
    rig.run(doorbell(3));
    expect(sent).toEqual([]); // vector 3 still masked
    expect(rig.run(msix.pending(3))).toBe(true);
    rig.run(msix.mask(3, false));
    expect(sent).toEqual([{ addr: DOORBELL, data: 3, rid: 8 }]); // the pending message goes out on unmask
    rig.run(doorbell(3));
    expect(sent).toHaveLength(2);
    expect(rig.run(msix.readMessage(5))).toEqual({ addressLo: DOORBELL, addressHi: 0, data: 5 });
    rig.run(msix.shutdown());
    expect(t.msix.enabled).toBe(false);
  });

  test("the vfio-pci function's table is in BAR1 with 7 entries", () => {
    const { rig } = bus();
    const e = rig.run(enumeratePciBus(host()));
    const msix = rig.run(MsixCapability.find(e.functions[2]!))!;
    expect([msix.vectors, msix.table, msix.pba]).toEqual([7, 0x1000_2000, 0x1000_2800]);
  });
});

describe("msi-map (of_msi_map_id)", () => {
  test("identity map, offset and mask, an uncovered ID, no msi-map", () => {
    expect(msiMapId(host(), 8)).toEqual({ controller: "/intc@8000000/its@8080000", id: 8 });
    const shifted = host({ msiMap: [{ ridBase: 0x100, controller: "/its", outBase: 0x2000, length: 0x100 }], msiMapMask: 0xfff });
    expect(msiMapId(shifted, 0x1108)).toEqual({ controller: "/its", id: 0x2008 });
    expect(msiMapId(shifted, 0x08)).toBeUndefined();
    expect(msiMapId(host({ msiMap: [], msiParent: "/imsics" }), 0x10)).toEqual({ controller: "/imsics", id: 0x10 });
  });
});
