/**
 * The arm virt CPU hotplug interface end to end at the register level, with
 * the accesses a guest makes going through the machine's MMIO bus (the path
 * of KVM_EXIT_MMIO): the device-tree node exists only with
 * x-cpu-hotplug=precreate|naive; plugCpu raises the insert event and pulses
 * the GED SPI; _OST writes become ACPI_DEVICE_OST; requestUnplugCpu raises
 * the remove event; the eject write unplugs the CPU (DEVICE_DELETED);
 * GICR_TYPER of every redistributor is the same throughout.
 */
import { parseFdt } from "@irqlab/fdt";
import { GICD_ISPENDR, GICR_TYPER } from "@irqlab/gic";
import { describe, expect, test } from "vitest";
import type { MachineEvent } from "../src/core/machine-events.js";
import {
  ACPI_CPU_CMD_DATA_OFFSET_RW,
  ACPI_CPU_CMD_OFFSET_WR,
  ACPI_CPU_FLAGS_OFFSET_RW,
  ACPI_CPU_SELECTOR_OFFSET_WR,
  ACPI_GED_CPU_HOTPLUG_EVT,
  CPHP_GET_CPU_ID_CMD,
  CPHP_GET_NEXT_CPU_WITH_EVENT_CMD,
  CPHP_OST_EVENT_CMD,
  CPHP_OST_STATUS_CMD,
  CPU_FLAG_EJECT,
  CPU_FLAG_ENABLED,
  CPU_FLAG_INSERT,
  CPU_FLAG_REMOVE,
  IRQLAB_VIRT_CPUHP,
} from "../src/devices/cpu-hotplug-regs.js";
import { ARM_VIRT_ACPI_GED } from "../src/board/arm-virt-memmap.js";
import { Machine } from "../src/machine.js";
import { armConfig } from "./machine-config-fixture.js";

const CPUHP = IRQLAB_VIRT_CPUHP.base;
const GED = ARM_VIRT_ACPI_GED.base;
const GICD_BASE = 0x0800_0000;
const GICR_BASE = 0x080a_0000;
const GICR_STRIDE = 0x2_0000;
const GED_INTID = 32 + 9;

function machine(mode: "off" | "precreate" | "naive") {
  const m = Machine.create({ config: armConfig({ cpus: 2, maxcpus: 4, cpuHotplug: mode }) });
  const events: MachineEvent[] = [];
  m.onEvent((e) => events.push(e));
  const rd = (a: number, len: 1 | 4 = 4) => m.bus.read(a, len);
  const wr = (a: number, v: number, len: 1 | 4 = 4) => m.bus.write(a, len, v, 0);
  const typers = (n: number) =>
    Array.from({ length: n }, (_, i) => {
      const at = GICR_BASE + i * GICR_STRIDE + GICR_TYPER;
      return `${m.vm.kernelBus.read(at + 4, 4).toString(16)}:${m.vm.kernelBus.read(at, 4).toString(16)}`;
    });
  const gedPending = () => ((m.vm.kernelBus.read(GICD_BASE + GICD_ISPENDR + 4, 4) >>> (GED_INTID - 32)) & 1) === 1;
  return { m, events, rd, wr, typers, gedPending };
}

describe("CPU hotplug interface of the arm virt board", () => {
  test("device tree: the irqlab,cpu-hotplug node with the block, the GED selector and SPI 9 rising edge, only when hotplug is on", () => {
    for (const mode of ["precreate", "naive"] as const) {
      const node = parseFdt(machine(mode).m.fdt).findNode("/cpu-hotplug@90d0000");
      expect(node?.string("compatible")).toBe("irqlab,cpu-hotplug");
      expect(node?.cells("reg")).toEqual([0, CPUHP, 0, 12, 0, GED, 0, 4]);
      expect(node?.cells("interrupts")).toEqual([0, 9, 1]);
    }
    const off = machine("off");
    expect(parseFdt(off.m.fdt).findCompatible("irqlab,cpu-hotplug")).toEqual([]);
    expect(off.m.bus.read(CPUHP, 4)).toBe(-1); // MMIO_UNHANDLED: nothing mapped there
    // /cpus lists the present CPUs only, as QEMU's fdt_add_cpu_nodes does in the hotplug series.
    expect(parseFdt(machine("precreate").m.fdt).findNode("/cpus")!.children.filter((c) => c.name.startsWith("cpu@")).length).toBe(2);
  });

  test("precreate: plug → insert event and GED pulse; _OST → ACPI_DEVICE_OST; unplug request → remove event; eject → DEVICE_DELETED; GICR_TYPER unchanged", () => {
    const { m, events, rd, wr, typers, gedPending } = machine("precreate");
    m.run(50_000);
    const before = typers(4);
    expect(before.map((t) => t.split(":")[0])).toEqual(["0", "1", "2", "3"]);
    // Boot CPUs are present without events; slot 2 is absent.
    wr(CPUHP + ACPI_CPU_SELECTOR_OFFSET_WR, 1);
    expect(rd(CPUHP + ACPI_CPU_FLAGS_OFFSET_RW, 1)).toBe(CPU_FLAG_ENABLED);
    wr(CPUHP + ACPI_CPU_SELECTOR_OFFSET_WR, 2);
    expect(rd(CPUHP + ACPI_CPU_FLAGS_OFFSET_RW, 1)).toBe(0);
    expect(gedPending()).toBe(false);

    m.plugCpu(2, "cpu2");
    expect(gedPending()).toBe(true); // the pulse latched the edge-triggered SPI
    expect(rd(GED)).toBe(ACPI_GED_CPU_HOTPLUG_EVT);
    expect(rd(GED)).toBe(0);
    wr(CPUHP + ACPI_CPU_SELECTOR_OFFSET_WR, 0);
    wr(CPUHP + ACPI_CPU_CMD_OFFSET_WR, CPHP_GET_NEXT_CPU_WITH_EVENT_CMD, 1);
    expect(rd(CPUHP + ACPI_CPU_CMD_DATA_OFFSET_RW)).toBe(2);
    expect(rd(CPUHP + ACPI_CPU_FLAGS_OFFSET_RW, 1)).toBe(CPU_FLAG_ENABLED | CPU_FLAG_INSERT);
    wr(CPUHP + ACPI_CPU_CMD_OFFSET_WR, CPHP_GET_CPU_ID_CMD, 1);
    expect(rd(CPUHP + ACPI_CPU_CMD_DATA_OFFSET_RW)).toBe(m.slots[2]!.archId);
    wr(CPUHP + ACPI_CPU_FLAGS_OFFSET_RW, CPU_FLAG_INSERT, 1);
    wr(CPUHP + ACPI_CPU_CMD_OFFSET_WR, CPHP_OST_EVENT_CMD, 1);
    wr(CPUHP + ACPI_CPU_CMD_DATA_OFFSET_RW, 1);
    wr(CPUHP + ACPI_CPU_CMD_OFFSET_WR, CPHP_OST_STATUS_CMD, 1);
    wr(CPUHP + ACPI_CPU_CMD_DATA_OFFSET_RW, 0);
    expect(events.at(-1)).toEqual({ event: "ACPI_DEVICE_OST", data: { info: { device: "cpu2", slot: "2", "slot-type": "CPU", source: 1, status: 0 } } });
    expect(typers(4)).toEqual(before);

    m.requestUnplugCpu(2);
    expect(m.cpus.map((c) => c.index)).toEqual([0, 1, 2]); // nothing removed until the guest ejects
    expect(rd(GED)).toBe(ACPI_GED_CPU_HOTPLUG_EVT);
    wr(CPUHP + ACPI_CPU_SELECTOR_OFFSET_WR, 0);
    wr(CPUHP + ACPI_CPU_CMD_OFFSET_WR, CPHP_GET_NEXT_CPU_WITH_EVENT_CMD, 1);
    expect(rd(CPUHP + ACPI_CPU_CMD_DATA_OFFSET_RW)).toBe(2);
    expect(rd(CPUHP + ACPI_CPU_FLAGS_OFFSET_RW, 1)).toBe(CPU_FLAG_ENABLED | CPU_FLAG_REMOVE);
    wr(CPUHP + ACPI_CPU_FLAGS_OFFSET_RW, CPU_FLAG_REMOVE, 1);
    wr(CPUHP + ACPI_CPU_FLAGS_OFFSET_RW, CPU_FLAG_EJECT, 1);
    expect(events.at(-1)).toEqual({ event: "DEVICE_DELETED", data: { device: "cpu2", path: "/machine/peripheral/cpu2" } });
    expect(m.cpus.map((c) => c.index)).toEqual([0, 1]);
    expect(rd(CPUHP + ACPI_CPU_FLAGS_OFFSET_RW, 1)).toBe(0);
    expect(typers(4)).toEqual(before);

    // Plugged again: the parked vCPU is unparked, with the same MPIDR and redistributor.
    expect(m.plugCpu(2).vcpu.vcpuId).toBe(2);
    expect(typers(4)).toEqual(before);
  });

  test("naive: the plug fails with EBUSY before any event, so the guest hears nothing", () => {
    const { m, rd, wr, gedPending } = machine("naive");
    m.run(50_000); // the vgic's frames are mapped at the first KVM_RUN
    expect(gedPending()).toBe(false);
    expect(() => m.plugCpu(2, "cpu2")).toThrow("kvm_init_vcpu: kvm_create_vcpu failed (2): Device or resource busy");
    expect(gedPending()).toBe(false);
    expect(rd(GED)).toBe(0);
    wr(CPUHP + ACPI_CPU_SELECTOR_OFFSET_WR, 2);
    expect(rd(CPUHP + ACPI_CPU_FLAGS_OFFSET_RW, 1)).toBe(0);
  });

  test("requestUnplugCpu refuses the boot CPU, an empty slot and a machine without CPU hotplug, with QEMU's texts", () => {
    const { m } = machine("precreate");
    expect(() => m.requestUnplugCpu(0)).toThrow("Boot CPU(id0=0:0:0:0) hot-unplug not supported");
    expect(() => m.requestUnplugCpu(3)).toThrow("CPU slot 3 is not plugged");
    expect(() => m.requestUnplugCpu(9)).toThrow("CPU slot 9 does not exist (maxcpus is 4)");
    expect(() => machine("off").m.requestUnplugCpu(1)).toThrow("CPU hot(un)plug not supported on this machine");
  });

  test("an eject of the boot CPU or of an absent slot is ignored, as QEMU ignores it", () => {
    const { m, events, wr } = machine("precreate");
    for (const slot of [0, 3]) {
      wr(CPUHP + ACPI_CPU_SELECTOR_OFFSET_WR, slot);
      wr(CPUHP + ACPI_CPU_FLAGS_OFFSET_RW, CPU_FLAG_EJECT, 1);
    }
    expect(m.cpus.map((c) => c.index)).toEqual([0, 1]);
    expect(events.filter((e) => e.event === "DEVICE_DELETED")).toEqual([]);
  });
});
