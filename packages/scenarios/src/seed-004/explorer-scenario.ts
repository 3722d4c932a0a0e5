/**
 * The missed-wake-up explorer as a scenario: one row per runnable()
 * condition, each the result of an exhaustive interleaving search of the
 * wake-up protocol model (wakeup-explorer.ts). Counts are states and
 * transitions, never wall time.
 */

import { ScenarioError } from "../framework/scenario-error.js";
import type { RemedyRow, Scenario, ScenarioColumn, ScenarioRemedy, ScenarioRunOptions } from "../scenario.js";
import type { StepSchedule } from "../framework/step-schedule.js";
import { exploreWakeups, formatExplorerReport, type WakeupExplorerReport, type WakeupViolation } from "./wakeup-explorer.js";
import { DEFAULT_MODEL_CONFIG, MODEL_VCPUS, WAKEUP_CONDITIONS, describeVcpu, type WakeupCondition } from "./wakeup-model.js";

const DEFAULT_DEPTH = 40;

const REMEDIES: readonly ScenarioRemedy[] = [
  {
    name: "old",
    title: "arm.c's condition: irq_lines || kvm_vgic_vcpu_pending_irq()",
    description: "What Linux has (arch/arm64/kvm/arm.c kvm_arch_vcpu_runnable); a KVM_IRQ_LINE deassert makes KVM_REQ_IRQ_PENDING and kicks.",
  },
  {
    name: "proposed",
    title: "the ode's proposal: KVM_REQ_IRQ_PENDING",
    description: "runnable() checks the IRQ_PENDING request; deasserts make a KVM_REQUEST_NO_WAKEUP request whose kick only IPIs a vCPU in guest mode.",
  },
  {
    name: "pending-state",
    title: "the ode's other fix: also check the vPMU's pending overflow",
    description:
      "The old condition plus kvm_pmu_overflow_status() (the ode, item 3: check the pending state itself). Not Linux: 4ce98bf0865c's kvm_pmu_should_notify_user() looks at pmu->irq_level, which only the flush and sync update.",
  },
];

const COLUMNS: readonly ScenarioColumn[] = [
  { key: "states", title: "states", description: "Distinct states of the model reached (hashed)." },
  { key: "steps", title: "steps", description: "Transitions taken from explored states: the search's virtual steps." },
  { key: "depth", title: "depth", description: "Length of the longest schedule reached; the search is exhaustive when it ends below the bound." },
  { key: "exhaustive", title: "exhaustive", description: "Every interleaving was covered within the depth bound." },
  { key: "violatingStates", title: "violating states", description: "States where a vCPU sleeps with a deliverable interrupt and no wake-up pending." },
  { key: "missedVpmu", title: "missed vPMU wake-up", description: "A counterexample where the vCPU sleeps with a vPMU overflow no flush has turned into a vgic interrupt." },
  { key: "maskedPending", title: "masked-pending", description: "A counterexample where the masked guest's interrupt was loaded before the WFI and KVM sleeps anyway." },
  { key: "shortest", title: "shortest trace", description: "Steps of the shortest counterexample (breadth-first search makes it minimal); empty when none.", unit: "steps" },
];

const EXPLAIN = `The missed-wake-up explorer (seed 004).

A model of arm64 KVM's wake-up protocol with two vCPUs, each step one step of a kernel path: the run loop
(check_vcpu_requests, kvm_pmu_flush_hwstate, IN_GUEST_MODE and kvm_vcpu_exit_request), the guest (takes an unmasked
interrupt the hardware holds, WFI traps, vCPU 0 sends an SGI to vCPU 1), kvm_vcpu_block (set_current_state,
kvm_vcpu_check_block → kvm_arch_vcpu_runnable, schedule), and producers on other threads (KVM_IRQ_LINE assert and
deassert, kvm_pmu_perf_overflow, each followed by its own kvm_vcpu_kick). vCPU 0 runs unmasked with a vPMU; vCPU 1 idles
with interrupts masked and has an IRQ line. Every interleaving is searched breadth-first with state hashing up to a depth
bound (sizes.depth, default ${DEFAULT_DEPTH}), checking "no vCPU sleeps while it has a deliverable interrupt and no wake-up is
pending"; the shortest schedule to each kind of violation is printed. The model traps every WFI, as irqlab's kvm does.`;

function verdict(r: WakeupExplorerReport): string {
  if (r.violations.length === 0) return `invariant holds over ${r.states} states${r.exhaustive ? " (every interleaving)" : " (to the depth bound)"}`;
  return `found ${r.violations.map((v) => `${v.kind} (vcpu${v.vcpu}, ${v.trace.length} steps)`).join(", ")}`;
}

/** A counterexample as a step-by-step schedule: each step with both vCPUs' decoded state after it. */
function schedule(cond: WakeupCondition, v: WakeupViolation): StepSchedule {
  return {
    title: `${v.kind}: vcpu${v.vcpu}`,
    outcome: `vcpu${v.vcpu} sleeps with ${v.pending.join(", ")} pending and no wake-up coming (${v.trace.length} steps; breaks at step ${v.breaksAt + 1})`,
    steps: v.trace.map((label, n) => ({
      label,
      state: Array.from({ length: MODEL_VCPUS }, (_, i) => ({ subject: `vcpu${i}`, fields: describeVcpu(cond, DEFAULT_MODEL_CONFIG, v.states[n]!, i) })),
    })),
    mark: v.breaksAt,
    markKind: "breaks",
  };
}

/** The missed-wake-up explorer, one row per runnable() condition. */
export const wakeupExplorerScenario: Scenario = {
  name: "wakeup-explorer",
  title: "missed-wake-up explorer: every interleaving of WFI, kicks, injections and the vPMU flush",
  explain: EXPLAIN,
  remedies: REMEDIES,
  columns: COLUMNS,
  sizes: { depth: DEFAULT_DEPTH },
  run(remedy: string, options: ScenarioRunOptions): RemedyRow {
    if (!(WAKEUP_CONDITIONS as readonly string[]).includes(remedy)) {
      throw new ScenarioError("unknown-remedy", `scenario 'wakeup-explorer' has no remedy '${remedy}' (remedies: ${WAKEUP_CONDITIONS.join(", ")})`);
    }
    const depth = options.sizes?.depth ?? DEFAULT_DEPTH;
    if (!Number.isInteger(depth) || depth < 1 || depth > 60) {
      throw new ScenarioError("bad-size", `scenario 'wakeup-explorer': size 'depth' must be an integer from 1 to 60, got ${depth}`);
    }
    // An exhaustive search: no random choices, the seed does not change it; there is no clock, so no trace.
    const r = exploreWakeups(remedy as WakeupCondition, { maxDepth: depth });
    const shortest = r.violations.reduce<number | null>((m, v) => (m === null ? v.trace.length : Math.min(m, v.trace.length)), null);
    return {
      remedy,
      values: {
        states: r.states,
        steps: r.transitions,
        depth: r.deepest,
        exhaustive: r.exhaustive,
        violatingStates: r.violatingStates,
        missedVpmu: r.violations.some((v) => v.kind === "missed-vpmu-overflow"),
        maskedPending: r.violations.some((v) => v.kind === "masked-pending"),
        shortest,
      },
      verdict: verdict(r),
      notes: formatExplorerReport(r).split("\n"),
      schedules: r.violations.map((v) => schedule(remedy as WakeupCondition, v)),
    };
  },
};
