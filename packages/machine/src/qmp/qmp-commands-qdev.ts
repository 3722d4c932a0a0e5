/**
 * device_add and device_del (qapi/qdev.json; system/qdev-monitor.c
 * qdev_device_add_from_qdict, qmp_device_del, find_device_state;
 * hw/core/qdev-hotplug.c qdev_hotplug_unplug_allowed_common), in QEMU's
 * order of checks and with its texts:
 *
 * 1. "Parameter 'driver' is missing"; "'x' is not a valid device model
 *    name" (qdev_get_device_class);
 * 2. the bus: `bus` names one ("Bus 'x' not found", "Device 'd' can't go on
 *    PCIE bus"), or the driver's default (pcie.0 for PCI functions,
 *    main-system-bus for vfio-platform); neither bus of the virt machines
 *    can hotplug: "Bus 'pcie.0' does not support hotplugging" (the GPEX
 *    root bus has no hotplug handler);
 * 3. a CPU needs a machine hotplug handler: "Device 'd' can not be
 *    hotplugged on this machine" (riscv virt; arm virt unless
 *    x-cpu-hotplug=precreate|naive);
 * 4. "Duplicate device ID 'x'" (qdev_set_id);
 * 5. properties as the JSON input visitor sets them: "Property 'd.p' not
 *    found", "Invalid parameter type for 'p', expected: integer";
 * 6. the CPU's pre-plug checks of the arm vCPU hotplug RFCs
 *    (virt_cpu_pre_plug, modelled on pc_cpu_pre_plug): the CPU type, every
 *    topology id set and in range; then the plug itself (Machine.plugCpu),
 *    whose failure is the realize error (kvm_init_vcpu's EBUSY text).
 *
 * device_del answers at once; the CPU leaves when the guest has ejected it,
 * and DEVICE_DELETED is the machine's event.
 */

import type { Machine } from "../machine.js";
import { PCI_DEVICE_DRIVERS } from "../wiring/pci-devices.js";
import { QmpError, genericError } from "./qmp-args.js";
import { hasHotpluggableCpus } from "./qmp-commands-cpu.js";
import type { QmpCommand } from "./qmp-dispatch.js";
import type { QmpCommandEnv } from "./qmp-env.js";
import type { QDict } from "./qobject.js";
import { cpuPropNames, cpuTypeName } from "./qom-model.js";

/** The CPU models irqlab's machines accept under KVM, by target. */
const CPU_MODELS: Readonly<Record<string, readonly string[]>> = { aarch64: ["host", "max"], riscv64: ["host", "max", "rv64"] };

type DriverKind = "cpu" | "pci" | "sysbus";

function driverKind(m: Machine, driver: string): DriverKind | undefined {
  const suffix = m.config.arch === "aarch64" ? "-arm-cpu" : "-riscv-cpu";
  if (driver.endsWith(suffix) && CPU_MODELS[m.config.arch]!.includes(driver.slice(0, -suffix.length))) return "cpu";
  if (driver in PCI_DEVICE_DRIVERS) return "pci";
  if (driver === "vfio-platform") return "sysbus";
  return undefined;
}

/** The buses of a virt machine: name → QOM type name. */
const BUSES: Readonly<Record<string, string>> = { "pcie.0": "PCIE", "main-system-bus": "System" };

function deviceAdd(env: QmpCommandEnv, opts: QDict): void {
  const m = env.machine;
  const driver = opts.get("driver");
  if (typeof driver !== "string") throw genericError("Parameter 'driver' is missing");
  const kind = driverKind(m, driver);
  if (kind === undefined) throw genericError(`'${driver}' is not a valid device model name`);
  const busName = opts.get("bus");
  const bus: string | undefined = kind === "pci" ? "pcie.0" : kind === "sysbus" ? "main-system-bus" : undefined;
  if (typeof busName === "string") {
    const type = BUSES[busName];
    if (type === undefined) throw new QmpError("DeviceNotFound", `Bus '${busName}' not found`);
    if (busName !== bus) throw genericError(`Device '${driver}' can't go on ${type} bus`);
  }
  // Neither the GPEX root bus nor the main system bus has a hotplug handler on the virt machines.
  if (bus !== undefined) throw genericError(`Bus '${bus}' does not support hotplugging`);
  if (!hasHotpluggableCpus(env)) throw genericError(`Device '${driver}' can not be hotplugged on this machine`);
  const id = opts.get("id");
  if (typeof id === "string" && env.registry.ids().has(id)) throw genericError(`Duplicate device ID '${id}'`);
  const names = cpuPropNames(m);
  const props = new Map<string, number>();
  for (const [k, v] of opts.entries()) {
    if (k === "driver" || k === "bus" || k === "id") continue;
    if (!names.includes(k) && k !== "node-id") throw genericError(`Property '${driver}.${k}' not found`);
    if (typeof v !== "bigint") throw genericError(`Invalid parameter type for '${k}', expected: integer`);
    props.set(k, Number(v));
  }
  const type = cpuTypeName(m);
  if (driver !== type) throw genericError(`Invalid CPU type, expected cpu type: '${type}'`);
  const s = m.config.smp;
  const ranges: Record<string, number> = { "socket-id": s.sockets, "cluster-id": s.clusters, "core-id": s.cores, "thread-id": s.threads };
  for (const k of names) {
    const v = props.get(k);
    const what = k.replace("-id", "");
    if (v === undefined || v < 0) throw genericError(`CPU ${k} is not set`);
    if (v >= ranges[k]!) throw genericError(`Invalid CPU ${what}-id: ${v} must be in range 0:${ranges[k]! - 1}`);
  }
  const index = (((props.get("socket-id")! * s.clusters + props.get("cluster-id")!) * s.cores + props.get("core-id")!) * s.threads) + props.get("thread-id")!;
  // A failed plug throws the machine's ConfigError: the realize error, answered as a GenericError.
  m.plugCpu(index, typeof id === "string" ? id : undefined);
  env.registry.cpuPlugged(index, typeof id === "string" ? id : undefined);
}

function deviceDel(env: QmpCommandEnv, id: string): void {
  const m = env.machine;
  const reg = env.registry;
  reg.sync();
  const path = id.startsWith("/") ? id : `/machine/peripheral/${id}`;
  const cpu = m.cpus.find((c) => reg.cpuPath(c.index) === path);
  if (cpu !== undefined) {
    if (!hasHotpluggableCpus(env)) throw genericError(`Device '${cpuTypeName(m)}' can not be hotplugged on this machine`);
    m.requestUnplugCpu(cpu.index);
    return;
  }
  const dev = reg.devices().find((d) => d.path === path);
  if (dev === undefined) throw new QmpError("DeviceNotFound", `Device '${id}' not found`);
  throw genericError(`Bus '${dev.driver in PCI_DEVICE_DRIVERS ? "pcie.0" : "main-system-bus"}' does not support hotplugging`);
}

/** device_add / device_del. */
export function qdevCommands(env: QmpCommandEnv): QmpCommand[] {
  return [
    {
      name: "device_add",
      // 'gen': false — the arguments go to qdev_device_add_from_qdict() as they are.
      args: "dict",
      run(_ctx, _args, raw) {
        deviceAdd(env, raw);
        return {};
      },
    },
    {
      name: "device_del",
      args: [{ name: "id", type: "str" }],
      run(_ctx, args) {
        deviceDel(env, args.id as string);
        return {};
      },
    },
  ];
}
