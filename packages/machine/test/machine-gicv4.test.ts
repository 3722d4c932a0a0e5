/**
 * -accel kvm,x-gicv4=...: the host's GICv4.1 ITS behind a vfio-pci function,
 * KVM's vgic-v4 forwarding with the chosen kernel behaviour, and the
 * function's BAR4 notify area that makes the device raise its vectors.
 */
import { op, type GuestProgram } from "@irqlab/sim";
import { describe, expect, test } from "vitest";
import { QemuOptionError } from "../src/cmdline/qemu-error.js";
import { parseSystemCommandLine } from "../src/cmdline/system-command-line.js";
import { Machine } from "../src/machine.js";
import { VFIO_NOTIFY_OFFSET, VFIO_REQUEST_NS } from "../src/wiring/vfio-pci-requests.js";
import { armConfig } from "./machine-config-fixture.js";

function accelOf(arch: "aarch64" | "riscv64", accel: string): unknown {
  try {
    const r = parseSystemCommandLine(arch, ["-M", "virt", "-accel", accel]);
    return r.kind === "run" ? r.config.accel : r.kind;
  } catch (e) {
    if (e instanceof QemuOptionError) return e.format(`qemu-system-${arch}`);
    throw e;
  }
}

describe("x-gicv4 on the command line", () => {
  test("off by default; each kernel behaviour by name; bad values and riscv64 refused", () => {
    expect(accelOf("aarch64", "kvm")).not.toHaveProperty("gicv4");
    expect(accelOf("aarch64", "kvm,x-gicv4=off")).not.toHaveProperty("gicv4");
    for (const b of ["linux-6.16", "linux-6.6", "rfc-shared-vlpi"]) expect(accelOf("aarch64", `kvm,x-gicv4=${b}`)).toMatchObject({ gicv4: b });
    expect(accelOf("aarch64", "kvm,x-gicv4=6.6")).toBe(
      "qemu-system-aarch64: -accel kvm,x-gicv4=6.6: Invalid x-gicv4 value\nValid values are off, linux-6.16, linux-6.6 and rfc-shared-vlpi.\n",
    );
    expect(accelOf("riscv64", "kvm,x-gicv4=linux-6.6")).toBe("qemu-system-riscv64: -accel kvm,x-gicv4=linux-6.6: Property 'kvm-accel.x-gicv4' not found\n");
  });
});

const CMD_MEM = 1 << 1;
const CMD_MASTER = 1 << 2;
const BAR1 = 0x1000_0000;
const BAR4 = 0x1000_4000;
const GITS_TRANSLATER = 0x0808_0000 + 0x1_0040;

/** Maps BAR1 and BAR4 of 00:01.0 and programs MSI-X entry 1 (data 1) unmasked; then kicks queue 1 through BAR4. */
function* kickOnce(ecam: number): GuestProgram {
  const cfg = ecam + (1 << 15);
  yield op.write(cfg + 0x14, 4, BAR1);
  yield op.write(cfg + 0x20, 4, BAR4);
  yield op.write(cfg + 0x24, 4, 0);
  yield op.write(cfg + 0x04, 2, CMD_MEM | CMD_MASTER);
  const cap = 0x80;
  yield op.write(cfg + cap + 2, 2, (1 << 15) | (1 << 14));
  yield op.write(BAR1 + 16, 4, GITS_TRANSLATER);
  yield op.write(BAR1 + 16 + 8, 4, 1);
  yield op.write(BAR1 + 16 + 12, 4, 0);
  yield op.write(cfg + cap + 2, 2, 1 << 15);
  yield op.write(BAR4 + VFIO_NOTIFY_OFFSET, 2, 1);
}

describe("the host ITS behind vfio-pci", () => {
  function machine(gicv4: "linux-6.16" | undefined, its = true): Machine {
    const base = armConfig({ its });
    const config = { ...base, accel: { ...base.accel, ...(gicv4 === undefined ? {} : { gicv4 }) }, devices: [{ driver: "vfio-pci", props: { host: "0000:01:00.0" } }] };
    return Machine.create({
      config,
      kernel: {
        main: function* (): GuestProgram {
          yield* kickOnce(0x40_1000_0000);
          for (;;) yield op.wfi();
        },
      },
    });
  }

  // The guest mapped nothing in its ITS, so set_forwarding cannot translate the route and forwards
  // nothing ("Emulated LPI injection will still work"): the host LPI's handler signals the irqfd.
  test("a kick completes after one request time and raises the entry; with x-gicv4 it is a host LPI first", () => {
    for (const mode of [undefined, "linux-6.16"] as const) {
      const m = machine(mode);
      m.run(2 * VFIO_REQUEST_NS);
      const dev = m.pci.devices[0]!;
      expect([dev.requests!.started, dev.requests!.completed]).toEqual([1, 1]);
      const irqfd = m.vm.irqfds.irqfds.find((f) => f.gsi === dev.vfio!.route(1)!.gsi)!;
      expect(irqfd.injections).toBe(1);
      if (mode === undefined) expect(m.pci.gicv4).toBeUndefined();
      else {
        const g = m.pci.gicv4!;
        expect(g.host.isForwarded(dev.vfio!.firstHostIrq + 1)).toBe(false);
        expect(g.host.hostInterrupts).toBe(1);
      }
    }
  });

  test("x-gicv4 without the in-kernel ITS is refused", () => {
    expect(() => machine("linux-6.16", false)).toThrow(/x-gicv4=linux-6.16 needs the in-kernel ITS/);
  });
});
