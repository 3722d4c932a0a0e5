// Seed 003 (irqfd before the vgic is ready): lazy init always loses the early edge and re-fires a level line
// until the vgic exists; CTRL_INIT latches both; a VMM retrying KVM_IRQFD after EAGAIN keeps the edge only if the
// retry lands before the guest's gic_dist_init makes the SPI level-triggered.
import type { InstantEvent } from "@irqlab/sim";
import { expect, test } from "vitest";
import { runScenario } from "../src/framework/run-scenario.js";
import { reportsToJsonText } from "../src/framework/report-json.js";
import { irqfdBeforeVgicInit } from "../src/seed-003/irqfd-before-vgic-init.js";

const report = runScenario(irqfdBeforeVgicInit);
const values = (remedy: string) => report.rows.find((r) => r.remedy === remedy)!.values;

test("lazy-init: the early edge is consumed and dropped, never seen; the level line is dropped and re-fired until the first KVM_RUN, then taken once", () => {
  const v = values("lazy-init");
  expect([v.edge_seen, v.edge_times, v.edge_dropped, v.edge_lost, v.edge_at]).toEqual([false, 0, 1, true, null]);
  expect([v.level_seen, v.level_times, v.level_lost]).toEqual([true, 1, false]);
  expect(v.level_dropped as number).toBeGreaterThan(10);
});

test("ctrl-init, and eagain-retry with a 1 us retry: both triggers latched pending, taken once, after the driver enabled the SPI", () => {
  const prompt = runScenario(irqfdBeforeVgicInit, { remedies: ["eagain-retry"], sizes: { "retry-us": 1 } }).rows[0]!.values;
  for (const [remedy, v] of [["ctrl-init", values("ctrl-init")], ["eagain-retry (1 us)", prompt]] as const) {
    expect([v.edge_seen, v.edge_times, v.edge_dropped, v.edge_lost], remedy).toEqual([true, 1, 0, false]);
    expect([v.level_seen, v.level_times, v.level_dropped, v.level_lost], remedy).toEqual([true, 1, 0, false]);
    expect(v.edge_at as number, remedy).toBeGreaterThan(100); // the driver probes 100 us after boot
  }
});

test("eagain-retry with the default 10 us retry: the edge reaches an SPI the guest has made level-triggered and is lost; level is kept", () => {
  const v = values("eagain-retry");
  expect([v.edge_seen, v.edge_dropped, v.edge_lost]).toEqual([false, 0, true]);
  expect([v.level_seen, v.level_times, v.level_dropped]).toEqual([true, 1, 0]);
  // A retry long after boot finds the driver's edge configuration: taken, late.
  const late = runScenario(irqfdBeforeVgicInit, { remedies: ["eagain-retry"], sizes: { "retry-us": 400 } }).rows[0]!.values;
  expect([late.edge_seen, late.edge_times]).toEqual([true, 1]);
  expect(late.edge_at as number).toBeGreaterThan(v.level_at as number);
});

test("eagain-retry: KVM refused the irqfd until the first KVM_RUN and the VMM retried", () => {
  const notes = report.rows.find((r) => r.remedy === "eagain-retry")!.notes.join("\n");
  expect(notes).toMatch(/edge: injection irqfd, 1 host interrupts signalled, KVM_IRQFD refused with EAGAIN \d+ times/);
  expect(report.rows.find((r) => r.remedy === "ctrl-init")!.notes.join("\n")).not.toMatch(/EAGAIN/);
});

test("the run is deterministic", () => {
  expect(reportsToJsonText([runScenario(irqfdBeforeVgicInit)])).toBe(reportsToJsonText([report]));
});

test("traced, each remedy carries the interrupt's path per trigger, read from its trace: lost where the vgic dropped it, taken where the guest took it", () => {
  const traced = runScenario(irqfdBeforeVgicInit, { trace: true });
  const path = (remedy: string, part: "edge" | "level") => traced.rows.find((r) => r.remedy === remedy)!.schedules!.find((s) => s.title === part)!;
  const field = (s: ReturnType<typeof path>, n: number, name: string) => new Map(s.steps[n]!.state[0]!.fields).get(name);
  const at = (remedy: string, part: "edge" | "level") => traced.rows.find((r) => r.remedy === remedy)!.values[`${part}_at`];

  const lostEdge = path("lazy-init", "edge");
  expect([lostEdge.markKind, lostEdge.steps[lostEdge.mark!]!.label]).toEqual(["lost", "vm0/vgic-v3: irq-dropped-before-init (intid=144)"]);
  expect(field(lostEdge, lostEdge.mark!, "vgic")).toBe("not initialised");
  expect(lostEdge.steps.some((s) => s.label.includes("irq-taken"))).toBe(false);

  const level = path("lazy-init", "level");
  expect(level.markKind).toBe("taken");
  expect(Number(field(level, level.mark!, "dropped before init"))).toBe(values("lazy-init").level_dropped);
  for (const [remedy, part] of [["lazy-init", "level"], ["ctrl-init", "edge"], ["ctrl-init", "level"]] as const) {
    const s = path(remedy, part);
    expect(s.steps[s.mark!]!.label, `${remedy} ${part}`).toMatch(/vcpu0: irq-taken/);
    // The take's trace time is cont + the scenario's first-taken time (50 us paused, rounded to 10 ns).
    expect(Number.parseFloat(s.steps[s.mark!]!.at!) - 50, `${remedy} ${part}`).toBeCloseTo(at(remedy, part) as number, 1);
    expect(field(s, s.mark!, "taken by the guest")).toBe("1");
  }
  // eagain-retry's edge: injected after vgic init, never dropped, never taken: the mark is the last injection.
  const retry = path("eagain-retry", "edge");
  expect([retry.markKind, retry.steps[retry.mark!]!.label]).toEqual(["lost", "vm0/irqfd: kvm_set_irq (gsi=112, level=1, irq_source_id=0, fd=100)"]);
  expect(field(retry, retry.mark!, "vgic")).toMatch(/^initialised/);
  // Each take ends the flow of the kvm_set_irq that latched the SPI pending before the driver enabled it.
  let takes = 0;
  for (const row of traced.rows) {
    for (const [part, tracer] of Object.entries(row.traces ?? {})) {
      const instants = tracer.events().filter((e): e is InstantEvent => e.phase === "instant");
      const raises = new Set(instants.filter((e) => e.name === "kvm_set_irq" && e.flowOut !== undefined).map((e) => e.flowOut));
      for (const take of instants.filter((e) => e.name === "irq-taken")) {
        takes++;
        expect(raises.has(take.flowIn), `${row.remedy} ${part}`).toBe(true);
      }
    }
  }
  expect(takes).toBe(4); // lazy-init's level, ctrl-init's edge and level, eagain-retry's level
  // Untraced runs carry none.
  expect(report.rows.every((r) => r.schedules === undefined)).toBe(true);
});
