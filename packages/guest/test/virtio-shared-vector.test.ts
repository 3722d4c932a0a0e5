// Seed 001's guest under the arm64 machine: the old virtio driver's shared
// vector, then a reboot into firmware — without GICv4 and with each host
// kernel's vgic-v4 behaviour (-accel kvm,x-gicv4=...).
import { describe, expect, test } from "vitest";
import { firmwareLine, virtioSharedVectorImage } from "../src/index.js";
import { runOnMachine, type MachineRun } from "./machine-run.js";

/** Host vectors still mapped onto a vLPI at the end of the run. */
function stillForwarded(r: MachineRun): number[] {
  const g = r.machine.pci.gicv4!;
  const first = r.machine.pci.devices[0]!.vfio!.firstHostIrq;
  return [0, 1, 2, 3, 4, 5, 6].filter((k) => g.host.isForwarded(first + k));
}

function run(accel: string): MachineRun {
  return runOnMachine(["-M", "virt", "-accel", accel, "-smp", "1", "-nographic", "-device", "vfio-pci,host=0000:01:00.0"], virtioSharedVectorImage());
}

const DRIVER = [
  "Machine model: linux,dummy-virt",
  "irqlab virtio-shared-vector on aarch64: 1 CPU, 128 MiB RAM",
  "pci 0000:00:00.0: [1b36:0008] type 00 class 0x060000",
  "pci 0000:00:01.0: [1af4:1004] type 00 class 0x010000",
  "pci 0000:00:01.0: BAR 4 [mem 0x8000000000-0x8000003fff 64bit pref]: assigned",
  "pci 0000:00:01.0: BAR 1 [mem 0x10000000-0x10000fff]: assigned",
  "virtio-pci 0000:00:01.0: ITS DeviceID 0x8, LPI 8192 (config), LPI 8193 (queues)",
  "virtio-pci 0000:00:01.0: MSI-X entry 0 data 0x0, entries 1-6 data 0x1 (one vector shared by the queues)",
  "virtio-scsi: 6 of 6 queues completed, 6 interrupts on LPI 8193",
  "virtio-scsi: 6 requests in flight",
  "reboot: Restarting system",
];

const firmware = (last: string): string[] => [
  "Machine model: linux,dummy-virt",
  "irqlab virtio-shared-vector firmware on aarch64: 1 CPU, 128 MiB RAM",
  "firmware: no LPI mapped; listening for 100 ms",
  last,
  "reboot: Power down",
];

describe("virtio-shared-vector", () => {
  test("without GICv4: every vector goes host → irqfd → vITS; nothing reaches the firmware", () => {
    const r = run("kvm");
    expect(r.lines).toEqual([...DRIVER, ...firmware("firmware: no unexpected interrupts")]);
    expect(r.end).toBe("shutdown");
    expect(r.machine.pci.gicv4).toBeUndefined();
  });

  // QEMU re-enables the whole VFIO index each time the guest unmasks a higher entry (no dynamic
  // MSI-X), so producers are unregistered and registered again: the KVM counts are per event, not per vector.
  test("linux-6.6: the shared vLPI gets several host interrupts, the reset unmaps one; five stale mappings fire into the firmware", () => {
    const r = run("kvm,x-gicv4=linux-6.6");
    expect(r.lines).toEqual([...DRIVER, ...firmware("firmware: 5 unexpected interrupts (LPI 8193 x5)")]);
    const f = r.machine.pci.gicv4!.forwarding;
    expect(f.stats.warns).toBeGreaterThan(0);
    expect(f.stats.violations).toBeGreaterThan(0);
    // Entries 1–6 all went onto vLPI 8193. At the reset vfio-pci deassigns its irqfds before the vITS
    // reset (QEMU resets newer devices first): the first unset_forwarding unmaps vector 1, which has
    // hw set; the other five find hw clear and stay mapped (the thread: "only the mapping between the
    // first host irq and vLPI is unmapped").
    expect(stillForwarded(r)).toEqual([2, 3, 4, 5, 6]);
  });

  test("linux-6.16: the second to sixth host interrupts stay software-injected; the firmware sees nothing", () => {
    const r = run("kvm,x-gicv4=linux-6.16");
    expect(r.lines).toEqual([...DRIVER, ...firmware("firmware: no unexpected interrupts")]);
    const f = r.machine.pci.gicv4!.forwarding;
    expect([f.stats.warns, f.stats.violations]).toEqual([0, 0]);
    expect(f.stats.refused).toBeGreaterThan(0);
    expect(stillForwarded(r)).toEqual([]);
  });

  test("rfc-shared-vlpi: all mapped (five 1:1 violations), all unmapped at the reset", () => {
    const r = run("kvm,x-gicv4=rfc-shared-vlpi");
    expect(r.lines.at(-2)).toBe("firmware: no unexpected interrupts");
    expect(r.machine.pci.gicv4!.forwarding.stats.violations).toBeGreaterThan(0);
    expect(stillForwarded(r)).toEqual([]);
  });

  test("without the passed-through function the driver panics with the reason", () => {
    const r = runOnMachine(["-M", "virt", "-accel", "kvm", "-nographic"], virtioSharedVectorImage());
    expect(r.lines).toContain("Kernel panic - not syncing: virtio-shared-vector: no virtio-scsi function on bus 0 (-device vfio-pci,host=...)");
  });

  test("firmwareLine", () => {
    expect(firmwareLine(new Map())).toBe("firmware: no unexpected interrupts");
    expect(firmwareLine(new Map([[8193, 1]]))).toBe("firmware: 1 unexpected interrupt (LPI 8193 x1)");
    expect(firmwareLine(new Map([[8194, 2], [27, 1]]))).toBe("firmware: 3 unexpected interrupts (INTID 27 x1, LPI 8194 x2)");
  });
});
