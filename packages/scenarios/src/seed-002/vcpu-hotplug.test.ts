// Seed 002 (Arm vCPU hotplug): the rows assert the thread's claims, measured
// from real runs of the hotplug guest on the arm virt machine, driven over QMP.
import { describe, expect, test } from "vitest";
import { findScenario } from "../registry.js";
import { armVcpuHotplug, slotTable, vcpuHotplugValues } from "./vcpu-hotplug.js";
import { runVcpuHotplug } from "./vcpu-hotplug-run.js";

const precreate = runVcpuHotplug("precreate", false);
const naive = runVcpuHotplug("naive", false);

describe("seed 002: Arm vCPU hotplug", () => {
  test("precreate: all 4 vCPUs before vgic init, 4 fixed redistributors, the plug unparks; the guest brings CPU 2 up, an IPI reaches it, it is unplugged", () => {
    const { online_us, unplug_us, ...rest } = vcpuHotplugValues(precreate);
    // Both measured in virtual time: the guest reacts within the 10 ms it is given.
    for (const t of [online_us, unplug_us]) {
      expect(typeof t).toBe("number");
      expect(t as number).toBeGreaterThan(0);
      expect(t as number).toBeLessThan(10_000);
    }
    expect(rest).toEqual({
      vcpus_at_init: 4,
      vcpus_before_vgic_init: 4,
      redistributors: 4,
      gicr_typer_stable: true,
      plug_errno: "-",
      device_add: "ok",
      guest_cpu_up: true,
      ipi_reached: true,
      unplugged: true,
    });
    expect(precreate.plugCreate).toBe("unparked");
    // GICR_TYPER.Affinity (bits 63:32) of each frame is its slot's MPIDR; Last only on the fourth.
    expect(precreate.typers[0]!.map((t) => t.split(":")[0])).toEqual(["0", "1", "2", "3"]);
    expect(precreate.typers[0]!.map((t) => (parseInt(t.split(":")[1]!, 16) >>> 4) & 1)).toEqual([0, 0, 0, 1]);
  });

  test("naive: 2 vCPUs and 2 redistributors at init; device_add fails with EBUSY from KVM_CREATE_VCPU, the guest never hears of CPU 2", () => {
    expect(vcpuHotplugValues(naive)).toEqual({
      vcpus_at_init: 2,
      vcpus_before_vgic_init: 2,
      redistributors: 2,
      gicr_typer_stable: true,
      plug_errno: "EBUSY",
      device_add: "kvm_init_vcpu: kvm_create_vcpu failed (2): Device or resource busy",
      guest_cpu_up: false,
      ipi_reached: false,
      online_us: null,
      unplugged: false,
      unplug_us: null,
    });
    expect(naive.events.filter(({ e }) => e.event === "ACPI_DEVICE_OST")).toEqual([]);
    expect(naive.console.filter((l) => l.includes("CPU2"))).toEqual([]);
  });

  test("EBUSY only in naive", () => {
    const rows = armVcpuHotplug.remedies.map((r) => armVcpuHotplug.run(r.name, { seed: 0 }));
    expect(rows.map((r) => [r.remedy, r.values.plug_errno])).toEqual([
      ["naive", "EBUSY"],
      ["precreate", "-"],
    ]);
    expect(rows[0]!.verdict).toBe("device_add fails: kvm_init_vcpu: kvm_create_vcpu failed (2): Device or resource busy");
    expect(rows[1]!.verdict).toBe("CPU 2 unparked on device_add; the guest brought it up; an IPI reached it; GICR_TYPER unchanged; unplugged with DEVICE_DELETED");
  });

  test("the guest's console tells the story as Linux would", () => {
    expect(precreate.console).toEqual([
      "Machine model: linux,dummy-virt",
      "irqlab hotplug on aarch64: 2 CPUs, 128 MiB RAM",
      "cpuhp: /cpu-hotplug@90d0000: 4 possible CPUs, 2 present, GED on SPI 9",
      "smp: Bringing up secondary CPUs ...",
      "CPU1: Booted secondary processor 0x0000000001",
      "smp: Brought up 1 node, 2 CPUs",
      "ACPI: CPU2 has been hot-added",
      "CPU2: Booted secondary processor 0x0000000002",
      "CPU2: IPI (SGI 1) from CPU0 received",
      "CPU2: eject request",
      "CPU2: shutdown",
      "psci: CPU2 killed (polled 0 ms)",
      "cpuhp: CPU2 ejected",
    ]);
  });

  test("the management layer hears _OST progress and DEVICE_DELETED in QEMU's order and shapes", () => {
    const seen = precreate.events.filter(({ e }) => e.event === "ACPI_DEVICE_OST" || e.event === "DEVICE_DELETED").map(({ e }) => e);
    expect(seen).toEqual([
      { event: "ACPI_DEVICE_OST", data: { info: { device: "cpu2", slot: "2", "slot-type": "CPU", source: 1, status: 0 } } },
      { event: "ACPI_DEVICE_OST", data: { info: { device: "cpu2", slot: "2", "slot-type": "CPU", source: 3, status: 0x84 } } },
      { event: "DEVICE_DELETED", data: { device: "cpu2", path: "/machine/peripheral/cpu2" } },
      { event: "ACPI_DEVICE_OST", data: { info: { slot: "2", "slot-type": "CPU", source: 3, status: 0 } } },
    ]);
    expect(precreate.cpusAtEnd).toEqual([0, 1]);
    const sent = precreate.transcript.filter((l) => l.startsWith("->"));
    expect(sent[0]).toBe('-> {"execute":"qmp_capabilities"}');
    expect(sent).toContain('-> {"execute":"device_del","arguments":{"id":"cpu2"}}');
    expect(sent.some((l) => l.startsWith('-> {"execute":"device_add","arguments":{"driver":"host-arm-cpu","id":"cpu2"'))).toBe(true);
  });

  test("slot table: precreate parks slots 2-3 at boot, device_add unparks 2, device_del parks it again; GICR_TYPER of every frame fixed", () => {
    const t = slotTable(precreate);
    expect(t.columns.slice(2, 5)).toEqual(["at boot", "after device_add", "after device_del"]);
    expect(t.rows.map((r) => r.slice(0, 5))).toEqual([
      ["0", "0x0", "plugged", "plugged", "plugged"],
      ["1", "0x1", "plugged", "plugged", "plugged"],
      ["2", "0x2", "parked", "plugged", "parked"],
      ["3", "0x3", "parked", "parked", "parked"],
    ]);
    // GICR_TYPER.Affinity (63:32) is the slot's MPIDR, Processor_Number (23:8) its index, Last (bit 4) on slot 3 only.
    for (const r of t.rows) {
      const [boot, ...later] = r.slice(5);
      expect(later).toEqual([boot, boot]);
      const v = BigInt(boot!);
      expect([Number(v >> 32n), Number((v >> 8n) & 0xffffn), Number((v >> 4n) & 1n)]).toEqual([Number(r[0]), Number(r[0]), r[0] === "3" ? 1 : 0]);
    }
  });

  test("slot table: naive has no vCPU and no redistributor frame for slots 2-3, and device_add leaves slot 2 absent", () => {
    expect(slotTable(naive).rows.map((r) => r.slice(2))).toEqual([
      ["plugged", "plugged", "plugged", ...slotTable(naive).rows[0]!.slice(5)],
      ["plugged", "plugged", "plugged", ...slotTable(naive).rows[1]!.slice(5)],
      ["absent", "absent", "absent", "no frame", "no frame", "no frame"],
      ["absent", "absent", "absent", "no frame", "no frame", "no frame"],
    ]);
  });

  test("registered as seed 002", () => {
    expect(findScenario("002")).toBe(armVcpuHotplug);
    expect(findScenario("arm-vcpu-hotplug")).toBe(armVcpuHotplug);
    expect(armVcpuHotplug.remedies.map((r) => r.name)).toEqual(["naive", "precreate"]);
  });

  test("deterministic: the same run gives the same row", () => {
    expect(vcpuHotplugValues(runVcpuHotplug("precreate", false))).toEqual(vcpuHotplugValues(precreate));
  });
});
