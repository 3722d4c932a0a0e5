/**
 * Seed 001 as a scenario: "GICv4: Support shared VLPI" (kvmarm, November
 * 2023). One row per vgic-v4 behaviour argued in the thread; every value is
 * counted on a full arm64 machine run of the guest image
 * (shared-vlpi-machine.ts); the notes add the kvm-level replay of the
 * thread's teardown order (shared-vlpi.ts).
 */

import { GICV4_BEHAVIOURS, type Gicv4Behaviour } from "@irqlab/kvm";
import { ScenarioError } from "../framework/scenario-error.js";
import type { RemedyRow, Scenario, ScenarioColumn, ScenarioRemedy, ScenarioRunOptions } from "../scenario.js";
import { runSharedVlpi, SHARED_VLPI_QUEUE, SHARED_VLPI_VECTORS, type SharedVlpiReport } from "./shared-vlpi.js";
import { runSharedVlpiMachine, sharedVlpiCommandLine, type SharedVlpiMachineReport } from "./shared-vlpi-machine.js";

const REMEDIES: readonly ScenarioRemedy[] = [
  {
    name: "linux-6.6",
    title: "the 2023 code: every set_forwarding maps, one unset unmaps",
    description:
      "vgic-v4.c as in the thread (Kunkun Jiang's report): kvm_vgic_v4_set_forwarding calls its_map_vlpi for every host " +
      "irq and overwrites irq->host_irq; kvm_vgic_v4_unset_forwarding WARNs unless hw && host_irq == irq and unmaps only " +
      "while hw is still set, so only the first shared host irq is unmapped.",
  },
  {
    name: "rfc-shared-vlpi",
    title: "the RFC: a list of host irqs per vLPI (not merged)",
    description:
      "Kunkun Jiang's RFC records every host irq mapped to the vLPI and acts on all of them. Marc Zyngier: \"a blatant " +
      "violation of the architecture\" — a vINTID has one pINTID (IHI 0069 §5.2.10); counted as 1:1 violations.",
  },
  {
    name: "linux-6.16",
    title: "1:1 kept: a second host irq for a forwarded vLPI stays software-injected",
    description:
      "Later vgic-v4.c (fc4dafe87b93, 05b9405f2fa1): set_forwarding returns without mapping when the vLPI is already hw; " +
      "the other host irqs reach the guest through VFIO's handler, the irqfd and the vITS. Unset finds the vLPI by host irq.",
  },
];

const COLUMNS: readonly ScenarioColumn[] = [
  { key: "mapCalls", title: "map calls", description: "its_map_vlpi calls made by kvm_vgic_v4_set_forwarding for the 7 irqfds." },
  { key: "unmapCalls", title: "unmaps", description: "its_unmap_vlpi calls made while the guest reboots (vITS reset, irqfd deassign)." },
  { key: "warns", title: "WARNs", description: "WARN_ON(!(irq->hw && irq->host_irq == virq)) hits in kvm_vgic_v4_unset_forwarding." },
  { key: "refused", title: "refused", description: "set_forwarding calls that left the host irq software-injected (the vLPI already had a host irq)." },
  { key: "stillMapped", title: "still mapped after reset", description: "Host irqs still forwarded to a vLPI after the irqfds are deassigned and the vITS reset.", unit: "host irqs" },
  { key: "stillFiring", title: "still firing", description: "After the run, vectors whose MSI still lands in the guest's vPE (each vector raised once through the host ITS).", unit: "vectors" },
  { key: "hang", title: "hang", description: "Host irqs stay mapped and the firmware took interrupts it never configured and cannot stop (its console line)." },
  { key: "violations", title: "1:1 violations", description: "Host irqs mapped onto a vLPI that another host irq already owns (GIC architecture: one pINTID per vINTID)." },
];

const EXPLAIN = `Seed 001 — shared vLPI under GICv4 ("[RFC PATCH] KVM: arm/arm64: GICv4: Support shared VLPI", kvmarm, Nov 2023).

A passthrough virtio-scsi function has ${SHARED_VLPI_VECTORS} MSI-X vectors; VFIO requests all of them as host LPIs. The old
guest driver programs entry 0 with MSI data 0 (config) and entries 1-6 with data 1 (one vector shared by the queues), so
the vITS translates six entries to the same vLPI ${SHARED_VLPI_QUEUE}. QEMU gives every entry an irqfd; each meets its VFIO
producer in the irq bypass manager and KVM is asked to forward it (kvm_vgic_v4_set_forwarding → its_map_vlpi). Then the
guest reboots with requests in flight; QEMU resets the vITS and deassigns the irqfds (kvm_vgic_v4_unset_forwarding), and
the firmware that boots next, which maps no LPI, counts the interrupts it gets.

Each row is a full machine run:
  irqlab-system-aarch64 ${sharedVlpiCommandLine("linux-6.6").join(" ")}
(x-gicv4 = the remedy) with -kernel the guest image virtio-shared-vector. x-irqlab-dynamic-msix=on is QEMU's dynamic
MSI-X allocation: each irqfd is set up once, as in the thread's call trace. "still firing" probes each vector once more
through the host ITS after the run.

At this reboot QEMU's reset walks the device tree newest first (hw/core/qdev.c bus_add_child inserts at the head), so
vfio-pci, under the PCI host created after the ITS, tears MSI-X down and deassigns its irqfds before the vITS is reset:
linux-6.6's kvm_vgic_v4_unset_forwarding still translates each route and hits its WARN_ON, as the thread reports. The
notes add the same sequence replayed at the kvm level (vITS, host GICv4.1, irqfds and the bypass manager, no guest,
no machine) as a cross-check.`;

function verdict(r: SharedVlpiMachineReport): string {
  if (r.stillMapped > 0 && r.firmwareUnexpected > 0) {
    return `${r.stillMapped} host irqs stay mapped after the reboot and fire into the firmware (${r.firmwareUnexpected} unexpected interrupts): the guest hangs`;
  }
  if (r.violations > 0) return `clean reboot, but ${r.violations} host irqs were mapped onto a vLPI that already had one: the architecture's 1:1 rule is broken`;
  return "one host irq per vLPI; the reboot leaves nothing mapped";
}

function notes(r: SharedVlpiMachineReport, replay: SharedVlpiReport): string[] {
  return [
    `driver: ${r.queuesCompleted} of 6 queues completed; ${r.firmwareLine === "" ? "the firmware printed nothing" : r.firmwareLine}; the run ended: ${r.end}`,
    `at the reboot the VMM did: ${r.resetOrder.map((l) => l.replace(/^KVM_SET_DEVICE_ATTR its GRP_CTRL /, "ITS ").replace(/ fd=\d+ gsi=\d+ DEASSIGN$/, " deassign")).join(", ")}`,
    `kvm-level replay (irqfds deassigned, then the vITS reset): ${replay.mapCalls} map calls, ${replay.warns} WARNs, ${replay.unmapCalls} unmaps, ${replay.forwardedAfter} still mapped, ${replay.violations} 1:1 violations`,
  ];
}

/** Seed 001: shared vLPI under GICv4. */
export const sharedVlpiScenario: Scenario = {
  name: "shared-vlpi",
  seed: "001",
  title: "shared vLPI under GICv4: six host irqs onto one vLPI, then a guest reboot",
  explain: EXPLAIN,
  remedies: REMEDIES,
  columns: COLUMNS,
  run(remedy: string, options: ScenarioRunOptions): RemedyRow {
    if (!(GICV4_BEHAVIOURS as readonly string[]).includes(remedy)) {
      throw new ScenarioError("unknown-remedy", `scenario 'shared-vlpi' has no remedy '${remedy}' (remedies: ${REMEDIES.map((r) => r.name).join(", ")})`);
    }
    // The run has no random choices: the seed does not change it. The machine records on its own clock.
    const b = remedy as Gicv4Behaviour;
    const r = runSharedVlpiMachine(b, options.trace === true, options.loopForm === true);
    const replay = runSharedVlpi(b);
    return {
      ...(r.tracer === undefined ? {} : { tracer: r.tracer }),
      remedy,
      values: {
        mapCalls: r.mapCalls,
        unmapCalls: r.unmapCalls,
        warns: r.warns,
        refused: r.refused,
        stillMapped: r.stillMapped,
        stillFiring: r.stillFiring,
        hang: r.stillMapped > 0 && r.firmwareUnexpected > 0,
        violations: r.violations,
      },
      verdict: verdict(r),
      notes: notes(r, replay),
      tables: [r.mappings],
    };
  },
};
