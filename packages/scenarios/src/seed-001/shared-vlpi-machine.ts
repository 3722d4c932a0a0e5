/**
 * Seed 001 on the full arm64 machine: `irqlab-system-aarch64 -M virt -accel
 * kvm,x-gicv4=BEHAVIOUR -device vfio-pci,host=...` booting the guest package's
 * `virtio-shared-vector` image. The image's old
 * virtio-pci driver maps two LPIs through the guest ITS, writes MSI data 0
 * into MSI-X entry 0 and data 1 into entries 1–6, waits for each queue's
 * interrupt, kicks all six queues again and reboots at once (PSCI
 * SYSTEM_RESET) with the requests in flight; the firmware that boots next
 * maps no LPI, listens for 100 ms and prints every interrupt it was not
 * asking for.
 *
 * QEMU's side is the machine's: vfio-pci gives every MSI-X entry a GSI route
 * and an irqfd (hw/vfio/pci.c vfio_add_kvm_msi_virq), VFIO registers each
 * host vector as an IRQ-bypass producer, and KVM's vgic-v4 (the behaviour
 * under test) decides what to forward. `x-irqlab-dynamic-msix=on` is QEMU's
 * dynamic MSI-X allocation (vfio_msix_vector_do_use without re-enabling the
 * whole index), which sets each irqfd up once, as in the thread's call trace.
 *
 * Measured: the forwarding's counters (its_map_vlpi / its_unmap_vlpi calls,
 * WARN_ONs, refusals, 1:1 violations), the host vectors still forwarded after
 * the run, which of them still land in the vPE (one probe MSI each through
 * the host ITS, after the run), and what the driver and the firmware printed.
 */

import { ITS_MSI_DELIVERED_VIRTUAL } from "@irqlab/gic";
import { virtioSharedVectorImage } from "@irqlab/guest";
import type { Gicv4Behaviour } from "@irqlab/kvm";
import { Machine, parseSystemCommandLine, type MachineRunEnd } from "@irqlab/machine";
import type { Tracer } from "@irqlab/sim";
import type { DetailTable } from "../framework/detail-table.js";
import { guestInForm } from "../framework/guest-form.js";

/** Virtual time allowed for both boots, ns (the guest powers off long before). */
export const SHARED_VLPI_MACHINE_BUDGET_NS = 2_000_000_000;

/** The command line of one run. */
export function sharedVlpiCommandLine(behaviour: Gicv4Behaviour): string[] {
  return ["-M", "virt", "-accel", `kvm,x-gicv4=${behaviour}`, "-smp", "1", "-nographic", "-device", "vfio-pci,host=0000:01:00.0,x-irqlab-dynamic-msix=on"];
}

/** What one machine run measured. */
export interface SharedVlpiMachineReport {
  readonly behaviour: Gicv4Behaviour;
  readonly commandLine: readonly string[];
  /** How the run ended ("shutdown" when the firmware powered off). */
  readonly end: MachineRunEnd;
  readonly mapCalls: number;
  readonly unmapCalls: number;
  readonly warns: number;
  readonly refused: number;
  readonly violations: number;
  /** Queues whose interrupt the driver saw (of 6), from its console line. */
  readonly queuesCompleted: number;
  /** Host vectors of the function still forwarded to a vLPI after the reboot. */
  readonly stillMapped: number;
  /** Of the function's vectors, how many still land in the guest's vPE when raised after the run. */
  readonly stillFiring: number;
  /** Interrupts the firmware took that it never configured, from its console line. */
  readonly firmwareUnexpected: number;
  /** The firmware's line about them. */
  readonly firmwareLine: string;
  /** KVM_IRQFD deassigns and KVM_DEV_ARM_ITS_CTRL_RESET calls, in the order the VMM made them at the reboot. */
  readonly resetOrder: readonly string[];
  /** The vLPI ↔ host irq mapping over the run: every change the host ITS made, in order. */
  readonly mappings: DetailTable;
  /** The run's trace, when asked for. */
  readonly tracer?: Tracer;
}

/** One change of the host ITS's mapping of a host irq (target undefined: unmapped). */
interface MappingChange {
  readonly at: number;
  readonly hostIrq: number;
  readonly target: { readonly vpeId: number; readonly vintid: number } | undefined;
}

/**
 * The mapping changes as a table: when, which host irq (and MSI-X vector of
 * the function), map or unmap, the vLPI, and every host irq the vLPI has
 * after the change (more than one is what seed 001 is about).
 */
function mappingTable(changes: readonly MappingChange[], firstHostIrq: number): DetailTable {
  const current = new Map<number, string>();
  const vector = (h: number): string => `vector ${h - firstHostIrq}`;
  const rows = changes.map((c) => {
    const vlpi = c.target === undefined ? (current.get(c.hostIrq) ?? "") : `vLPI ${c.target.vintid} on vPE ${c.target.vpeId}`;
    if (c.target === undefined) current.delete(c.hostIrq);
    else current.set(c.hostIrq, vlpi);
    const sharing = [...current].filter(([, v]) => v === vlpi).map(([h]) => vector(h));
    return [`${(c.at / 1000).toFixed(3)} us`, String(c.hostIrq), vector(c.hostIrq), c.target === undefined ? "its_unmap_vlpi" : "its_map_vlpi", vlpi, sharing.join(", ")];
  });
  return { title: "vLPI ↔ host IRQ mapping over time", columns: ["time", "host irq", "MSI-X", "call", "vLPI", "host irqs on that vLPI after"], rows };
}

/** Boots the image under `behaviour` and measures. Deterministic. With `loopForm`, the image runs in its loop form (ScenarioRunOptions.loopForm). */
export function runSharedVlpiMachine(behaviour: Gicv4Behaviour, trace = false, loopForm = false): SharedVlpiMachineReport {
  const argv = sharedVlpiCommandLine(behaviour);
  const p = parseSystemCommandLine("aarch64", argv);
  if (p.kind !== "run") throw new Error(`seed 001: the command line did not parse: ${argv.join(" ")}`);
  let text = "";
  const m = Machine.create({ config: p.config, kernel: guestInForm(virtioSharedVectorImage(), loopForm), console: (t) => (text += t), trace });
  // Every change of the host ITS's vLPI mappings, as the run makes it (property updates of a mapped vLPI are no change).
  const changes: MappingChange[] = [];
  const targets = new Map<number, string>();
  const forwarding = m.pci.gicv4?.forwarding;
  if (forwarding !== undefined) {
    forwarding.mapHook = (hostIrq, target) => {
      const key = target === undefined ? "" : `${target.vpeId}:${target.vintid}`;
      if ((targets.get(hostIrq) ?? "") === key) return;
      targets.set(hostIrq, key);
      changes.push({ at: m.queue.now, hostIrq, target });
    };
  }
  const end = m.run(SHARED_VLPI_MACHINE_BUDGET_NS);
  m.flushConsole();
  const lines = text.replaceAll("\r\n", "\n").split("\n");
  const gicv4 = m.pci.gicv4;
  const fn = m.pci.devices.find((d) => d.driver === "vfio-pci");
  if (gicv4 === undefined || fn?.vfio === undefined) throw new Error("seed 001: the machine has no GICv4 passthrough function");
  const first = fn.vfio.firstHostIrq;
  const nvec = fn.fn.msix?.vectors ?? 0;
  let stillMapped = 0;
  let stillFiring = 0;
  for (let k = 0; k < nvec; k++) {
    if (gicv4.host.isForwarded(first + k)) stillMapped++;
  }
  // Probe after the run: each vector's MSI once more through the host ITS.
  for (let k = 0; k < nvec; k++) {
    if (gicv4.host.fire(first + k) === ITS_MSI_DELIVERED_VIRTUAL) stillFiring++;
  }
  const s = gicv4.forwarding.stats;
  const fwLine = lines.find((l) => l.startsWith("firmware: ") && l.includes("unexpected")) ?? "";
  const unexpected = /^firmware: (\d+) unexpected/.exec(fwLine);
  const queues = /^virtio-scsi: (\d+) of \d+ queues completed/.exec(lines.find((l) => l.includes("queues completed")) ?? "");
  const calls = m.calls.lines();
  const lastRoutes = calls.findLastIndex((l) => /^KVM_IRQFD .* gsi=\d+$/.test(l));
  const resetOrder = calls.slice(lastRoutes + 1).filter((l) => l.includes("DEASSIGN") || l.includes("CTRL_RESET"));
  return {
    behaviour,
    commandLine: argv,
    end,
    mapCalls: s.mapCalls,
    unmapCalls: s.unmapCalls,
    warns: s.warns,
    refused: s.refused,
    violations: s.violations,
    queuesCompleted: queues === null ? 0 : Number(queues[1]),
    stillMapped,
    stillFiring,
    firmwareUnexpected: unexpected === null ? 0 : Number(unexpected[1]),
    firmwareLine: fwLine,
    resetOrder,
    mappings: mappingTable(changes, first),
    ...(trace ? { tracer: m.tracer } : {}),
  };
}
