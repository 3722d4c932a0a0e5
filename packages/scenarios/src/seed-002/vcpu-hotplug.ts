/**
 * Seed 002: Arm vCPU hotplug. Salil Mehta's "[PATCH RFC V5 05/30] arm/virt,
 * kvm: Pre-create KVM vCPUs for all unplugged QOM vCPUs @machine init"
 * (Oct 2024): the GIC must know every CPU when the vgic is initialised —
 * the redistributor ↔ MPIDR association in GICR_TYPER is fixed then, and
 * KVM refuses KVM_CREATE_VCPU once the vgic is initialised (EBUSY) — so
 * QEMU creates and initialises a KVM vCPU for every possible CPU at machine
 * init and parks the absent ones; device_add unparks one. The approach it
 * replaces creates the vCPU at device_add, which fails.
 *
 * Each remedy boots the `hotplug` guest with -smp cpus=2,maxcpus=4 and
 * hot-plugs and hot-unplugs CPU 2 over QMP (./vcpu-hotplug-run.ts).
 */

import type { RemedyRow, Scenario, ScenarioColumn, ScenarioRemedy, ScenarioRunOptions, ScenarioValue } from "../scenario.js";
import type { DetailTable } from "../framework/detail-table.js";
import { ScenarioError } from "../framework/scenario-error.js";
import { HOTPLUG_SLOT, runVcpuHotplug, vcpuHotplugCommandLine, type VcpuHotplugResult } from "./vcpu-hotplug-run.js";

const REMEDIES: readonly ScenarioRemedy[] = [
  {
    name: "naive",
    title: "create the KVM vCPU at device_add",
    description: "QEMU creates the vCPU when the CPU is plugged (kvm_init_vcpu → KVM_CREATE_VCPU), after the vgic was initialised at board init; the vgic is sized for the boot CPUs only (-M virt,x-cpu-hotplug=naive).",
  },
  {
    name: "precreate",
    title: "pre-create and park every possible vCPU before vgic init (RFC V5 05/30)",
    description: "machvirt_init creates, initialises (KVM_ARM_VCPU_INIT) and parks a KVM vCPU for every possible CPU before the vgic's CTRL_INIT, so the vgic has a redistributor for each with its GICR_TYPER fixed; device_add unparks one, device_del parks it again (-M virt,x-cpu-hotplug=precreate).",
  },
];

const COLUMNS: readonly ScenarioColumn[] = [
  { key: "vcpus_at_init", title: "vCPUs created at init", unit: "vCPUs", description: "KVM_CREATE_VCPU calls during machine init (from the machine's ioctl log)." },
  { key: "vcpus_before_vgic_init", title: "of them before vgic init", unit: "vCPUs", description: "Those issued before KVM_DEV_ARM_VGIC_CTRL_INIT." },
  { key: "redistributors", title: "redistributors", description: "GICR frames a guest finds walking the redistributor region to GICR_TYPER.Last." },
  { key: "gicr_typer_stable", title: "GICR_TYPER stable", description: "Every frame's GICR_TYPER (affinity, processor number, Last) reads the same at boot, after the plug and after the unplug." },
  { key: "plug_errno", title: "plug errno", description: "The errno of the plugged CPU's KVM_CREATE_VCPU (\"-\" when it was unparked or created without error)." },
  { key: "device_add", title: "device_add", description: "The QMP reply to device_add: \"ok\" or the error's desc." },
  { key: "guest_cpu_up", title: "guest brought CPU up", description: "The guest printed that CPU 2 booted after PSCI CPU_ON (its online flag in guest RAM was set)." },
  { key: "ipi_reached", title: "IPI reached it", description: "An SGI the boot CPU sent to CPU 2 was taken there (the guest saw its per-CPU count go up)." },
  { key: "online_us", title: "device_add → _OST", unit: "us", description: "Virtual time from device_add to the guest's _OST(Device Check) report (ACPI_DEVICE_OST)." },
  { key: "unplugged", title: "unplug + DEVICE_DELETED", description: "After device_del the guest took CPU 2 offline (PSCI CPU_OFF) and ejected it, and QEMU sent DEVICE_DELETED." },
  { key: "unplug_us", title: "device_del → DEVICE_DELETED", unit: "us", description: "Virtual time from device_del to DEVICE_DELETED." },
];

const us = (ns: number): number => Math.round(ns / 10) / 100;

/** The row's values, all read from the run. */
export function vcpuHotplugValues(r: VcpuHotplugResult): Record<string, ScenarioValue> {
  const ost = r.events.find(({ e }) => e.event === "ACPI_DEVICE_OST" && e.data.info.slot === `${HOTPLUG_SLOT}` && e.data.info.source === 1);
  const deleted = r.events.find(({ e }) => e.event === "DEVICE_DELETED");
  const stable = r.typers.every((t) => t.length === r.typers[0]!.length && t.every((v, i) => v === r.typers[0]![i]));
  return {
    vcpus_at_init: r.vcpusAtInit,
    vcpus_before_vgic_init: r.vcpusBeforeVgicInit,
    redistributors: r.redistributors,
    gicr_typer_stable: stable,
    plug_errno: r.plugCreate === "unparked" || r.plugCreate === "created" ? "-" : r.plugCreate,
    device_add: r.addReply,
    guest_cpu_up: r.console.some((l) => l.startsWith(`CPU${HOTPLUG_SLOT}: Booted secondary processor`)),
    ipi_reached: r.console.some((l) => l.startsWith(`CPU${HOTPLUG_SLOT}: IPI`) && l.endsWith("received") && !l.endsWith("not received")),
    online_us: ost === undefined ? null : us(ost.at - r.addAt),
    unplugged: deleted !== undefined && !r.cpusAtEnd.includes(HOTPLUG_SLOT),
    unplug_us: deleted === undefined || r.delAt === undefined ? null : us(deleted.at - r.delAt),
  };
}

/** GICR_TYPER "hi:lo" as one 64-bit hex value. */
const typer64 = (t: string): string => {
  const [hi, lo] = t.split(":");
  return `0x${(hi ?? "").padStart(8, "0")}${(lo ?? "").padStart(8, "0")}`;
};

/**
 * Every CPU slot at boot, after device_add and after device_del: its state
 * and the GICR_TYPER of its redistributor frame (frames follow vCPU ids, as
 * KVM lays them out in vgic_register_redist_iodev; none past the last one).
 */
export function slotTable(r: VcpuHotplugResult): DetailTable {
  const steps = ["at boot", "after device_add", "after device_del"];
  return {
    title: "CPU slots and GICR_TYPER per slot",
    columns: ["slot", "MPIDR", ...steps, ...steps.map((s) => `GICR_TYPER ${s}`)],
    rows: r.slots.map((x) => [
      String(x.index),
      `0x${x.archId.toString(16)}`,
      ...r.slotStates.map((states) => states[x.index] ?? "absent"),
      ...r.typers.map((frames) => (frames[x.vcpuId] === undefined ? "no frame" : typer64(frames[x.vcpuId]!))),
    ]),
  };
}

function verdict(v: Record<string, ScenarioValue>, r: VcpuHotplugResult): string {
  if (r.addReply !== "ok") return `device_add fails: ${r.addReply}`;
  const parts = [`CPU ${HOTPLUG_SLOT} ${r.plugCreate === "unparked" ? "unparked" : "created"} on device_add`];
  parts.push(v.guest_cpu_up === true ? "the guest brought it up" : "the guest did not bring it up");
  if (v.ipi_reached === true) parts.push("an IPI reached it");
  parts.push(v.gicr_typer_stable === true ? "GICR_TYPER unchanged" : "GICR_TYPER changed");
  parts.push(v.unplugged === true ? "unplugged with DEVICE_DELETED" : "not unplugged");
  return parts.join("; ");
}

function run(remedy: string, o: ScenarioRunOptions): RemedyRow {
  if (remedy !== "naive" && remedy !== "precreate") throw new ScenarioError("unknown-remedy", `scenario 'arm-vcpu-hotplug' has no remedy '${remedy}'`);
  const r = runVcpuHotplug(remedy, o.trace === true, o.loopForm === true);
  const values = vcpuHotplugValues(r);
  const notes = [`command line: ${r.commandLine}`, `hotplug driven over ${r.via.toUpperCase()}:`, ...r.transcript.filter((l) => !l.includes('"QMP"')).map((l) => `  ${l}`)];
  notes.push("guest console:", ...r.console.map((l) => `  ${l}`));
  return { remedy, values, verdict: verdict(values, r), notes, tables: [slotTable(r)], ...(o.trace === true ? { tracer: r.tracer } : {}) };
}

/** Seed 002: Arm vCPU hotplug, vCPUs pre-created and parked vs created at plug. */
export const armVcpuHotplug: Scenario = {
  name: "arm-vcpu-hotplug",
  seed: "002",
  title: "Arm vCPU hotplug: pre-create and park every possible vCPU vs create at device_add",
  explain: [
    "Thread: \"[PATCH RFC V5 05/30] arm/virt, kvm: Pre-create KVM vCPUs for all unplugged QOM vCPUs",
    "@machine init\" (Salil Mehta, Oct 2024). The GIC must know all CPUs when the vgic is initialised:",
    "GICR_TYPER's affinity and processor number are fixed then, and KVM refuses KVM_CREATE_VCPU after",
    "vgic init (kvm_arch_vcpu_precreate: -EBUSY). The series pre-creates, initialises and parks a KVM",
    "vCPU for every possible CPU at machine init and unparks it on device_add.",
    "",
    "Each remedy boots the `hotplug` guest (2 of 4 possible CPUs present), then over QMP:",
    "query-hotpluggable-cpus, device_add of CPU 2 (id cpu2), 10 ms for the guest to react, device_del,",
    "10 ms. irqlab's virt board signals hotplug as QEMU's does, through the ACPI CPU hotplug registers",
    "and the GED interrupt (SPI 9), described for a device-tree guest by an irqlab,cpu-hotplug node.",
    "",
    "Command line (precreate):",
    `  ${["irqlab system-aarch64", ...vcpuHotplugCommandLine("precreate")].join(" ")}`,
    "",
    "Expected from the thread: precreate has all 4 vCPUs before vgic init, 4 redistributors whose",
    "GICR_TYPER never changes, and a plug the guest brings up and unplugs; naive has 2 vCPUs and 2",
    "redistributors, and device_add fails with EBUSY from KVM_CREATE_VCPU.",
  ].join("\n"),
  remedies: REMEDIES,
  columns: COLUMNS,
  run,
};
