// The CPU hotplug block against QEMU hw/acpi/cpu.c (cpu_hotplug_rd,
// cpu_hotplug_wr, acpi_cpu_plug_cb, acpi_cpu_unplug_request_cb,
// acpi_cpu_device_status) and the GED event selector against
// hw/acpi/generic_event_device.c (ged_evt_read, acpi_ged_send_event).
import { Tracer, type AccessSize } from "@irqlab/sim";
import { describe, expect, test } from "vitest";
import { AcpiCpuHotplug, type AcpiOstInfo } from "./cpu-hotplug.js";
import { AcpiGedEventSelector } from "./cpu-hotplug-ged.js";
import {
  ACPI_CPU_CMD_DATA2_OFFSET_R,
  ACPI_CPU_CMD_DATA_OFFSET_RW,
  ACPI_CPU_CMD_OFFSET_WR,
  ACPI_CPU_FLAGS_OFFSET_RW,
  ACPI_CPU_SELECTOR_OFFSET_WR,
  ACPI_GED_CPU_HOTPLUG_EVT,
  ACPI_NOTIFY_DEVICE_CHECK,
  ACPI_OST_SC_SUCCESS,
  CPHP_GET_CPU_ID_CMD,
  CPHP_GET_NEXT_CPU_WITH_EVENT_CMD,
  CPHP_OST_EVENT_CMD,
  CPHP_OST_STATUS_CMD,
  CPU_FLAG_EJECT,
  CPU_FLAG_ENABLED,
  CPU_FLAG_FW_REMOVE,
  CPU_FLAG_INSERT,
  CPU_FLAG_REMOVE,
} from "./cpu-hotplug-regs.js";

// MPIDRs of slots 0..3 (Aff1 = 0) and one with Aff3 set, to see data 2.
const ARCH_IDS = [0, 1, 2, 3, 0x1_0000_0005];

function rig() {
  const tracer = new Tracer();
  const irq: boolean[] = [];
  const ejected: number[] = [];
  const ost: AcpiOstInfo[] = [];
  const ged = new AcpiGedEventSelector({ tracer, irq: (l) => irq.push(l) });
  const hp = new AcpiCpuHotplug({
    tracer,
    archIds: ARCH_IDS,
    sendEvent: () => {
      ged.sendEvent(ACPI_GED_CPU_HOTPLUG_EVT);
    },
    eject: (slot) => {
      ejected.push(slot);
      hp.unplug(slot);
    },
    ost: (i) => ost.push(i),
    deviceId: (slot) => (slot === 2 ? "cpu2" : undefined),
  });
  hp.coldPlug(0);
  hp.coldPlug(1);
  const wide = { hi: 0 };
  const rd = (off: number, size: AccessSize = 4) => hp.read(off, size, wide);
  const wr = (off: number, v: number, size: AccessSize = 4) => {
    hp.write(off, size, v, 0);
  };
  const select = (slot: number) => {
    wr(ACPI_CPU_SELECTOR_OFFSET_WR, slot);
  };
  const cmd = (c: number) => {
    wr(ACPI_CPU_CMD_OFFSET_WR, c, 1);
  };
  const flags = () => rd(ACPI_CPU_FLAGS_OFFSET_RW, 1);
  return { tracer, irq, ejected, ost, ged, hp, rd, wr, select, cmd, flags };
}

describe("ACPI CPU hotplug block (hw/acpi/cpu.c)", () => {
  test("flags: CPEN for present CPUs only; nothing pending at boot", () => {
    const r = rig();
    r.select(0);
    expect(r.flags()).toBe(CPU_FLAG_ENABLED);
    r.select(2);
    expect(r.flags()).toBe(0);
  });

  test("a hotplug sets CPEN|CINS and pulses the GED interrupt with the CPU hotplug bit; ESEL reads once", () => {
    const r = rig();
    r.hp.plug(2);
    expect(r.irq).toEqual([true, false]);
    const wide = { hi: 0 };
    expect(r.ged.read(0, 4, wide)).toBe(ACPI_GED_CPU_HOTPLUG_EVT);
    expect(r.ged.read(0, 4, wide)).toBe(0); // read-and-clear
    r.select(2);
    expect(r.flags()).toBe(CPU_FLAG_ENABLED | CPU_FLAG_INSERT);
    r.wr(ACPI_CPU_FLAGS_OFFSET_RW, CPU_FLAG_INSERT, 1);
    expect(r.flags()).toBe(CPU_FLAG_ENABLED);
  });

  test("CPHP_GET_NEXT_CPU_WITH_EVENT_CMD scans from the selector, wraps, and leaves it when no CPU has an event", () => {
    const r = rig();
    r.select(3);
    r.cmd(CPHP_GET_NEXT_CPU_WITH_EVENT_CMD);
    expect(r.rd(ACPI_CPU_CMD_DATA_OFFSET_RW)).toBe(3); // no event anywhere: unchanged
    r.hp.plug(2);
    r.cmd(CPHP_GET_NEXT_CPU_WITH_EVENT_CMD); // 3, 4, wrap to 0, 1, 2
    expect(r.rd(ACPI_CPU_CMD_DATA_OFFSET_RW)).toBe(2);
    expect(r.rd(ACPI_CPU_CMD_DATA2_OFFSET_R)).toBe(0);
    r.hp.unplugRequest(1);
    r.select(0);
    r.cmd(CPHP_GET_NEXT_CPU_WITH_EVENT_CMD);
    expect(r.rd(ACPI_CPU_CMD_DATA_OFFSET_RW)).toBe(1);
    expect(r.flags()).toBe(CPU_FLAG_ENABLED | CPU_FLAG_REMOVE);
  });

  test("CPHP_GET_CPU_ID_CMD: data = arch id bits 31:0, data 2 = bits 63:32", () => {
    const r = rig();
    r.select(4);
    r.cmd(CPHP_GET_CPU_ID_CMD);
    expect(r.rd(ACPI_CPU_CMD_DATA_OFFSET_RW)).toBe(5);
    expect(r.rd(ACPI_CPU_CMD_DATA2_OFFSET_R)).toBe(1);
    r.select(2);
    expect(r.rd(ACPI_CPU_CMD_DATA_OFFSET_RW)).toBe(2);
  });

  test("_OST: the event, then the status sends ACPI_DEVICE_OST with slot, slot-type, source, status and the device id", () => {
    const r = rig();
    r.hp.plug(2);
    r.select(2);
    r.cmd(CPHP_OST_EVENT_CMD);
    r.wr(ACPI_CPU_CMD_DATA_OFFSET_RW, ACPI_NOTIFY_DEVICE_CHECK);
    expect(r.ost).toEqual([]);
    r.cmd(CPHP_OST_STATUS_CMD);
    r.wr(ACPI_CPU_CMD_DATA_OFFSET_RW, ACPI_OST_SC_SUCCESS);
    expect(r.ost).toEqual([{ device: "cpu2", slot: "2", "slot-type": "CPU", source: 1, status: 0 }]);
    expect(r.rd(ACPI_CPU_CMD_DATA_OFFSET_RW)).toBe(0); // OST commands read nothing
    r.select(3);
    r.wr(ACPI_CPU_CMD_DATA_OFFSET_RW, 0x84);
    expect(r.ost.at(-1)).toEqual({ slot: "3", "slot-type": "CPU", source: 0, status: 0x84 }); // absent: no device
  });

  test("eject unplugs a present CPU; absent CPUs and the boot CPU are ignored", () => {
    const r = rig();
    r.hp.plug(2);
    r.select(0);
    r.wr(ACPI_CPU_FLAGS_OFFSET_RW, CPU_FLAG_EJECT, 1);
    r.select(3);
    r.wr(ACPI_CPU_FLAGS_OFFSET_RW, CPU_FLAG_EJECT, 1);
    expect(r.ejected).toEqual([]);
    expect(r.hp.ignoredEjects).toBe(2);
    r.select(2);
    r.wr(ACPI_CPU_FLAGS_OFFSET_RW, CPU_FLAG_EJECT, 1);
    expect(r.ejected).toEqual([2]);
    expect(r.flags()).toBe(CPU_FLAG_INSERT); // the insert event was never cleared; CPEN is gone
    expect(r.tracer.guestErrors).toBe(0);
  });

  test("one action per flags write: clear-insert wins over eject; the command byte of a 4-byte write is ignored", () => {
    const r = rig();
    r.hp.plug(2);
    r.select(2);
    r.cmd(CPHP_GET_CPU_ID_CMD);
    r.wr(ACPI_CPU_FLAGS_OFFSET_RW, CPU_FLAG_INSERT | CPU_FLAG_EJECT | (CPHP_OST_STATUS_CMD << 8), 4);
    expect(r.ejected).toEqual([]);
    expect(r.flags()).toBe(CPU_FLAG_ENABLED);
    expect(r.rd(ACPI_CPU_CMD_DATA_OFFSET_RW)).toBe(2); // still CPHP_GET_CPU_ID_CMD
  });

  test("fw-remove is set only on a present, non-boot CPU and counts as an event", () => {
    const r = rig();
    r.select(0);
    r.wr(ACPI_CPU_FLAGS_OFFSET_RW, CPU_FLAG_FW_REMOVE, 1);
    expect(r.flags()).toBe(CPU_FLAG_ENABLED);
    r.select(1);
    r.wr(ACPI_CPU_FLAGS_OFFSET_RW, CPU_FLAG_FW_REMOVE, 1);
    expect(r.flags()).toBe(CPU_FLAG_ENABLED | CPU_FLAG_FW_REMOVE);
    r.select(3);
    r.cmd(CPHP_GET_NEXT_CPU_WITH_EVENT_CMD);
    expect(r.rd(ACPI_CPU_CMD_DATA_OFFSET_RW)).toBe(1);
  });

  test("a selector past the last CPU: reads 0, writes other than the selector's are dropped", () => {
    const r = rig();
    r.hp.plug(2);
    r.select(ARCH_IDS.length);
    expect(r.flags()).toBe(0);
    r.cmd(CPHP_GET_CPU_ID_CMD);
    r.select(2);
    expect(r.rd(ACPI_CPU_CMD_DATA_OFFSET_RW)).toBe(2); // GET_NEXT is still the command: data = selector
    r.cmd(CPHP_GET_CPU_ID_CMD);
    expect(r.rd(ACPI_CPU_CMD_DATA_OFFSET_RW)).toBe(2);
    r.cmd(7); // >= CPHP_CMD_MAX: ignored
    r.select(4);
    expect(r.rd(ACPI_CPU_CMD_DATA_OFFSET_RW)).toBe(5);
  });

  test("an 8-byte access is two 4-byte pieces (valid max 4); the GED selector refuses anything but 4 bytes", () => {
    const r = rig();
    const wide = { hi: 0 };
    r.select(1);
    expect(r.hp.read(0, 8, wide)).toBe(0); // command data 2 (GET_NEXT: 0)
    expect(wide.hi).toBe(CPU_FLAG_ENABLED); // the flags of slot 1 (the command byte above reads 0)
    expect(r.tracer.guestErrors).toBe(0);
    r.ged.sendEvent(ACPI_GED_CPU_HOTPLUG_EVT);
    expect(r.ged.read(0, 2, wide)).toBe(0); // "Invalid read ... reason: invalid size"
    expect(r.tracer.guestErrors).toBe(1);
    expect(r.ged.pending).toBe(ACPI_GED_CPU_HOTPLUG_EVT); // not consumed
    r.ged.write(0, 4, 0xffffffff, 0); // writes are ignored
    expect(r.ged.read(0, 4, wide)).toBe(ACPI_GED_CPU_HOTPLUG_EVT);
  });

  test("snapshot and restore round-trip", () => {
    const r = rig();
    r.hp.plug(2);
    r.hp.unplugRequest(1);
    r.select(2);
    r.cmd(CPHP_OST_EVENT_CMD);
    r.wr(ACPI_CPU_CMD_DATA_OFFSET_RW, 3);
    const s = r.hp.snapshot();
    const other = rig();
    other.hp.restore(s);
    expect(other.hp.snapshot()).toEqual(s);
    expect(other.flags()).toBe(CPU_FLAG_ENABLED | CPU_FLAG_INSERT);
  });
});
