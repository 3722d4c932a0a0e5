// The GPEX host bridge and ECAM window against QEMU hw/pci-host/gpex.c
// (gpex_root_class_init), hw/pci/pcie_host.c (pcie_mmcfg_data_read/write) and
// hw/pci/pci.c (pci_init_wmask, pci_init_w1cmask, pci_default_write_config,
// pci_register_bar, pci_bar_address, pci_update_mappings, pci_irq_handler,
// pci_do_device_reset, pci_init_multifunction).
import { ConfigError, Tracer, type AccessSize, type MmioDevice } from "@irqlab/sim";
import { describe, expect, test } from "vitest";
import { MsixTestFunction } from "./msix-test-device.js";
import { PciFunction, type PciBarListener } from "./pci-function.js";
import { PcieHost } from "./pcie-host.js";
import * as R from "./pci-regs.js";
import { VfioPciFunction } from "./vfio-pci.js";
import { VIRTIO_SCSI_PCI_LAYOUT, type MsiVectorBackend } from "./vfio-pci-backend.js";

const ecam = (bus: number, dev: number, fn: number, reg: number) => (bus << 20) | (dev << 15) | (fn << 12) | reg;

function rig(allowZeroAddress = true) {
  const tracer = new Tracer();
  const events: string[] = [];
  const intx: string[] = [];
  const barListener: PciBarListener = {
    barMapped: (fn, bar, address, size) => events.push(`map ${fn.name} BAR${bar} 0x${address.toString(16)}+0x${size.toString(16)}`),
    barUnmapped: (fn, bar, address, size) => events.push(`unmap ${fn.name} BAR${bar} 0x${address.toString(16)}+0x${size.toString(16)}`),
  };
  const host = new PcieHost({ tracer, barListener, intx: (line, level) => intx.push(`${line}:${level ? 1 : 0}`), allowZeroAddress });
  const wide = { hi: 0 };
  const rd = (off: number, size: AccessSize = 4) => host.read(off, size, wide);
  const wr = (off: number, v: number, size: AccessSize = 4) => {
    host.write(off, size, v, 0);
  };
  return { host, tracer, events, intx, rd, wr, wide };
}

const nullBackend: MsiVectorBackend = {
  addRoute: () => undefined,
  updateRoute: () => undefined,
  removeRoute: () => undefined,
  setTrigger: () => undefined,
  disableIndex: () => undefined,
  signalIrqfd: () => undefined,
};

describe("gpex-root, function 00.0", () => {
  test.each([
    ["vendor 0x1b36 / device 0x0008", R.PCI_VENDOR_ID, 0x00081b36],
    ["status 0 / command 0", R.PCI_COMMAND, 0],
    ["class 0x060000, revision 0", R.PCI_CLASS_REVISION, 0x06000000],
    ["BIST / header type 0 / latency / cache line", R.PCI_CACHE_LINE_SIZE, 0],
    ["BAR0", R.PCI_BASE_ADDRESS_0, 0],
    ["subsystem 0x1100 / vendor 0x1af4 (QEMU default)", R.PCI_SUBSYSTEM_VENDOR_ID, 0x11001af4],
    ["expansion ROM", R.PCI_ROM_ADDRESS, 0],
    ["capabilities pointer", R.PCI_CAPABILITY_LIST, 0],
    ["interrupt pin / line", R.PCI_INTERRUPT_LINE, 0],
  ])("%s", (_name, reg, v) => {
    expect(rig().rd(ecam(0, 0, 0, reg))).toBe(v);
  });

  test("COMMAND keeps IO, MEMORY, MASTER, SERR, INTX_DISABLE; the identity is read-only", () => {
    const { rd, wr } = rig();
    wr(ecam(0, 0, 0, R.PCI_COMMAND), 0xffff, 2);
    expect(rd(ecam(0, 0, 0, R.PCI_COMMAND), 2)).toBe(0x0507);
    wr(ecam(0, 0, 0, R.PCI_VENDOR_ID), 0xffffffff);
    wr(ecam(0, 0, 0, R.PCI_CLASS_REVISION), 0xffffffff);
    expect(rd(ecam(0, 0, 0, R.PCI_VENDOR_ID))).toBe(0x00081b36);
    expect(rd(ecam(0, 0, 0, R.PCI_CLASS_REVISION))).toBe(0x06000000);
    wr(ecam(0, 0, 0, R.PCI_CACHE_LINE_SIZE), 0xffffffff);
    expect(rd(ecam(0, 0, 0, R.PCI_CACHE_LINE_SIZE))).toBe(0xff); // only CACHE_LINE_SIZE of the dword
  });

  test("STATUS error bits are write-1-to-clear", () => {
    const { host, rd, wr } = rig();
    host.root.setWord(R.PCI_STATUS, R.PCI_STATUS_REC_MASTER_ABORT | R.PCI_STATUS_PARITY);
    wr(ecam(0, 0, 0, R.PCI_STATUS), 0, 2);
    expect(rd(ecam(0, 0, 0, R.PCI_STATUS), 2)).toBe(0x2100);
    wr(ecam(0, 0, 0, R.PCI_STATUS), R.PCI_STATUS_PARITY, 2);
    expect(rd(ecam(0, 0, 0, R.PCI_STATUS), 2)).toBe(0x2000);
  });

  test("bytes 0x40-0xff of an emulated function are plain storage (QEMU's wmask there is 0xff)", () => {
    const { rd, wr } = rig();
    wr(ecam(0, 0, 0, 0x80), 0xdeadbeef);
    expect(rd(ecam(0, 0, 0, 0x80))).toBe(0xdeadbeef);
  });
});

describe("ECAM decoding", () => {
  test("empty device, function, other bus, beyond a conventional function's 256 bytes: all-ones at the access width", () => {
    const { rd, wr, tracer } = rig();
    expect(rd(ecam(0, 1, 0, 0))).toBe(0xffffffff);
    expect(rd(ecam(0, 0, 1, 0), 2)).toBe(0xffff);
    expect(rd(ecam(1, 0, 0, 0), 1)).toBe(0xff);
    expect(rd(ecam(0, 0, 0, 0x100))).toBe(0xffffffff);
    wr(ecam(0, 0, 0, 0x100), 0);
    wr(ecam(2, 0, 0, R.PCI_COMMAND), 0xffff);
    expect(rd(ecam(0, 0, 0, R.PCI_COMMAND))).toBe(0);
    expect(tracer.guestErrors).toBe(0);
  });

  test("a plugged function answers at bus 0, its device/function", () => {
    const { host, rd } = rig();
    host.plug(new MsixTestFunction({ sink: () => undefined }), 3, 0);
    expect(rd(ecam(0, 3, 0, 0))).toBe(0x11e91234);
    expect(rd(ecam(0, 3, 1, 0))).toBe(0xffffffff);
    expect(host.functionAt(R.pciDevfn(3, 0))?.requesterId).toBe(0x18);
  });

  test("1, 2 and 4-byte accesses at any alignment; unaligned ones are split into aligned pieces; 8 bytes is two dwords", () => {
    const { rd, host, wide } = rig();
    expect(rd(ecam(0, 0, 0, 1), 1)).toBe(0x1b);
    expect(rd(ecam(0, 0, 0, 2), 2)).toBe(0x0008);
    expect(rd(ecam(0, 0, 0, 1), 4)).toBe(0x0000081b);
    expect(rd(ecam(0, 0, 0, 3), 2)).toBe(0x0000);
    expect(host.read(ecam(0, 0, 0, 8), 8, wide)).toBe(0x06000000);
    expect(wide.hi).toBe(0);
  });

  test("a PCI Express function has 4 KiB of configuration space (vfio-pci)", () => {
    const { host, rd } = rig();
    host.plug(new VfioPciFunction({ ...VIRTIO_SCSI_PCI_LAYOUT, backend: nullBackend, sink: () => undefined }), 1);
    expect(rd(ecam(0, 1, 0, 0x100))).toBe(0);
    expect(rd(ecam(0, 1, 0, 0xffc))).toBe(0);
  });

  test("every offset at every size of 00.0 and an empty slot reads an unsigned value of the access width", () => {
    const { host } = rig();
    const wide = { hi: 0 };
    for (const base of [ecam(0, 0, 0, 0), ecam(0, 1, 0, 0)]) {
      for (const size of [1, 2, 4, 8] as const) {
        for (let off = 0; off + size <= 0x1000; off++) {
          const v = host.read(base + off, size, wide);
          expect(Number.isInteger(v) && v >= 0 && (size >= 4 ? v <= 0xffffffff : v < 2 ** (8 * size))).toBe(true);
          expect(size === 8 ? wide.hi >= 0 && wide.hi <= 0xffffffff : wide.hi === 0).toBe(true);
        }
      }
    }
  });

  test("plugging follows pci_init_multifunction", () => {
    const { host } = rig();
    host.plug(new MsixTestFunction({ sink: () => undefined }), 1, 0);
    expect(() => host.plug(new MsixTestFunction({ sink: () => undefined }), 1, 1)).toThrow(/single function device can't be populated in function 1.1/);
    expect(() => host.plug(new MsixTestFunction({ sink: () => undefined }), 1, 0)).toThrow(ConfigError);
    host.plug(new MsixTestFunction({ sink: () => undefined, multifunction: true }), 2, 0);
    host.plug(new MsixTestFunction({ sink: () => undefined }), 2, 1);
    expect(() => host.plug(new MsixTestFunction({ sink: () => undefined }), 4, 1)).not.toThrow();
    expect(() => host.plug(new MsixTestFunction({ sink: () => undefined }), 4, 0)).toThrow(/4.0 indicates single function, but 4.1 is already populated/);
  });
});

describe("BARs: sizing, decoding, mapping events", () => {
  const bar0 = ecam(0, 1, 0, R.PCI_BASE_ADDRESS_0);
  const cmd = ecam(0, 1, 0, R.PCI_COMMAND);

  function withTestDevice(allowZero = true) {
    const r = rig(allowZero);
    const fn = new MsixTestFunction({ sink: () => undefined, tracer: r.tracer });
    r.host.plug(fn, 1);
    return { ...r, fn };
  }

  test("32-bit BAR: type bits read back, all-ones reads ~(size − 1) (4 KiB: 0xfffff000)", () => {
    const { rd, wr } = withTestDevice();
    expect(rd(bar0)).toBe(0);
    wr(bar0, 0xffffffff);
    expect(rd(bar0)).toBe(0xfffff000);
    wr(bar0, 0x12345678);
    expect(rd(bar0)).toBe(0x12345000);
  });

  test("decoded only with COMMAND.MEMORY; moving it unmaps then maps; sizing while decoded unmaps", () => {
    const { rd, wr, events: all, fn } = withTestDevice();
    const events = { slice: (n: number) => all.filter((e) => e.includes("BAR0")).slice(n) };
    wr(bar0, 0x10000000);
    expect(all).toEqual([]);
    wr(cmd, R.PCI_COMMAND_MEMORY, 2);
    expect(events.slice(0)).toEqual(["map x-irqlab-msix-test BAR0 0x10000000+0x1000"]);
    expect(fn.barAddress(0)).toBe(0x10000000);
    wr(bar0, 0x10002000);
    wr(bar0, 0xffffffff); // last address 0xffffffff: QEMU does not decode it
    wr(bar0, 0x10002000);
    wr(cmd, 0, 2);
    expect(events.slice(1)).toEqual([
      "unmap x-irqlab-msix-test BAR0 0x10000000+0x1000",
      "map x-irqlab-msix-test BAR0 0x10002000+0x1000",
      "unmap x-irqlab-msix-test BAR0 0x10002000+0x1000",
      "map x-irqlab-msix-test BAR0 0x10002000+0x1000",
      "unmap x-irqlab-msix-test BAR0 0x10002000+0x1000",
    ]);
    expect(rd(bar0)).toBe(0x10002000);
  });

  test("address 0 is decoded only if the machine allows it (pci_allow_0_address, set on virt)", () => {
    const a = withTestDevice(true);
    a.wr(cmd, R.PCI_COMMAND_MEMORY, 2);
    expect(a.events).toEqual(["map x-irqlab-msix-test BAR0 0x0+0x1000", "map x-irqlab-msix-test BAR1 0x0+0x1000"]);
    const b = withTestDevice(false);
    b.wr(cmd, R.PCI_COMMAND_MEMORY, 2);
    expect(b.events).toEqual([]);
  });

  test("64-bit prefetchable BAR: type 0xc, sizing of both halves, decoded above 4 GiB", () => {
    const { host, rd, wr, events } = rig();
    const fn = new VfioPciFunction({ ...VIRTIO_SCSI_PCI_LAYOUT, backend: nullBackend, sink: () => undefined });
    host.plug(fn, 1);
    const bar4 = ecam(0, 1, 0, R.PCI_BASE_ADDRESS_0 + 16);
    expect(rd(bar4)).toBe(0x0c);
    wr(bar4, 0xffffffff);
    wr(bar4 + 4, 0xffffffff);
    expect([rd(bar4), rd(bar4 + 4)]).toEqual([0xffffc00c, 0xffffffff]);
    wr(bar4, 0x4000);
    wr(bar4 + 4, 0x80);
    wr(cmd, R.PCI_COMMAND_MEMORY, 2);
    expect(fn.barAddress(4)).toBe(0x80_0000_4000);
    expect(events).toContain("map vfio-pci BAR4 0x8000004000+0x4000");
  });

  test("pci_do_device_reset: COMMAND writable bits, CACHE_LINE_SIZE, INTERRUPT_LINE and BARs cleared, BARs unmapped", () => {
    const { host, rd, wr, events } = withTestDevice();
    wr(bar0, 0x20000000);
    wr(ecam(0, 1, 0, R.PCI_CACHE_LINE_SIZE), 0x10, 1);
    wr(ecam(0, 1, 0, R.PCI_INTERRUPT_LINE), 0x22, 1);
    wr(cmd, 0x0507, 2);
    host.reset();
    expect(rd(cmd, 2)).toBe(0);
    expect(rd(bar0)).toBe(0);
    expect(rd(ecam(0, 1, 0, R.PCI_CACHE_LINE_SIZE))).toBe(0);
    expect(rd(ecam(0, 1, 0, R.PCI_INTERRUPT_LINE))).toBe(0);
    expect(events.slice(-2)).toEqual(["unmap x-irqlab-msix-test BAR0 0x20000000+0x1000", "unmap x-irqlab-msix-test BAR1 0x0+0x1000"]);
  });
});

describe("INTx", () => {
  test("pin swizzled by slot onto the host lines; STATUS.INTERRUPT; COMMAND.INTX_DISABLE masks and unmasks", () => {
    const { host, intx, rd, wr } = rig();
    const fn = new PciFunction({ vendorId: 0x1234, deviceId: 0x1, classCode: 0, interruptPin: 2, name: "intx-fn" });
    host.plug(fn, 3);
    fn.setIrq(true); // INTB of slot 3 → (3 + 1) mod 4 = line 0
    expect(intx).toEqual(["0:1"]);
    expect(rd(ecam(0, 3, 0, R.PCI_STATUS), 2) & R.PCI_STATUS_INTERRUPT).toBe(R.PCI_STATUS_INTERRUPT);
    wr(ecam(0, 3, 0, R.PCI_COMMAND), R.PCI_COMMAND_INTX_DISABLE, 2);
    wr(ecam(0, 3, 0, R.PCI_COMMAND), 0, 2);
    fn.setIrq(false);
    expect(intx).toEqual(["0:1", "0:0", "0:1", "0:0"]);
    expect(rd(ecam(0, 3, 0, R.PCI_STATUS), 2) & R.PCI_STATUS_INTERRUPT).toBe(0);
    expect(() => {
      new PciFunction({ vendorId: 1, deviceId: 1, classCode: 0 }).setIrq(true);
    }).toThrow(ConfigError);
  });
});

describe("configuration snapshot", () => {
  test("state/loadState restores writable bytes and re-evaluates BAR mappings; read-only bytes must match", () => {
    const a = rig();
    const fa = new MsixTestFunction({ sink: () => undefined });
    a.host.plug(fa, 1);
    a.wr(bar0Of(1), 0x30000000);
    a.wr(ecam(0, 1, 0, R.PCI_COMMAND), R.PCI_COMMAND_MEMORY, 2);
    const b = rig();
    const fb = new MsixTestFunction({ sink: () => undefined });
    b.host.plug(fb, 1);
    fb.loadState(fa.state());
    expect(b.events).toContain("map x-irqlab-msix-test BAR0 0x30000000+0x1000");
    const other = new PciFunction({ vendorId: 1, deviceId: 2, classCode: 0 });
    expect(() => {
      other.loadState(fa.state());
    }).toThrow(ConfigError);
  });
});

function bar0Of(slot: number): number {
  return ecam(0, slot, 0, R.PCI_BASE_ADDRESS_0);
}

// Keeps the MmioDevice import honest: every BAR device is an MmioDevice.
export type _BarDevice = MmioDevice;
