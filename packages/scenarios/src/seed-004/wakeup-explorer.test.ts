/**
 * The missed-wake-up explorer: it must find the ode's vPMU case under the old condition and the
 * masked-pending hole under the proposal by itself, print minimal traces, and find nothing under
 * a condition that checks the pending state. (A search takes a fraction of a second; the longer
 * timeouts allow for a loaded machine.)
 */
import { describe, expect, it } from "vitest";
import { wakeupExplorerScenario } from "./explorer-scenario.js";
import { exploreWakeups, formatExplorerReport, type WakeupViolation } from "./wakeup-explorer.js";
import {
  DEFAULT_MODEL_CONFIG,
  asleep,
  deliverable,
  initialState,
  stateKey,
  successors,
  wakeupPending,
  type ModelConfig,
  type WakeupCondition,
} from "./wakeup-model.js";

const reports = {
  old: exploreWakeups("old"),
  proposed: exploreWakeups("proposed"),
  "pending-state": exploreWakeups("pending-state"),
};

/** Replays a trace by its labels from the initial state; returns whether the last state violates the invariant for `v.vcpu`. */
function replayViolates(cond: WakeupCondition, v: WakeupViolation, config: ModelConfig = DEFAULT_MODEL_CONFIG): boolean {
  let s = initialState();
  for (const label of v.trace) {
    const next = successors(cond, config, s).find((st) => st.label === label);
    if (next === undefined) throw new Error(`step not enabled: ${label}`);
    s = next.next;
  }
  return asleep(s, v.vcpu) && deliverable(s, v.vcpu) && !wakeupPending(s, v.vcpu);
}

describe("the explorer", () => {
  it("old condition: finds the missed vPMU wake-up by itself, and nothing else", () => {
    const r = reports.old;
    expect(r.exhaustive).toBe(true);
    expect(r.violations.map((v) => [v.kind, v.vcpu])).toEqual([["missed-vpmu-overflow", 0]]);
    const v = r.violations[0]!;
    expect(v.pending).toEqual(["vPMU overflow not yet flushed"]);
    expect(v.trace).toContain("perf: kvm_pmu_perf_overflow(vcpu0): PMOVSSET_EL0, KVM_REQ_IRQ_PENDING");
    expect(v.trace.at(-1)).toBe("vcpu0: kvm_vcpu_check_block(): kvm_arch_vcpu_runnable() = false, schedule()");
    expect(replayViolates("old", v)).toBe(true);
  });

  it("proposed condition: finds the masked-pending hole by itself, and no vPMU miss", () => {
    const r = reports.proposed;
    expect(r.exhaustive).toBe(true);
    expect(r.violations.map((v) => [v.kind, v.vcpu])).toEqual([["masked-pending", 1]]);
    const v = r.violations[0]!;
    expect(v.pending).toEqual(["IRQ line"]);
    expect(v.trace[0]).toMatch(/^VMM: KVM_IRQ_LINE vcpu1 IRQ=1/);
    expect(replayViolates("proposed", v)).toBe(true);
  });

  it("pending-state condition: the invariant holds over every interleaving", () => {
    const r = reports["pending-state"];
    expect([r.exhaustive, r.violatingStates, r.violations.length]).toEqual([true, 0, 0]);
    expect(r.states).toBeGreaterThan(1000);
    expect(formatExplorerReport(r)).toMatch(/invariant holds/);
  });

  it("prints minimal counterexamples: one step less and the search finds none", { timeout: 30_000 }, () => {
    for (const cond of ["old", "proposed"] as const) {
      const v = reports[cond].violations[0]!;
      const shorter = exploreWakeups(cond, { maxDepth: v.trace.length - 1 });
      expect(shorter.violations).toEqual([]);
      expect(shorter.exhaustive).toBe(false);
    }
  });

  it("without producers nothing can be missed; without the vPMU the old condition holds", { timeout: 30_000 }, () => {
    const quiet: ModelConfig = [
      { masked: false, irqLine: false, pmuOverflow: false, sendsSgi: false },
      { masked: true, irqLine: false, pmuOverflow: false, sendsSgi: false },
    ];
    for (const cond of ["old", "proposed", "pending-state"] as const) expect(exploreWakeups(cond, { config: quiet }).violations).toEqual([]);
    const noPmu: ModelConfig = [
      { masked: false, irqLine: false, pmuOverflow: false, sendsSgi: true },
      { masked: true, irqLine: true, pmuOverflow: false, sendsSgi: false },
    ];
    expect(exploreWakeups("old", { config: noPmu }).violations).toEqual([]);
    // The proposal's hole is not about the vPMU: masked vCPU 1 with only an SGI shows it too.
    expect(exploreWakeups("proposed", { config: noPmu }).violations.map((v) => v.kind)).toContain("masked-pending");
  });

  it("a state key is exact: every field of every vCPU changes it", () => {
    const s = initialState();
    const keys = new Set([stateKey(s)]);
    for (let i = 0; i < s.length; i++) {
      const t = s.slice();
      t[i] = 1;
      keys.add(stateKey(t));
    }
    expect(keys.size).toBe(s.length + 1);
  });
});

describe("the wakeup-explorer scenario", () => {
  it("rows carry the findings as measured values, the same as a separate search (deterministic)", { timeout: 30_000 }, () => {
    expect(wakeupExplorerScenario.remedies.map((m) => m.name)).toEqual(["old", "proposed", "pending-state"]);
    const old = wakeupExplorerScenario.run("old", { seed: 0, sizes: { depth: 40 } });
    const fixed = wakeupExplorerScenario.run("pending-state", { seed: 0 });
    expect([old.values.missedVpmu, old.values.maskedPending, fixed.values.missedVpmu, fixed.values.maskedPending]).toEqual([true, false, false, false]);
    expect([old.values.states, old.values.steps]).toEqual([reports.old.states, reports.old.transitions]);
    expect(old.notes).toEqual(formatExplorerReport(reports.old).split("\n"));
    expect(old.values.shortest).toBe(reports.old.violations[0]!.trace.length);
    expect(fixed.values.shortest).toBeNull();
    expect(fixed.verdict).toMatch(/invariant holds/);
    for (const r of [old, fixed]) expect(Object.keys(r.values).sort()).toEqual(wakeupExplorerScenario.columns.map((c) => c.key).sort());
  });

  it("validates its depth size and its remedy", () => {
    expect(() => wakeupExplorerScenario.run("old", { seed: 0, sizes: { depth: 0 } })).toThrow(/size 'depth'/);
    expect(() => wakeupExplorerScenario.run("fixed", { seed: 0 })).toThrow(/has no remedy 'fixed'/);
  });
});
