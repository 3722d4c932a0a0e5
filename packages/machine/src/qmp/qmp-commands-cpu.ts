/**
 * CPU queries (qapi/machine.json; hw/core/machine-qmp-cmds.c):
 *
 * - query-cpus-fast: one CpuInfoFast per plugged CPU in cpu_index order
 *   (CPU_FOREACH): cpu-index, qom-path, thread-id, props
 *   (cpu_index_to_instance_props), target ("aarch64" / "riscv64").
 *   A model has no host threads: thread-id is a stable stand-in derived
 *   from the machine's index on its host and the cpu_index
 *   ({@link fakeThreadId}).
 * - query-hotpluggable-cpus: only on a machine class with
 *   has_hotpluggable_cpus, else "The feature 'query-hotpluggable-cpus' is
 *   not enabled" (QERR_FEATURE_DISABLED). Upstream neither arm nor riscv
 *   virt sets it; irqlab's arm virt with x-cpu-hotplug=precreate|naive does,
 *   as the arm vCPU hotplug RFCs do. One HotpluggableCPU per possible CPU,
 *   the list built by prepending (highest slot first), qom-path only for a
 *   plugged CPU.
 */

import type { QmpCommand } from "./qmp-dispatch.js";
import type { QmpCommandEnv } from "./qmp-env.js";
import { genericError } from "./qmp-args.js";
import { cpuInstanceProps, cpuTypeName } from "./qom-model.js";

/** The thread-id irqlab reports for a vCPU thread: 1000 * (the machine's index on its host + 1) + cpu_index. */
export function fakeThreadId(vmIndex: number, cpuIndex: number): number {
  return 1000 * (vmIndex + 1) + cpuIndex;
}

/** Whether the machine class has hotpluggable CPUs (mc->has_hotpluggable_cpus). */
export function hasHotpluggableCpus(env: QmpCommandEnv): boolean {
  const mc = env.machine.config.machine;
  return "cpuHotplug" in mc && mc.cpuHotplug !== "off";
}

/** query-cpus-fast / query-hotpluggable-cpus. */
export function cpuCommands(env: QmpCommandEnv): QmpCommand[] {
  const m = env.machine;
  const reg = env.registry;
  return [
    {
      name: "query-cpus-fast",
      args: [],
      run() {
        reg.sync();
        return m.cpus.map((c) => ({
          "cpu-index": c.index,
          "qom-path": reg.cpuPath(c.index),
          "thread-id": fakeThreadId(m.vm.index, c.index),
          props: cpuInstanceProps(m, c.index),
          target: m.config.arch,
        }));
      },
    },
    {
      name: "query-hotpluggable-cpus",
      args: [],
      run() {
        if (!hasHotpluggableCpus(env)) throw genericError("The feature 'query-hotpluggable-cpus' is not enabled");
        reg.sync();
        const plugged = new Set(m.cpus.map((c) => c.index));
        const type = cpuTypeName(m);
        return [...m.slots].reverse().map((s) => ({
          type,
          "vcpus-count": 1,
          props: cpuInstanceProps(m, s.index),
          "qom-path": plugged.has(s.index) ? reg.cpuPath(s.index) : undefined,
        }));
      },
    },
  ];
}
