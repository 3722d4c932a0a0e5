/**
 * The QOM view of a machine that QMP shows: type names, canonical paths and
 * CPU instance properties, as QEMU's virt boards give them.
 *
 * - CPU types: `<model>-arm-cpu` (target/arm/cpu-qom.h ARM_CPU_TYPE_NAME),
 *   `<model>-riscv-cpu` (target/riscv/cpu-qom.h RISCV_CPU_TYPE_NAME).
 * - Machine types: `virt-11.1-machine` (hw/arm/virt.c DEFINE_VIRT_MACHINE,
 *   alias "virt"), `virt-machine` (hw/riscv/virt.c TYPE_RISCV_VIRT_MACHINE).
 * - Canonical paths: a cold-plugged arm CPU has no parent when realized and
 *   lands in /machine/unattached/device[N] (device_set_realized), N = its
 *   cpu_index since the CPUs are the first such devices machvirt_init
 *   realizes; riscv harts are children of the socket's hart array,
 *   /machine/soc<S>/harts[<i>] (virt_machine_init, riscv_harts_realize);
 *   a device with an id is /machine/peripheral/<id> (qdev_set_id), one
 *   without /machine/peripheral-anon/device[N]. A CPU hotplugged without an
 *   id is named as the machine's DEVICE_DELETED names it.
 * - CPU instance properties (possible_cpu_arch_ids): arm virt
 *   socket/cluster/core/thread ids from the cpu_index
 *   (virt_possible_cpu_arch_ids); riscv core-id = cpu_index
 *   (riscv_numa_possible_cpu_arch_ids).
 */

import type { Machine } from "../machine.js";

/** The QOM type of the machine's CPUs (ms->cpu_type). */
export function cpuTypeName(m: Machine): string {
  return m.config.arch === "aarch64" ? `${m.config.cpu}-arm-cpu` : `${m.config.cpu}-riscv-cpu`;
}

/** The QOM type of the machine object. */
export function machineTypeName(m: Machine): string {
  return m.config.arch === "aarch64" ? "virt-11.1-machine" : "virt-machine";
}

/** CpuInstanceProperties of a slot, members in the schema's order. */
export function cpuInstanceProps(m: Machine, index: number): Record<string, number> {
  const s = m.config.smp;
  if (m.config.arch === "riscv64") return { "core-id": index };
  return {
    "socket-id": Math.floor(index / (s.clusters * s.cores * s.threads)),
    "cluster-id": Math.floor(index / (s.cores * s.threads)) % s.clusters,
    "core-id": Math.floor(index / s.threads) % s.cores,
    "thread-id": index % s.threads,
  };
}

/** The CPU instance property names a `device_add` of a CPU takes on this machine. */
export function cpuPropNames(m: Machine): readonly string[] {
  return m.config.arch === "riscv64" ? ["core-id"] : ["socket-id", "cluster-id", "core-id", "thread-id"];
}

/** Where QMP-visible devices live, and the ids taken. */
export class QomRegistry {
  /** device_add ids of CPUs hotplugged through the monitor, by slot. */
  readonly #cpuIds = new Map<number, string | undefined>();

  constructor(readonly machine: Machine) {}

  /** Records a CPU plugged by device_add. */
  cpuPlugged(index: number, id: string | undefined): void {
    this.#cpuIds.set(index, id);
  }

  /** Forgets CPUs the machine no longer has (unplugged since). */
  sync(): void {
    const present = new Set(this.machine.cpus.map((c) => c.index));
    for (const i of [...this.#cpuIds.keys()]) if (!present.has(i)) this.#cpuIds.delete(i);
  }

  /** Whether slot `index` was hotplugged (not cold-plugged at boot). */
  hotplugged(index: number): boolean {
    return this.#cpuIds.has(index);
  }

  /** The device id of a plugged CPU, if it has one. */
  cpuId(index: number): string | undefined {
    return this.#cpuIds.get(index);
  }

  /** The canonical QOM path of the CPU in slot `index` (plugged). */
  cpuPath(index: number): string {
    const m = this.machine;
    if (this.#cpuIds.has(index)) {
      const id = this.#cpuIds.get(index);
      return id === undefined ? `/machine/peripheral-anon/cpu${index}` : `/machine/peripheral/${id}`;
    }
    if (m.config.arch === "aarch64") return `/machine/unattached/device[${index}]`;
    const perSocket = Math.max(1, Math.floor(m.config.smp.maxcpus / m.config.smp.sockets));
    return `/machine/soc${Math.floor(index / perSocket)}/harts[${index % perSocket}]`;
  }

  /** Every device id in use: cold-plugged -device ids and hotplugged CPUs'. */
  ids(): Set<string> {
    const ids = new Set<string>();
    for (const d of this.machine.config.devices) if (d.id !== undefined) ids.add(d.id);
    for (const id of this.#cpuIds.values()) if (id !== undefined) ids.add(id);
    return ids;
  }

  /** QOM paths of the cold-plugged -device devices, in command-line order, with their driver. */
  devices(): { readonly path: string; readonly id: string | undefined; readonly driver: string }[] {
    let anon = 0;
    return this.machine.config.devices.map((d) => ({ path: d.id === undefined ? `/machine/peripheral-anon/device[${anon++}]` : `/machine/peripheral/${d.id}`, id: d.id, driver: d.driver }));
  }
}
