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
  describeVcpu,
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

  it("each counterexample carries the state after every step, and marks the first step that breaks the invariant", () => {
    for (const cond of ["old", "proposed"] as const) {
      for (const v of reports[cond].violations) {
        expect(v.states).toHaveLength(v.trace.length);
        let s = initialState();
        v.trace.forEach((label, n) => {
          s = successors(cond, DEFAULT_MODEL_CONFIG, s).find((st) => st.label === label)!.next;
          expect(stateKey(v.states[n]!)).toBe(stateKey(s));
        });
        const broken = v.states.map((st) => asleep(st, v.vcpu) && deliverable(st, v.vcpu) && !wakeupPending(st, v.vcpu));
        expect(v.breaksAt).toBe(broken.indexOf(true));
        expect(v.breaksAt).toBeGreaterThanOrEqual(0);
        // The decoded view agrees with the model: the vCPU sleeps there and the invariant is shown broken.
        const shown = new Map(describeVcpu(cond, DEFAULT_MODEL_CONFIG, v.states[v.breaksAt]!, v.vcpu));
        expect(shown.get("vCPU")).toBe("sleeping");
        expect(shown.get("invariant")).toMatch(/^broken/);
        if (v.breaksAt > 0) expect(new Map(describeVcpu(cond, DEFAULT_MODEL_CONFIG, v.states[v.breaksAt - 1]!, v.vcpu)).get("invariant")).toBe("holds");
      }
    }
    // The vPMU miss: the overflow is set and no flush turned it into a vgic PPI.
    const miss = reports.old.violations[0]!;
    const at = new Map(describeVcpu("old", DEFAULT_MODEL_CONFIG, miss.states[miss.breaksAt]!, miss.vcpu));
    expect([at.get("vPMU overflow (PMOVSSET_EL0)"), at.get("vgic: PMU PPI pending"), at.get("runnable() (old)")]).toEqual(["yes", "no", "false"]);
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
    // One step-by-step schedule per counterexample, its steps the counterexample's, the breaking step marked.
    const v = reports.old.violations[0]!;
    expect(old.schedules?.map((x) => [x.steps.length, x.mark, x.markKind])).toEqual([[v.trace.length, v.breaksAt, "breaks"]]);
    expect(old.schedules![0]!.steps.map((x) => x.label)).toEqual(v.trace);
    expect(old.schedules![0]!.steps[0]!.state.map((x) => x.subject)).toEqual(["vcpu0", "vcpu1"]);
    expect(fixed.schedules).toEqual([]);
  });

  it("validates its depth size and its remedy", () => {
    expect(() => wakeupExplorerScenario.run("old", { seed: 0, sizes: { depth: 0 } })).toThrow(/size 'depth'/);
    expect(() => wakeupExplorerScenario.run("fixed", { seed: 0 })).toThrow(/has no remedy 'fixed'/);
  });
});
