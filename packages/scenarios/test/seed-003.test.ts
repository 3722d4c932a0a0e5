// Seed 003 (irqfd before the vgic is ready): lazy init always loses the early edge and re-fires a level line
// until the vgic exists; CTRL_INIT latches both; a VMM retrying KVM_IRQFD after EAGAIN keeps the edge only if the
// retry lands before the guest's gic_dist_init makes the SPI level-triggered.
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
