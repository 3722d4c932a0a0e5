/**
 * Seed 004 as a scenario: "An ode to kvm_arch_vcpu_runnable()" (Andrew
 * Jones, kvmarm, 2017). One row per (runnable() condition, case), each
 * measured by a bounded run of the kvm model (runnable-cases.ts).
 */

import type { RunnablePolicy } from "@irqlab/kvm";
import { Tracer, type EventQueue } from "@irqlab/sim";
import { ScenarioError } from "../framework/scenario-error.js";
import type { RemedyRow, Scenario, ScenarioColumn, ScenarioRemedy, ScenarioRunOptions } from "../scenario.js";
import { CASE_BUDGET, CASE_EVENT_AT, RUNNABLE_CASES, runRunnableCase, type RunnableCase, type RunnableCaseResult } from "./runnable-cases.js";

/** The two conditions, by the names the table uses. */
const CONDITIONS: readonly { readonly name: string; readonly policy: RunnablePolicy; readonly what: string }[] = [
  {
    name: "old",
    policy: "irq-lines",
    what: "arch/arm64/kvm/arm.c: (irq_lines || kvm_vgic_vcpu_pending_irq(v)) && !stopped && !pause — what Linux still has",
  },
  {
    name: "proposed",
    policy: "irq-pending-request",
    what: "the ode's proposal: runnable when KVM_REQ_IRQ_PENDING is pending; KVM_IRQ_LINE deasserts use a KVM_REQUEST_NO_WAKEUP request",
  },
];

const CASE_TEXT: Readonly<Record<RunnableCase, string>> = {
  "vpmu-overflow": `the guest waits in WFI; its vPMU counter overflows at ${CASE_EVENT_AT / 1000} µs (kvm_pmu_perf_overflow kicks, the level reaches the vgic only at the next entry)`,
  deassert: `the VMM lowers an asserted but not enabled line at ${CASE_EVENT_AT / 1000} µs while the vCPU sleeps (RISC-V: VSEIP with sie.SEIE clear)`,
  "masked-pending": "the guest masks interrupts, an interrupt is already pending at entry, and it executes WFI",
};

const REMEDIES: readonly ScenarioRemedy[] = RUNNABLE_CASES.flatMap((kase) =>
  CONDITIONS.map((c) => ({
    name: `${c.name}/${kase}`,
    title: `${c.name} condition, ${kase}`,
    description: `${c.what}. Case: ${CASE_TEXT[kase]}.`,
  })),
);

const COLUMNS: readonly ScenarioColumn[] = [
  { key: "condition", title: "condition", description: "Which kvm_arch_vcpu_runnable(): old (arm.c) or proposed (the ode)." },
  { key: "case", title: "case", description: "The thread's case: vpmu-overflow, deassert, masked-pending." },
  { key: "woke", title: "woke", description: `Whether the guest got past its WFI (or took the interrupt) within the ${CASE_BUDGET / 1000} µs budget of KVM_RUN.` },
  {
    key: "wakeLatencyUs",
    title: "wake latency",
    description: "From the case's event (the overflow; for masked-pending the WFI) to the guest's first instruction after waking, in virtual time; empty if it did not wake.",
    unit: "us",
  },
  {
    key: "missedWakeup",
    title: "missed wake-up",
    description: "Still asleep at the end of the budget although an interrupt is deliverable to it (the irqchip has one pending, or the vPMU's overflow output is raised).",
  },
  { key: "wakeupsIgnored", title: "wake-ups ignored", description: "Kicks that woke the blocked vCPU and that kvm_vcpu_check_block() sent back to sleep (counter kvm.wake_ignored)." },
];

const EXPLAIN = `Seed 004 — "An ode to kvm_arch_vcpu_runnable()" (Andrew Jones, kvmarm, 2017).

kvm_arch_vcpu_runnable() decides whether a vCPU blocked in WFI may run. Linux's condition (arch/arm64/kvm/arm.c) is
"irq_lines or a vgic interrupt pending, and not stopped or paused". The ode (item 5) notes it misses the vPMU: the perf
overflow handler makes KVM_REQ_IRQ_PENDING and kicks, but the overflow reaches the vgic only at the next guest entry
(kvm_pmu_flush_hwstate), so the woken vCPU finds nothing pending and sleeps again. The proposal: check the IRQ_PENDING
request instead, and stop making it on deasserts (a KVM_REQUEST_NO_WAKEUP request), so a deassert never wakes.

Each row is one bounded KVM_RUN sequence on the kvm model (KVM_RUN with a ${CASE_BUDGET / 1000} µs budget): a vCPU whose guest waits in
WFI, the irqchip (Linux's irq_lines; the vPMU as a source flushed at entry) and the case's event. A vCPU that never wakes
is reported as having slept through. The model traps every WFI; the architecture completes a WFI when the hardware already
holds an interrupt, so the masked-pending row needs the interrupt to be one KVM holds.

The explorer (scenario wakeup-explorer) searches every interleaving of the same kernel paths and finds the vPMU missed
wake-up under the old condition and the masked-pending one under the proposal by itself.`;

function verdict(r: RunnableCaseResult): string {
  if (r.woke) return `woke ${(r.wakeLatencyNs! / 1000).toFixed(3)} µs after the event`;
  if (r.missedWakeup) {
    return `slept through with an interrupt deliverable: missed wake-up${r.wakeupsIgnored > 0 ? ` (${r.wakeupsIgnored} wake-up(s) sent back to sleep)` : ""}`;
  }
  return `stayed asleep with nothing to deliver (correct)${r.wakeupsIgnored > 0 ? `; ${r.wakeupsIgnored} spurious wake-up(s)` : "; not even woken"}`;
}

/** Seed 004: kvm_arch_vcpu_runnable(), old and proposed, on the thread's cases. */
export const runnableScenario: Scenario = {
  name: "vcpu-runnable",
  seed: "004",
  title: "kvm_arch_vcpu_runnable(): the vPMU overflow, a deassert and a masked pending interrupt",
  explain: EXPLAIN,
  remedies: REMEDIES,
  columns: COLUMNS,
  run(remedy: string, options: ScenarioRunOptions): RemedyRow {
    const [name, kase] = remedy.split("/");
    const cond = CONDITIONS.find((c) => c.name === name);
    if (cond === undefined || !(RUNNABLE_CASES as readonly string[]).includes(kase ?? "")) {
      throw new ScenarioError("unknown-remedy", `scenario 'vcpu-runnable' has no remedy '${remedy}' (remedies: ${REMEDIES.map((r) => r.name).join(", ")})`);
    }
    // The cases have no random choices: the seed does not change them.
    const made: Tracer[] = [];
    const ownTracer = (q: EventQueue): Tracer => {
      const t = new Tracer(q, { enabled: true });
      made.push(t);
      return t;
    };
    const r = runRunnableCase(cond.policy, kase as RunnableCase, options.tracer ?? (options.trace === true ? ownTracer : undefined), options.loopForm === true);
    return {
      ...(made[0] === undefined ? {} : { tracer: made[0] }),
      remedy,
      values: {
        condition: cond.name,
        case: r.kase,
        woke: r.woke,
        wakeLatencyUs: r.wakeLatencyNs === null ? null : r.wakeLatencyNs / 1000,
        missedWakeup: r.missedWakeup,
        wakeupsIgnored: r.wakeupsIgnored,
      },
      verdict: verdict(r),
      notes: [`${r.runs} KVM_RUN call(s); virtual time at the end ${(r.endNs / 1000).toFixed(3)} µs`],
    };
  },
};
