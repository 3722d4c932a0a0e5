// vfio-pci's MSI-X handling against QEMU hw/vfio/pci.c (vfio_pci_write_config,
// vfio_msix_enable, vfio_msix_vector_do_use, vfio_msix_vector_release,
// vfio_enable_vectors, vfio_enable_msix_no_vec, vfio_msix_disable,
// vfio_msi_disable_common, vfio_msi_interrupt, vfio_pci_reset), with seed
// 001's guest: an old virtio-pci driver that programs the same message into
// MSI-X entries 1-6 of a 7-vector virtio-scsi function, then reboots.
import { Tracer } from "@irqlab/sim";
import { describe, expect, test } from "vitest";
import { PcieHost } from "./pcie-host.js";
import * as R from "./pci-regs.js";
import { VfioPciFunction } from "./vfio-pci.js";
import { VIRTIO_SCSI_PCI_LAYOUT, type MsiVectorBackend } from "./vfio-pci-backend.js";

const ecam = (dev: number, reg: number) => (dev << 15) | reg;
const SLOT = 1;
const DEVID = SLOT << 3;
const BAR1 = 0x1000_0000;
const ITS_TRANSLATER = 0x0809_0040; // arm virt: ITS at 0x08080000, GITS_TRANSLATER at +0x10040
/** Seed 001: entry 0 for config (data 0), entries 1-6 all data 1. */
const SEED_DATA = [0, 1, 1, 1, 1, 1, 1];

function rig(dynamicAllocation = false) {
  const tracer = new Tracer();
  const log: string[] = [];
  const backend: MsiVectorBackend = {
    addRoute: (v, m, rid) => log.push(`addRoute ${v} data=${m.data} devid=${rid}`),
    updateRoute: (v, m, rid) => log.push(`updateRoute ${v} data=${m.data} devid=${rid}`),
    removeRoute: (v) => log.push(`removeRoute ${v}`),
    setTrigger: (v, t) => log.push(`setTrigger ${v} ${t}`),
    disableIndex: () => log.push("disableIndex"),
    signalIrqfd: (v) => log.push(`signalIrqfd ${v}`),
  };
  const host = new PcieHost({ tracer });
  const fn = new VfioPciFunction({
    ...VIRTIO_SCSI_PCI_LAYOUT,
    backend,
    sink: (lo, _hi, data, rid) => log.push(`KVM_SIGNAL_MSI 0x${lo.toString(16)} data=${data} devid=${rid}`),
    tracer,
    dynamicAllocation,
  });
  host.plug(fn, SLOT);
  const cfgw = (reg: number, v: number, size: 1 | 2 | 4) => {
    host.write(ecam(SLOT, reg), size, v, 0);
  };
  const cfgr = (reg: number, size: 1 | 2 | 4 = 4) => host.read(ecam(SLOT, reg), size, { hi: 0 });
  const bar = fn.barDevice(1)!;
  const wide = { hi: 0 };
  const cap = fn.msix.cap;
  const entry = (v: number, f: number) => v * 16 + f;
  const control = (enable: boolean, maskAll: boolean) => {
    cfgw(cap + 2, (enable ? R.PCI_MSIX_FLAGS_ENABLE : 0) | (maskAll ? R.PCI_MSIX_FLAGS_MASKALL : 0), 2);
  };
  const mask = (v: number, m: boolean) => {
    bar.write(entry(v, 12), 4, m ? 1 : 0, 0);
  };
  const setData = (v: number, d: number) => {
    bar.write(entry(v, 8), 4, d, 0);
  };
  /** Linux's msix_capability_init + request_irq: enable masked, program, unmask the function, then each entry. */
  const guestSetup = (data: readonly number[] = SEED_DATA) => {
    cfgw(R.PCI_BASE_ADDRESS_0 + 4, BAR1, 4);
    cfgw(R.PCI_COMMAND, R.PCI_COMMAND_MEMORY | R.PCI_COMMAND_MASTER, 2);
    control(true, true);
    data.forEach((d, v) => {
      bar.write(entry(v, 0), 4, ITS_TRANSLATER, 0);
      bar.write(entry(v, 4), 4, 0, 0);
      bar.write(entry(v, 8), 4, d, 0);
    });
    control(true, false);
    data.forEach((_d, v) => {
      mask(v, false);
    });
  };
  const pba = () => bar.read(0x800, 4, wide);
  return { tracer, log, host, fn, cfgw, cfgr, bar, cap, control, mask, setData, guestSetup, pba };
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

describe("vfio-pci configuration space", () => {
  test("identity, capability list (PCIe RC integrated endpoint at 0x40 → MSI-X at 0x80), 4 KiB config", () => {
    const { cfgr } = rig();
    expect(cfgr(R.PCI_VENDOR_ID)).toBe(0x10041af4);
    expect(cfgr(R.PCI_CLASS_REVISION)).toBe(0x01000000);
    expect(cfgr(R.PCI_SUBSYSTEM_VENDOR_ID)).toBe(0x00081af4);
    expect(cfgr(R.PCI_STATUS, 2) & R.PCI_STATUS_CAP_LIST).toBe(R.PCI_STATUS_CAP_LIST);
    expect(cfgr(R.PCI_CAPABILITY_LIST, 1)).toBe(0x40);
    expect(cfgr(0x40)).toBe(0x00928010); // ID 0x10, next 0x80, flags: version 2, type 9 (RC_END)
    expect(cfgr(0x40 + R.PCI_EXP_DEVCAP)).toBe(0x10008000);
    expect(cfgr(0x80)).toBe(0x00060011); // MSI-X, end of list, 7 vectors
    expect(cfgr(0x84)).toBe(0x00000001);
    expect(cfgr(0x88)).toBe(0x00000801);
    expect(cfgr(0x100)).toBe(0);
    expect(cfgr(R.PCI_BASE_ADDRESS_0)).toBe(0); // BAR0 (legacy I/O) not modelled
    expect(cfgr(R.PCI_BASE_ADDRESS_0 + 16)).toBe(0x0c);
  });

  test("device-specific bytes are read-only; PCIe Device Control is writable", () => {
    const { cfgw, cfgr } = rig();
    cfgw(0xc0, 0xffffffff, 4);
    cfgw(0x200, 0xffffffff, 4);
    cfgw(0x40 + R.PCI_EXP_DEVCTL, 0x0000, 2);
    expect([cfgr(0xc0), cfgr(0x200), cfgr(0x40 + R.PCI_EXP_DEVCTL, 2)]).toEqual([0, 0, 0]);
  });
});

describe("seed 001: the guest programs entries 1-6 with the same message", () => {
  test("without dynamic MSI-X allocation (NORESIZE): one route + irqfd per entry, the index re-enabled with every new vector", () => {
    const { log, guestSetup, fn } = rig();
    guestSetup();
    const expected = ["setTrigger 0 none"];
    SEED_DATA.forEach((d, v) => {
      expected.push(`addRoute ${v} data=${d} devid=${DEVID}`, "disableIndex");
      for (let i = 0; i <= v; i++) expected.push(`setTrigger ${i} irqfd`);
    });
    expect(log).toEqual(expected);
    expect(log.filter((l) => l.startsWith("addRoute") && l.includes("data=1"))).toHaveLength(6);
    for (let v = 0; v < 7; v++) expect(fn.vectorInfo(v)).toEqual({ use: true, routed: true, trigger: "irqfd", pending: false, hostPending: false });
  });

  test("with dynamic allocation: MSI-X enabled with no vectors, then one route and one trigger per entry", () => {
    const { log, guestSetup } = rig(true);
    guestSetup();
    expect(log).toEqual(["setTrigger 0 none", ...SEED_DATA.flatMap((d, v) => [`addRoute ${v} data=${d} devid=${DEVID}`, `setTrigger ${v} irqfd`])]);
  });

  test("reboot (system reset): every vector released twice, the index disabled, every route and irqfd removed, BARs unmapped", () => {
    const { log, guestSetup, host, fn, cfgr } = rig();
    guestSetup();
    log.length = 0;
    host.reset();
    expect(log).toEqual([
      ...range(7).map((v) => `setTrigger ${v} userspace`), // msix_unset_vector_notifiers: MSI-X still enabled
      ...range(7).map((v) => `setTrigger ${v} userspace`), // vfio_msix_disable: release + unuse every used vector
      "disableIndex",
      ...range(7).map((v) => `removeRoute ${v}`), // vfio_msi_disable_common
    ]);
    expect(fn.vfioState()).toMatchObject({ msixEnabled: false, nrVectors: 0, hostIndexEnabled: false });
    expect(cfgr(R.PCI_COMMAND, 2)).toBe(0);
    expect(fn.barAddress(1)).toBe(-1);
    fn.hostInterrupt(3); // MSI-X is off on the host function
    expect(fn.droppedHostInterrupts).toBe(1);
  });

  test("the guest disabling MSI-X: each used vector released once, index disabled, routes removed", () => {
    const { log, guestSetup, control } = rig();
    guestSetup();
    log.length = 0;
    control(false, false);
    expect(log).toEqual([...range(7).map((v) => `setTrigger ${v} userspace`), "disableIndex", ...range(7).map((v) => `removeRoute ${v}`)]);
  });

  test("enabling with entries already unmasked: routes batched (added before any trigger), then vfio_enable_vectors", () => {
    const { log, bar, control, mask, cfgw } = rig();
    cfgw(R.PCI_COMMAND, R.PCI_COMMAND_MEMORY | R.PCI_COMMAND_MASTER, 2);
    bar.write(2 * 16 + 8, 4, 0x22, 0);
    mask(0, false);
    mask(2, false);
    control(true, false);
    // vector 1 is passed as fd −1 in the same VFIO_DEVICE_SET_IRQS: a no-op for a vector without a handler
    expect(log).toEqual([`addRoute 0 data=0 devid=${DEVID}`, `addRoute 2 data=34 devid=${DEVID}`, "setTrigger 0 irqfd", "setTrigger 2 irqfd"]);
  });
});

describe("vfio-pci vectors after setup", () => {
  test("reprogramming an entry: mask (VFIO signals QEMU), new data, unmask (route updated, irqfd signalled again)", () => {
    const { log, guestSetup, mask, setData } = rig(true);
    guestSetup();
    log.length = 0;
    mask(3, true);
    setData(3, 0x33);
    mask(3, false);
    expect(log).toEqual(["setTrigger 3 userspace", `updateRoute 3 data=51 devid=${DEVID}`, "setTrigger 3 irqfd"]);
  });

  test("changing the data of an unmasked entry reaches neither KVM nor VFIO (QEMU only tracks mask changes)", () => {
    const { log, guestSetup, setData } = rig(true);
    guestSetup();
    log.length = 0;
    setData(4, 0x44);
    expect(log).toEqual([]);
  });

  test("host interrupts: to the irqfd when unmasked; masked: QEMU latches the PBA and sends the message at unmask", () => {
    const { log, guestSetup, mask, fn, pba } = rig(true);
    guestSetup();
    log.length = 0;
    fn.hostInterrupt(1);
    expect(log).toEqual(["signalIrqfd 1"]);
    mask(2, true);
    fn.hostInterrupt(2);
    expect(fn.vectorInfo(2).pending).toBe(true);
    expect(pba()).toBe(0x4); // QEMU's emulated PBA is now visible
    mask(2, false);
    expect(log.slice(1)).toEqual([
      "setTrigger 2 userspace",
      `updateRoute 2 data=1 devid=${DEVID}`,
      "setTrigger 2 irqfd",
      `KVM_SIGNAL_MSI 0x8090040 data=1 devid=${DEVID}`, // the pending message, sent by QEMU (msix_notify)
    ]);
    expect(pba()).toBe(0);
    expect(fn.vfioState().pbaEmulated).toBe(false);
  });

  test("a host vector not enabled yet latches in the device's PBA (read while QEMU does not emulate it) and fires when enabled", () => {
    const { log, fn, control, mask, bar, cfgw, pba } = rig(true);
    fn.hostInterrupt(0); // MSI-X still disabled on the host
    expect(fn.droppedHostInterrupts).toBe(1);
    cfgw(R.PCI_BASE_ADDRESS_0 + 4, BAR1, 4);
    cfgw(R.PCI_COMMAND, R.PCI_COMMAND_MEMORY | R.PCI_COMMAND_MASTER, 2);
    control(true, true);
    fn.hostInterrupt(3);
    expect(fn.hostPbaBit(3)).toBe(true);
    expect(pba()).toBe(0x8);
    bar.write(3 * 16 + 8, 4, 0x3, 0);
    control(true, false);
    log.length = 0;
    mask(3, false);
    expect(log).toEqual([`addRoute 3 data=3 devid=${DEVID}`, "setTrigger 3 irqfd", "signalIrqfd 3"]);
    expect(pba()).toBe(0);
  });

  test("every offset at every size of BAR1 (table, PBA, device registers) reads an unsigned value of the access width", () => {
    const { bar } = rig();
    const wide = { hi: 0 };
    for (const size of [1, 2, 4, 8] as const) {
      for (let off = 0; off + size <= 0x1000; off++) {
        const v = bar.read(off, size, wide);
        expect(Number.isInteger(v) && v >= 0 && (size >= 4 ? v <= 0xffffffff : v < 2 ** (8 * size))).toBe(true);
        expect(size === 8 ? wide.hi >= 0 && wide.hi <= 0xffffffff : wide.hi === 0).toBe(true);
      }
    }
  });
});
