/**
 * Seed 004's claims on the kvm model ("An ode to kvm_arch_vcpu_runnable()"; arm.c kvm_arch_vcpu_runnable).
 */
import { Tracer } from "@irqlab/sim";
import { describe, expect, it } from "vitest";
import { CASE_BUDGET, CASE_EVENT_AT, runRunnableCase } from "./runnable-cases.js";
import { findScenario } from "../registry.js";
import { runnableScenario } from "./scenario.js";

describe("seed 004 on the kvm model", () => {
  it("old condition: the vPMU overflow kicks the sleeping vCPU, runnable() says no, it sleeps through the budget", () => {
    const r = runRunnableCase("irq-lines", "vpmu-overflow");
    expect([r.woke, r.missedWakeup, r.wakeupsIgnored]).toEqual([false, true, 1]);
    expect(r.endNs).toBe(CASE_BUDGET); // bounded: KVM_RUN returned at its budget
  });

  it("proposed condition: the same overflow wakes it and the interrupt is taken", () => {
    const r = runRunnableCase("irq-pending-request", "vpmu-overflow");
    expect([r.woke, r.missedWakeup, r.wakeupsIgnored]).toEqual([true, false, 0]);
    // wake-up (902 ns) + entry with the PMU level flushed and the interrupt injected (1620 ns), from the cost model
    expect(r.wakeLatencyNs).toBe(902 + 1620);
  });

  it("a deassert never wakes: the old condition kicks and sends the vCPU back to sleep, the proposal does not even kick", () => {
    const old = runRunnableCase("irq-lines", "deassert");
    const proposed = runRunnableCase("irq-pending-request", "deassert");
    for (const r of [old, proposed]) expect([r.woke, r.missedWakeup, r.endNs]).toEqual([false, false, CASE_BUDGET]);
    expect(old.wakeupsIgnored).toBe(1);
    expect(proposed.wakeupsIgnored).toBe(0);
  });

  it("masked but pending: the old condition completes the WFI, the proposal blocks with the interrupt pending", () => {
    const old = runRunnableCase("irq-lines", "masked-pending");
    expect([old.woke, old.missedWakeup]).toEqual([true, false]);
    expect(old.wakeLatencyNs).toBe(306); // one WFI trap (world switch), no block
    const proposed = runRunnableCase("irq-pending-request", "masked-pending");
    expect([proposed.woke, proposed.missedWakeup, proposed.endNs]).toEqual([false, true, CASE_BUDGET]);
  });

  it("the overflow comes at the case's event time, and tracing does not change what is measured", () => {
    const tracer = new Tracer(undefined, { enabled: true });
    const traced = runRunnableCase("irq-lines", "vpmu-overflow", tracer);
    expect(traced).toEqual(runRunnableCase("irq-lines", "vpmu-overflow"));
    expect(tracer.events().length).toBeGreaterThan(0);
    expect(CASE_EVENT_AT).toBeLessThan(CASE_BUDGET);
  });
});

describe("the vcpu-runnable scenario (seed 004)", () => {
  const rows = runnableScenario.remedies.map((m) => runnableScenario.run(m.name, { seed: 4 }));
  const row = (name: string) => rows.find((r) => r.remedy === name)!;

  it("has a row per condition and case, old first, with one value per column", () => {
    expect(runnableScenario.seed).toBe("004");
    expect(rows.map((r) => r.remedy)).toEqual([
      "old/vpmu-overflow",
      "proposed/vpmu-overflow",
      "old/deassert",
      "proposed/deassert",
      "old/masked-pending",
      "proposed/masked-pending",
    ]);
    for (const r of rows) expect(Object.keys(r.values).sort()).toEqual(runnableScenario.columns.map((c) => c.key).sort());
  });

  it("reports the thread's outcome: old misses the vPMU wake-up, proposed does not; deasserts never wake", () => {
    expect(row("old/vpmu-overflow").values).toMatchObject({ woke: false, wakeLatencyUs: null, missedWakeup: true });
    expect(row("old/vpmu-overflow").verdict).toMatch(/missed wake-up/);
    expect(row("proposed/vpmu-overflow").values).toMatchObject({ woke: true, wakeLatencyUs: 2.522, missedWakeup: false });
    for (const n of ["old/deassert", "proposed/deassert"]) {
      expect(row(n).values).toMatchObject({ woke: false, missedWakeup: false });
      expect(row(n).verdict).toMatch(/nothing to deliver/);
    }
    expect(row("proposed/masked-pending").values).toMatchObject({ woke: false, missedWakeup: true });
  });

  it("is deterministic, traces on request without changing the row, and rejects an unknown remedy", () => {
    expect(runnableScenario.remedies.map((m) => runnableScenario.run(m.name, { seed: 9 }))).toEqual(rows);
    const { tracer, ...rest } = runnableScenario.run("old/vpmu-overflow", { seed: 4, trace: true });
    expect(rest).toEqual(row("old/vpmu-overflow"));
    expect(tracer?.toText()).toContain("wake-ignored policy=irq-lines");
    expect(() => runnableScenario.run("old", { seed: 1 })).toThrow(/has no remedy 'old'/);
  });

  it("is registered as seed 004, with the explorer after the seeds", () => {
    expect(findScenario("4")).toBe(runnableScenario);
    expect(findScenario("wakeup-explorer")?.seed).toBeUndefined();
  });
});
