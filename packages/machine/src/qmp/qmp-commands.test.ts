/**
 * Every QMP command of an irqlab machine: happy paths, error classes and
 * QEMU's texts.
 */
import { op, type GuestProgram } from "@irqlab/sim";
import { describe, expect, test } from "vitest";
import { armConfig, riscvConfig } from "../../test/machine-config-fixture.js";
import { QmpTestClient } from "../../test/qmp-test-client.js";
import { IRQLAB_VERSION } from "../cmdline/help-text.js";
import type { MachineConfig } from "../config/machine-config.js";
import { Machine } from "../machine.js";
import { QmpMonitor } from "./qmp-monitor.js";

function setup(config: MachineConfig, onQuit?: () => void): { m: Machine; mon: QmpMonitor; c: QmpTestClient } {
  const m = Machine.create({ config });
  const mon = new QmpMonitor(m, onQuit === undefined ? {} : { onQuit });
  return { m, mon, c: QmpTestClient.negotiated(mon) };
}

const ret = (c: QmpTestClient, execute: string, args?: Record<string, unknown>): unknown => {
  const r = c.exec({ execute, ...(args === undefined ? {} : { arguments: args }) });
  const last = r.at(-1)!;
  if (!("return" in last)) throw new Error(`${execute}: ${JSON.stringify(last)}`);
  return last.return;
};
const error = (c: QmpTestClient, execute: string, args?: Record<string, unknown>): unknown => c.exec({ execute, ...(args === undefined ? {} : { arguments: args }) }).at(-1)!.error;
const gen = (desc: string): unknown => ({ class: "GenericError", desc });

describe("control and run-state commands", () => {
  test("query-version, query-kvm, query-commands", () => {
    const { c } = setup(armConfig());
    expect(ret(c, "query-version")).toEqual({ qemu: { major: 11, minor: 1, micro: 0 }, package: ` (irqlab ${IRQLAB_VERSION})` });
    expect(ret(c, "query-kvm")).toEqual({ enabled: true, present: true });
    const names = (ret(c, "query-commands") as { name: string }[]).map((x) => x.name);
    expect(names[0]).toBe("x-irqlab-step"); // prepended: last registered first
    expect(names.at(-1)).toBe("qmp_capabilities");
    expect(new Set(names)).toEqual(
      new Set(["qmp_capabilities", "query-version", "query-commands", "query-kvm", "query-status", "stop", "cont", "system_reset", "system_powerdown", "quit", "query-cpus-fast", "query-hotpluggable-cpus", "device_add", "device_del", "qom-list", "qom-get", "human-monitor-command", "x-irqlab-query-counters", "x-irqlab-step"]),
    );
  });

  test("query-status, stop and cont with their events; cont after a shutdown needs a reset", () => {
    const { m, c } = setup(armConfig());
    expect(ret(c, "query-status")).toEqual({ running: true, status: "running" });
    expect(c.exec({ execute: "stop" }).map((x) => x.event ?? "return")).toEqual(["STOP", "return"]);
    expect(ret(c, "query-status")).toEqual({ running: false, status: "paused" });
    expect(c.exec({ execute: "stop" }).map((x) => x.event ?? "return")).toEqual(["return"]);
    expect(c.exec({ execute: "cont" }).map((x) => x.event ?? "return")).toEqual(["RESUME", "return"]);
    expect(c.exec({ execute: "cont" }).map((x) => x.event ?? "return")).toEqual(["return"]);
    m.shutdown("guest-shutdown");
    c.take();
    expect(ret(c, "query-status")).toEqual({ running: false, status: "shutdown" });
    expect(error(c, "cont")).toEqual(gen("Resetting the Virtual Machine is required"));
  });

  test("system_reset answers first; the reset and its RESET event happen when time next runs", () => {
    const { m, c } = setup(armConfig());
    expect(c.exec({ execute: "system_reset" })).toEqual([{ return: {} }]);
    m.run(1000);
    expect(c.take().map((e) => [e.event, e.data])).toEqual([["RESET", { guest: false, reason: "host-qmp-system-reset" }]]);
    expect(m.runState).toBe("running");
  });

  test("system_powerdown: POWERDOWN after the answer, and a guest that ignores it keeps running", () => {
    const { m, c } = setup(armConfig());
    expect(c.exec({ execute: "system_powerdown" }).map((x) => x.event ?? "return")).toEqual(["return", "POWERDOWN"]);
    m.run(10_000);
    expect(m.runState).toBe("running");
  });

  test("quit: the answer, then SHUTDOWN (host-qmp-quit), then onQuit", () => {
    const order: string[] = [];
    const { mon } = setup(armConfig(), () => order.push("onQuit"));
    const other = QmpTestClient.negotiated(mon);
    const s = mon.connect((t) => order.push(t.startsWith('{"QMP"') ? "greeting" : t.startsWith('{"return"') ? "return" : (JSON.parse(t) as { event: string }).event));
    s.receive('{"execute": "qmp_capabilities"}{"execute": "quit"}');
    expect(order).toEqual(["greeting", "return", "return", "SHUTDOWN", "onQuit"]);
    expect(other.take().map((e) => e.data)).toEqual([{ guest: false, reason: "host-qmp-quit" }]);
  });
});

describe("CPUs", () => {
  test("query-cpus-fast on arm and riscv", () => {
    const arm = setup(armConfig({ cpus: 2 }));
    expect(ret(arm.c, "query-cpus-fast")).toEqual([
      { "cpu-index": 0, "qom-path": "/machine/unattached/device[0]", "thread-id": 1000, props: { "core-id": 0, "thread-id": 0, "socket-id": 0, "cluster-id": 0 }, target: "aarch64" },
      { "cpu-index": 1, "qom-path": "/machine/unattached/device[1]", "thread-id": 1001, props: { "core-id": 1, "thread-id": 0, "socket-id": 0, "cluster-id": 0 }, target: "aarch64" },
    ]);
    const rv = setup(riscvConfig({ cpus: 2 }));
    expect(ret(rv.c, "query-cpus-fast")).toEqual([
      { "cpu-index": 0, "qom-path": "/machine/soc0/harts[0]", "thread-id": 1000, props: { "core-id": 0 }, target: "riscv64" },
      { "cpu-index": 1, "qom-path": "/machine/soc0/harts[1]", "thread-id": 1001, props: { "core-id": 1 }, target: "riscv64" },
    ]);
  });

  test("query-hotpluggable-cpus: refused without CPU hotplug, highest slot first with it", () => {
    expect(error(setup(armConfig()).c, "query-hotpluggable-cpus")).toEqual(gen("The feature 'query-hotpluggable-cpus' is not enabled"));
    expect(error(setup(riscvConfig()).c, "query-hotpluggable-cpus")).toEqual(gen("The feature 'query-hotpluggable-cpus' is not enabled"));
    const { c } = setup(armConfig({ cpus: 1, maxcpus: 3, cpuHotplug: "precreate" }));
    const list = ret(c, "query-hotpluggable-cpus") as Record<string, unknown>[];
    expect(list.map((x) => [x.type, x["vcpus-count"], (x.props as Record<string, number>)["core-id"], x["qom-path"]])).toEqual([
      ["host-arm-cpu", 1, 2, undefined],
      ["host-arm-cpu", 1, 1, undefined],
      ["host-arm-cpu", 1, 0, "/machine/unattached/device[0]"],
    ]);
  });

  test("device_add of a CPU (precreate): plugged, listed, duplicate ids and bad properties refused", () => {
    const { m, c } = setup(armConfig({ cpus: 1, maxcpus: 3, cpuHotplug: "precreate" }));
    const cpu = (extra: Record<string, unknown>) => ({ driver: "host-arm-cpu", "socket-id": 0, "cluster-id": 0, "thread-id": 0, ...extra });
    expect(c.exec({ execute: "device_add", arguments: cpu({ id: "cpu2", "core-id": 2 }), id: 9 })).toEqual([{ return: {}, id: 9 }]);
    expect(m.cpus.map((x) => x.index)).toEqual([0, 2]);
    expect((ret(c, "query-cpus-fast") as Record<string, unknown>[]).map((x) => x["qom-path"])).toEqual(["/machine/unattached/device[0]", "/machine/peripheral/cpu2"]);
    expect(error(c, "device_add", cpu({ id: "cpu2", "core-id": 1 }))).toEqual(gen("Duplicate device ID 'cpu2'"));
    expect(error(c, "device_add", cpu({ "core-id": 2 }))).toEqual(gen("CPU slot 2 is already plugged"));
    expect(error(c, "device_add", cpu({ "core-id": 3 }))).toEqual(gen("Invalid CPU core-id: 3 must be in range 0:2"));
    expect(error(c, "device_add", { driver: "host-arm-cpu", "core-id": 1 })).toEqual(gen("CPU socket-id is not set"));
    expect(error(c, "device_add", cpu({ "core-id": "1" }))).toEqual(gen("Invalid parameter type for 'core-id', expected: integer"));
    expect(error(c, "device_add", cpu({ "core-id": 1, speed: 3 }))).toEqual(gen("Property 'host-arm-cpu.speed' not found"));
    expect(error(c, "device_add", { driver: "max-arm-cpu", "core-id": 1 })).toEqual(gen("Invalid CPU type, expected cpu type: 'host-arm-cpu'"));
    expect(error(c, "device_add", { driver: "rv64-riscv-cpu" })).toEqual(gen("'rv64-riscv-cpu' is not a valid device model name"));
    expect(error(c, "device_add", { id: "x" })).toEqual(gen("Parameter 'driver' is missing"));
  });

  test("device_add of a CPU (naive): the realize fails as kvm_init_vcpu reports EBUSY", () => {
    const { c } = setup(armConfig({ cpus: 1, maxcpus: 2, cpuHotplug: "naive" }));
    expect(error(c, "device_add", { driver: "host-arm-cpu", "socket-id": 0, "cluster-id": 0, "core-id": 1, "thread-id": 0 })).toEqual(gen("kvm_init_vcpu: kvm_create_vcpu failed (1): Device or resource busy"));
  });

  test("device_add of a CPU without a hotplug handler (riscv virt, arm virt upstream)", () => {
    expect(error(setup(riscvConfig()).c, "device_add", { driver: "rv64-riscv-cpu", "core-id": 1 })).toEqual(gen("Device 'rv64-riscv-cpu' can not be hotplugged on this machine"));
    expect(error(setup(armConfig({ cpus: 1, maxcpus: 2 })).c, "device_add", { driver: "host-arm-cpu", "core-id": 1 })).toEqual(gen("Device 'host-arm-cpu' can not be hotplugged on this machine"));
  });

  test("device_del: the CPU leaves when ejected, with DEVICE_DELETED; errors as QEMU", () => {
    const { m, c } = setup(armConfig({ cpus: 1, maxcpus: 3, cpuHotplug: "precreate" }));
    ret(c, "device_add", { driver: "host-arm-cpu", id: "c1", "socket-id": 0, "cluster-id": 0, "core-id": 1, "thread-id": 0 });
    expect(c.exec({ execute: "device_del", arguments: { id: "c1" } })).toEqual([{ return: {} }]);
    expect(m.cpus.map((x) => x.index)).toEqual([0, 1]); // not gone until the guest ejects it
    m.unplugCpu(1); // what the guest's eject write does
    expect(c.take().map((e) => [e.event, e.data])).toEqual([["DEVICE_DELETED", { device: "c1", path: "/machine/peripheral/c1" }]]);
    expect((ret(c, "query-hotpluggable-cpus") as Record<string, unknown>[]).map((x) => x["qom-path"])).toEqual([undefined, undefined, "/machine/unattached/device[0]"]);
    expect(c.exec({ execute: "device_del", arguments: { id: "c1" } })).toEqual([{ error: { class: "DeviceNotFound", desc: "Device 'c1' not found" } }]);
    expect(error(c, "device_del", { id: "/machine/unattached/device[0]" })).toEqual(gen("Boot CPU(id0=0:0:0:0) hot-unplug not supported"));
    expect(error(setup(riscvConfig()).c, "device_del", { id: "/machine/soc0/harts[0]" })).toEqual(gen("Device 'host-riscv-cpu' can not be hotplugged on this machine"));
  });
});

describe("PCI devices", () => {
  const withPci = (): MachineConfig => ({ ...armConfig(), devices: [{ driver: "x-irqlab-msix-test", id: "nic0", props: {} }, { driver: "x-irqlab-msix-test", props: {} }] });

  test("device_add on pcie.0 and device_del of a cold-plugged function: the root bus cannot hotplug", () => {
    const { c } = setup(withPci());
    expect(error(c, "device_add", { driver: "x-irqlab-msix-test", id: "n2" })).toEqual(gen("Bus 'pcie.0' does not support hotplugging"));
    expect(error(c, "device_add", { driver: "x-irqlab-msix-test", id: "nic0", bus: "pcie.0" })).toEqual(gen("Bus 'pcie.0' does not support hotplugging"));
    expect(error(c, "device_add", { driver: "x-irqlab-msix-test", bus: "pci.7" })).toEqual({ class: "DeviceNotFound", desc: "Bus 'pci.7' not found" });
    expect(error(c, "device_add", { driver: "vfio-platform" })).toEqual(gen("Bus 'main-system-bus' does not support hotplugging"));
    expect(error(c, "device_add", { driver: "e1000" })).toEqual(gen("'e1000' is not a valid device model name"));
    expect(error(c, "device_del", { id: "nic0" })).toEqual(gen("Bus 'pcie.0' does not support hotplugging"));
    expect(error(c, "device_del", { id: "/machine/peripheral-anon/device[0]" })).toEqual(gen("Bus 'pcie.0' does not support hotplugging"));
  });

  test("qom-list / qom-get over the machine, CPUs and devices", () => {
    const { c } = setup(withPci());
    expect(ret(c, "qom-list", { path: "/machine" })).toEqual([
      { name: "type", type: "string" },
      { name: "unattached", type: "child<container>" },
      { name: "peripheral", type: "child<container>" },
      { name: "peripheral-anon", type: "child<container>" },
    ]);
    expect(ret(c, "qom-get", { path: "/machine", property: "type" })).toBe("virt-11.1-machine");
    expect(ret(c, "qom-list", { path: "/machine/peripheral" })).toEqual([
      { name: "type", type: "string" },
      { name: "nic0", type: "child<x-irqlab-msix-test>" },
    ]);
    expect(ret(c, "qom-get", { path: "/machine/peripheral/nic0", property: "addr" })).toBe(8);
    expect(ret(c, "qom-get", { path: "/machine/peripheral-anon/device[0]", property: "addr" })).toBe(16);
    expect(ret(c, "qom-get", { path: "/machine/unattached/device[0]", property: "mp-affinity" })).toBe(0);
    expect(ret(c, "qom-get", { path: "nic0", property: "realized" })).toBe(true); // a partial path
    // Ambiguous partial path (unattached/device[0] and peripheral-anon/device[0]): object_resolve_path() finds nothing.
    expect(error(c, "qom-get", { path: "device[0]", property: "type" })).toEqual({ class: "DeviceNotFound", desc: "Device 'device[0]' not found" });
    expect(error(c, "qom-get", { path: "/machine/unattached/device[0]", property: "hartid" })).toEqual(gen("Property 'host-arm-cpu.hartid' not found"));
    expect(error(c, "qom-list", { path: "/machine/nothing" })).toEqual({ class: "DeviceNotFound", desc: "Device '/machine/nothing' not found" });
    const rv = setup(riscvConfig({ cpus: 2 }));
    expect(ret(rv.c, "qom-get", { path: "/machine/soc0/harts[1]", property: "hartid" })).toBe(1);
    expect(ret(rv.c, "qom-get", { path: "/machine", property: "type" })).toBe("virt-machine");
  });
});

describe("human-monitor-command", () => {
  test("info cpus, status, version; unknown commands", () => {
    const { c, m } = setup(armConfig({ cpus: 2 }));
    expect(ret(c, "human-monitor-command", { "command-line": "info cpus" })).toBe("* CPU #0: thread_id=1000\r\n  CPU #1: thread_id=1001\r\n");
    expect(ret(c, "human-monitor-command", { "command-line": "info cpus", "cpu-index": 1 })).toBe("  CPU #0: thread_id=1000\r\n* CPU #1: thread_id=1001\r\n");
    expect(error(c, "human-monitor-command", { "command-line": "info cpus", "cpu-index": 5 })).toEqual(gen("Parameter 'cpu-index' expects a CPU number"));
    expect(ret(c, "human-monitor-command", { "command-line": "info status" })).toBe("VM status: running\r\n");
    m.stop();
    expect(ret(c, "human-monitor-command", { "command-line": "info status" })).toBe("VM status: paused\r\n");
    m.shutdown("guest-shutdown");
    expect(ret(c, "human-monitor-command", { "command-line": "info status" })).toBe("VM status: paused (shutdown)\r\n");
    expect(ret(c, "human-monitor-command", { "command-line": "info version" })).toBe(`11.1.0 (irqlab ${IRQLAB_VERSION})\r\n`);
    expect(ret(c, "human-monitor-command", { "command-line": "savevm x" })).toBe("unknown command: 'savevm'\r\n");
    expect(ret(c, "human-monitor-command", { "command-line": "info nothing" })).toBe("unknown command: 'info nothing'\r\n");
    expect(ret(c, "human-monitor-command", { "command-line": " i  nothing more" })).toBe("unknown command: ' i  nothing'\r\n");
    expect(ret(c, "human-monitor-command", { "command-line": "info kvm" })).toBe("kvm support: enabled\r\n");
    expect(ret(c, "human-monitor-command", { "command-line": "info" })).toContain("info cpus  -- show infos for each CPU\r\n");
    expect(ret(c, "human-monitor-command", { "command-line": "   " })).toBe("");
  });

  test("info qtree and info irq", () => {
    const { c } = setup({ ...armConfig(), devices: [{ driver: "x-irqlab-msix-test", id: "t0", props: {} }] });
    const qtree = ret(c, "human-monitor-command", { "command-line": "info qtree" }) as string;
    expect(qtree.split("\r\n").slice(0, 8)).toEqual(["bus: main-system-bus", "  type System", '  dev: gpex-pcihost, id ""', "    bus: pcie.0", "      type PCIE", '      dev: x-irqlab-msix-test, id "t0"', "        addr = 01.0", expect.stringMatching(/^ {8}class .*, addr 00:01\.0, pci id [0-9a-f]{4}:[0-9a-f]{4} \(sub [0-9a-f]{4}:[0-9a-f]{4}\)$/)]);
    expect(ret(c, "human-monitor-command", { "command-line": "info irq" })).toBe("IRQ statistics for irqfd:\r\n");
  });
});

describe("irqlab commands", () => {
  test("x-irqlab-step runs virtual time and reports events on the way; x-irqlab-query-counters reports what the model measured", () => {
    let wfis = 0;
    const m = Machine.create({
      config: armConfig(),
      kernel: {
        main: function* (): GuestProgram {
          for (let i = 0; i < 3; i++) {
            yield op.compute(1000);
            yield op.write(0x0900_0000, 1, 0x41); // PL011 UARTDR: an MMIO exit
          }
          wfis++;
          yield op.hvc([0x8400_0008]); // PSCI SYSTEM_OFF
        },
      },
    });
    const c = QmpTestClient.negotiated(new QmpMonitor(m));
    const out = c.exec({ execute: "x-irqlab-step", arguments: { ns: 1_000_000 } });
    expect(out.map((x) => x.event ?? x.return)).toEqual(["SHUTDOWN", { end: "shutdown", "time-ns": m.queue.now - m.createdAt }]);
    expect(wfis).toBe(1);
    const k = ret(c, "x-irqlab-query-counters") as { counters: { name: string; value: number }[]; vcpus: { runs: number; continuations: number; exits: number }[]; ioctls: { name: string; count: number }[] };
    expect(k.vcpus[0]!.exits).toBeGreaterThanOrEqual(4);
    // One vCPU, run to its power-off in one step: no other vCPU's operation nor the step's end stopped a KVM_RUN short.
    expect(k.vcpus[0]!.continuations).toBe(0);
    expect(k.counters.find((x) => x.name === "kvm.exit.KVM_EXIT_MMIO")?.value).toBe(3);
    expect(k.ioctls.find((x) => x.name === "KVM_CREATE_VCPU")?.count).toBe(1);
    expect(error(c, "x-irqlab-step", { ns: -1 })).toEqual(gen("Parameter 'ns' expects a non-negative number of nanoseconds"));
  });

  test("x-irqlab-step is refused from inside a run", () => {
    const { m, mon } = setup(armConfig());
    let answer: unknown;
    m.queue.schedule(m.queue.now + 500, () => {
      answer = mon.execute("x-irqlab-step", { ns: 10 });
    });
    m.run(1000);
    expect(answer).toEqual({ error: gen("x-irqlab-step: virtual time is already running") });
  });
});
