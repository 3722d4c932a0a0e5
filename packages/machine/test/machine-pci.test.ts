/**
 * PCI functions in the machine: a guest programs a vfio-pci function's MSI-X
 * table the way seed 001's old virtio driver does (vector 0 for config, the
 * same message in entries 1–6); QEMU's VFIO sets up one MSI route and one
 * irqfd per unmasked entry, registers each host vector as an IRQ-bypass
 * producer on its irqfd's eventfd, and tears it all down at system reset
 * (hw/vfio/pci.c vfio_msix_vector_do_use, vfio_pci_reset).
 */
import { op, type GuestProgram } from "@irqlab/sim";
import { describe, expect, test } from "vitest";
import { Machine } from "../src/machine.js";
import { armConfig } from "./machine-config-fixture.js";

const CMD_MEM = 1 << 1;
const CMD_MASTER = 1 << 2;
const PCI_CAP_ID_MSIX = 0x11;
const GITS_TRANSLATER = 0x0808_0000 + 0x1_0040;

/** The guest side: find the function at slot 1, map BAR1 at `bar1`, program MSI-X like the old virtio driver. */
function* programMsix(ecam: number, bar1: number): GuestProgram {
  const cfg = ecam + (1 << 15); // bus 0, device 1, function 0
  const vendor = (yield op.read(cfg, 4)).value;
  if (vendor === 0xffff_ffff) throw new Error("no function at 00:01.0");
  yield op.write(cfg + 0x14, 4, 0xffff_ffff); // size BAR1
  yield op.write(cfg + 0x14, 4, bar1);
  yield op.write(cfg + 0x04, 2, CMD_MEM | CMD_MASTER);
  let cap = (yield op.read(cfg + 0x34, 1)).value;
  while (cap !== 0 && (yield op.read(cfg + cap, 1)).value !== PCI_CAP_ID_MSIX) cap = (yield op.read(cfg + cap + 1, 1)).value;
  const table = bar1 + ((yield op.read(cfg + cap + 4, 4)).value & ~7);
  yield op.write(cfg + cap + 2, 2, (1 << 15) | (1 << 14)); // enable, function masked
  const entry = function* (i: number, data: number): GuestProgram {
    yield op.write(table + i * 16, 4, GITS_TRANSLATER);
    yield op.write(table + i * 16 + 4, 4, 0);
    yield op.write(table + i * 16 + 8, 4, data);
    yield op.write(table + i * 16 + 12, 4, 0); // unmask
  };
  yield* entry(0, 0);
  for (let i = 1; i <= 6; i++) yield* entry(i, 1); // one vector shared by six entries (seed 001)
  yield op.write(cfg + cap + 2, 2, 1 << 15); // function mask off
}

describe("vfio-pci in the machine", () => {
  test("one MSI route, one irqfd and one bypass producer per programmed entry; all torn down at system reset", () => {
    const config = { ...armConfig(), devices: [{ driver: "vfio-pci", id: "hostdev0", props: { host: "0000:01:00.0" } }] };
    let done = false;
    const m = Machine.create({
      config,
      kernel: {
        main: function* (): GuestProgram {
          yield* programMsix(0x40_1000_0000, 0x1000_0000);
          done = true;
          for (;;) yield op.wfi();
        },
      },
    });
    const ecam = m.board.pcie.ecam.base;
    expect(ecam).toBe(0x40_1000_0000); // VIRT_HIGH_PCIE_ECAM with highmem-ecam (hw/arm/virt.c extended_memmap)
    m.run(5_000_000);
    expect(done).toBe(true);
    const dev = m.pci.devices[0]!;
    const vfio = dev.vfio!;
    const routes = [0, 1, 2, 3, 4, 5, 6].map((v) => vfio.route(v));
    expect(routes.every((r) => r !== undefined)).toBe(true);
    // Seven distinct GSIs above the 256 SPI pins, each with its irqfd.
    expect(new Set(routes.map((r) => r!.gsi)).size).toBe(7);
    expect(Math.min(...routes.map((r) => r!.gsi))).toBe(256);
    const irqfds = m.calls.lines().filter((l) => l.startsWith("KVM_IRQFD") && !l.includes("DEASSIGN"));
    expect(irqfds).toHaveLength(7);
    expect([...vfio.triggers.values()].every((t) => t === "irqfd")).toBe(true);
    // The MSI routes carry the requester id of 00:01.0 as devid (kvm_msi_use_devid with the ITS).
    const msi = m.vm.irqfds.routing.entries.filter((e) => e.type === 2);
    expect(msi.map((e) => ("devid" in e ? e.devid : -1))).toEqual([8, 8, 8, 8, 8, 8, 8]);
    expect(msi.map((e) => ("data" in e ? e.data : -1))).toEqual([0, 1, 1, 1, 1, 1, 1]);

    m.systemReset("host-qmp-system-reset");
    expect(m.calls.lines().filter((l) => l.startsWith("KVM_IRQFD") && l.includes("DEASSIGN"))).toHaveLength(7);
    expect([0, 1, 2, 3, 4, 5, 6].map((v) => vfio.route(v))).toEqual(Array(7).fill(undefined));
    expect(m.vm.irqfds.routing.entries.filter((e) => e.type === 2)).toHaveLength(0);
  });

  test("bad -device lines get QEMU's texts", () => {
    const make = (props: Record<string, string>, driver = "vfio-pci") => () => Machine.create({ config: { ...armConfig(), devices: [{ driver, props }] } });
    expect(make({})).toThrow("No provided host device - Use -device vfio-pci,host=DDDD:BB:DD.F or -device vfio-pci,sysfsdev=PATH_TO_DEVICE");
    expect(make({ host: "0000:01:00.0", foo: "1" })).toThrow("Property 'vfio-pci.foo' not found");
    expect(make({}, "no-such-device")).toThrow("'no-such-device' is not a valid device model name");
  });
});
