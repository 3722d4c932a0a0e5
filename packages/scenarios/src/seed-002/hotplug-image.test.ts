// The `hotplug` guest image on the arm virt machine, driven through the
// Machine API (plugCpu / requestUnplugCpu): several CPUs at once, a CPU
// present at boot, a second plug of the same slot, and a machine without
// the hotplug interface.
import { hotplugImage } from "@irqlab/guest";
import { Machine, parseSystemCommandLine, type MachineEvent } from "@irqlab/machine";
import { describe, expect, test } from "vitest";

function boot(mode: "precreate" | "naive" | "off") {
  const p = parseSystemCommandLine("aarch64", ["-M", `virt,x-cpu-hotplug=${mode}`, "-accel", "kvm", "-cpu", "host", "-smp", "cpus=2,maxcpus=4", "-m", "128M"]);
  if (p.kind !== "run") throw new Error("command line");
  const lines: string[] = [];
  const events: MachineEvent[] = [];
  const m = Machine.create({ config: p.config, kernel: hotplugImage(), console: (t) => lines.push(t.replace(/\r?\n$/, "")) });
  m.onEvent((e) => events.push(e));
  m.run(5_000_000);
  return { m, lines, events, tail: () => lines.splice(0) };
}

const osts = (events: MachineEvent[]) => events.flatMap((e) => (e.event === "ACPI_DEVICE_OST" ? [`${e.data.info.slot}:${e.data.info.source}:${e.data.info.status}`] : []));

describe("the hotplug image on the arm virt machine", () => {
  test("two CPUs plugged before the guest scans: both brought up in one scan, each with its own _OST", () => {
    const { m, events, tail } = boot("precreate");
    tail();
    m.plugCpu(2);
    m.plugCpu(3);
    m.run(10_000_000);
    expect(tail()).toEqual([
      "ACPI: CPU2 has been hot-added",
      "CPU2: Booted secondary processor 0x0000000002",
      "CPU2: IPI (SGI 1) from CPU0 received",
      "ACPI: CPU3 has been hot-added",
      "CPU3: Booted secondary processor 0x0000000003",
      "CPU3: IPI (SGI 1) from CPU0 received",
    ]);
    expect(osts(events)).toEqual(["2:1:0", "3:1:0"]);
  });

  test("a CPU present at boot can be unplugged, and a slot plugged again comes up again", () => {
    const { m, events, tail } = boot("precreate");
    tail();
    m.requestUnplugCpu(1);
    m.run(10_000_000);
    expect(tail()).toEqual(["CPU1: eject request", "CPU1: shutdown", "psci: CPU1 killed (polled 0 ms)", "cpuhp: CPU1 ejected"]);
    expect(m.cpus.map((c) => c.index)).toEqual([0]);
    m.plugCpu(1);
    m.run(10_000_000);
    expect(tail()).toEqual(["ACPI: CPU1 has been hot-added", "CPU1: Booted secondary processor 0x0000000001", "CPU1: IPI (SGI 1) from CPU0 received"]);
    expect(osts(events)).toEqual(["1:3:132", "1:3:0", "1:1:0"]);
    expect(events.filter((e) => e.event === "DEVICE_DELETED")).toEqual([{ event: "DEVICE_DELETED", data: { path: "/machine/peripheral-anon/cpu1" } }]);
  });

  test("naive: the failed plug leaves the guest untouched", () => {
    const { m, events, tail } = boot("naive");
    tail();
    expect(() => m.plugCpu(2)).toThrow("Device or resource busy");
    m.run(10_000_000);
    expect([tail(), osts(events), m.cpus.map((c) => c.index)]).toEqual([[], [], [0, 1]]);
  });

  test("without x-cpu-hotplug the image has no interface to use and says so", () => {
    const { lines } = boot("off");
    expect(lines.some((l) => l.includes("hotplug: no irqlab,cpu-hotplug node (-M virt,x-cpu-hotplug=precreate|naive adds it)"))).toBe(true);
  });
});

test("after a reboot the guest brings up a hotplugged CPU that /cpus does not list (the block says it is present)", () => {
  const { m, tail } = boot("precreate");
  m.plugCpu(3);
  m.run(10_000_000);
  tail();
  m.requestReset("host-qmp-system-reset");
  m.run(10_000_000);
  expect(tail()).toEqual([
    "Machine model: linux,dummy-virt",
    "irqlab hotplug on aarch64: 2 CPUs, 128 MiB RAM",
    "cpuhp: /cpu-hotplug@90d0000: 4 possible CPUs, 3 present, GED on SPI 9",
    "smp: Bringing up secondary CPUs ...",
    "CPU1: Booted secondary processor 0x0000000001",
    "CPU3: Booted secondary processor 0x0000000003",
    "smp: Brought up 1 node, 3 CPUs",
  ]);
});
