/**
 * Seed 003's interrupt path, step by step, read from a traced run: each
 * trace instant on the way from the device's host line to the guest —
 * VFIO's host IRQ signalling the eventfd (vfio_platform irq handler →
 * eventfd_signal), the irqfd injecting the GSI (virt/kvm/eventfd.c
 * irqfd_inject → kvm_set_irq), the vgic dropping it before init or latching
 * it (arch/arm64/kvm/vgic/vgic.c kvm_vgic_inject_irq), the request and kick
 * of the vCPU, the guest taking it, the EOI and the resampler — with the
 * state those events add up to after each step. The marked step is where
 * the interrupt is taken, or where it is lost: the first injection the vgic
 * dropped, else the last injection, when no take follows it.
 */

import type { Tracer, TraceArgs } from "@irqlab/sim";
import type { ScheduleStep, StepSchedule } from "../framework/step-schedule.js";

/** Trace categories on the interrupt's path (device, irqfd, vgic, vCPU delivery, the VM's run state). */
const PATH_CATEGORIES = new Set(["vfio", "irqfd", "irq", "vgic", "machine"]);

/** Where the interrupt is after an event, by event name. */
const WHERE: Readonly<Record<string, string>> = {
  "host-line": "device: host line",
  "host-irq": "VFIO: host IRQ, eventfd signalled",
  kvm_set_irq: "irqfd: kvm_set_irq() into the vgic",
  "irq-dropped-before-init": "vgic: dropped (not initialised)",
  request: "vCPU: KVM_REQ_IRQ_PENDING",
  kick: "vCPU: kicked",
  "irq-taken": "guest: taken",
  "level-eoi": "vgic: EOI of the level interrupt",
  resample: "irqfd: resampler notified",
  unmask: "VFIO: host line unmasked",
};

function onPath(category: string, name: string, args: TraceArgs | undefined): boolean {
  if (PATH_CATEGORIES.has(category)) return true;
  // The vgic's request and kick of the vCPU for a pending interrupt (vgic_queue_irq_unlock).
  return category === "kvm" && (name === "kick" || (name === "request" && args?.req === "KVM_REQ_IRQ_PENDING"));
}

const argText = (args: TraceArgs | undefined): string =>
  args === undefined ? "" : ` (${Object.entries(args).map(([k, v]) => `${k}=${String(v)}`).join(", ")})`;

/** The path of one run's device interrupt (`title`: "edge" or "level") as a step-by-step schedule. */
export function interruptPath(title: string, tracer: Tracer): StepSchedule {
  const tracks = new Map(tracer.tracks().map((t) => [t.id, t]));
  // Spans are recorded when they close; instants in order. Sort by time, keeping recording order within a time.
  const events = tracer
    .events()
    .flatMap((e) => (e.phase === "instant" && onPath(e.category, e.name, e.args) ? [e] : []))
    .map((e, n) => ({ e, n }))
    .sort((a, b) => a.e.ts - b.e.ts || a.n - b.n)
    .map((x) => x.e);
  const count = new Map<string, number>();
  let vm = "paused (-S)";
  let vgic = "not initialised";
  let irqfd = "not assigned";
  let line = "low";
  let where = "not raised";
  const steps: ScheduleStep[] = events.map((e) => {
    count.set(e.name, (count.get(e.name) ?? 0) + 1);
    if (e.name === "runstate") vm = String(e.args?.state ?? "");
    if (e.name === "vgic-init") vgic = `initialised (${String(e.args?.mode ?? "")})`;
    if (e.name === "irqfd-assign") irqfd = `assigned (GSI ${String(e.args?.gsi)}, resample ${String(e.args?.resample)})`;
    if (e.name === "host-line") line = e.args?.value === 1 ? "high" : "low";
    where = WHERE[e.name] ?? where;
    const track = tracks.get(e.track);
    const n = (name: string): string => String(count.get(name) ?? 0);
    return {
      label: `${track === undefined ? "" : `${track.group}/${track.name}: `}${e.name}${argText(e.args)}`,
      at: `${(e.ts / 1000).toFixed(3)} us`,
      state: [
        {
          subject: title,
          fields: [
            ["interrupt is at", where],
            ["VM", vm],
            ["device host line", line],
            ["irqfd", irqfd],
            ["vgic", vgic],
            ["host IRQs signalled", n("host-irq")],
            ["kvm_set_irq injections", n("kvm_set_irq")],
            ["dropped before init", n("irq-dropped-before-init")],
            ["vCPU requests / kicks", `${n("request")} / ${n("kick")}`],
            ["taken by the guest", n("irq-taken")],
            ["level EOIs / resamples", `${n("level-eoi")} / ${n("resample")}`],
          ],
        },
      ],
    };
  });
  const names = events.map((e) => e.name);
  const taken = names.indexOf("irq-taken");
  if (taken >= 0) {
    return { title, outcome: `taken at step ${taken + 1} of ${steps.length} (${steps[taken]!.at}), after ${names.slice(0, taken).filter((x) => x === "irq-dropped-before-init").length} dropped injections`, steps, mark: taken, markKind: "taken" };
  }
  const dropped = names.indexOf("irq-dropped-before-init");
  const lastInjection = names.lastIndexOf("kvm_set_irq");
  const lost = dropped >= 0 ? dropped : lastInjection >= 0 ? lastInjection : null;
  const why = dropped >= 0 ? "the vgic dropped it before init" : lastInjection >= 0 ? "it was injected into the vgic and the guest never took it" : "it was never injected";
  return { title, outcome: `lost${lost === null ? "" : ` at step ${lost + 1} of ${steps.length}`}: ${why}`, steps, mark: lost, markKind: "lost" };
}
