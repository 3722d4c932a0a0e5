// The scenario framework on a small hand-made scenario: remedy and size checks, the side-by-side table, JSON
// against its schema, the merged trace, run bounds (limit, idle, stall) and nearest-rank percentiles.
import { EventQueue, IrqlabError, Tracer, checkChromeTrace } from "@irqlab/sim";
import * as v from "valibot";
import { describe, expect, test } from "vitest";
import { renderCompare, renderRow } from "../src/framework/compare-table.js";
import { LatencySamples } from "../src/framework/latency-stats.js";
import { REPORT_SCHEMA_ID, ScenarioOutputJsonSchema, reportsToJsonText } from "../src/framework/report-json.js";
import { runBounded } from "../src/framework/run-bounds.js";
import { runScenario } from "../src/framework/run-scenario.js";
import { ScenarioError } from "../src/framework/scenario-error.js";
import { reportsToChromeTrace } from "../src/framework/scenario-trace.js";
import { findScenario, scenarios } from "../src/registry.js";
import type { Scenario } from "../src/scenario.js";

/** A scenario whose rows are computed from its inputs (a queue that counts its events). */
const counting: Scenario = {
  name: "counting",
  title: "Counting events",
  explain: "Counts scheduled events.",
  remedies: [
    { name: "slow", title: "one event per 10 us", description: "" },
    { name: "fast-remedy", title: "one event per 1 us", description: "" },
  ],
  columns: [
    { key: "events", title: "events", description: "events run" },
    { key: "end", title: "end", unit: "us", description: "virtual end time" },
    { key: "odd", title: "odd seed", description: "whether the seed is odd" },
  ],
  sizes: { us: 100 },
  run(remedy, o) {
    const q = new EventQueue();
    const tracer = new Tracer(q, { enabled: o.trace === true });
    const track = tracer.track("counter", remedy, "device");
    const period = remedy === "slow" ? 10_000 : 1_000;
    let n = 0;
    const tick = (): void => {
      n++;
      tracer.instant(track, "count", "tick");
      q.scheduleAfter(period, tick);
    };
    q.schedule(0, tick);
    q.runUntil(o.sizes!.us! * 1000);
    return { remedy, values: { events: n, end: q.now / 1000, odd: o.seed % 2 === 1 }, verdict: `${n} events`, notes: remedy === "slow" ? ["slow on purpose"] : [], ...(o.trace === true ? { tracer } : {}) };
  },
};

describe("runScenario", () => {
  test("runs the remedies asked for, in that order, with the same seed and sizes", () => {
    const r = runScenario(counting, { remedies: ["fast-remedy", "slow"], seed: 3, sizes: { us: 50 } });
    expect(r.rows.map((x) => [x.remedy, x.values.events, x.values.odd])).toEqual([["fast-remedy", 51, true], ["slow", 6, true]]);
    expect(r.sizes).toEqual({ us: 50 });
  });

  test("unknown remedies and sizes are ScenarioErrors naming what exists", () => {
    expect(() => runScenario(counting, { remedies: ["medium"] })).toThrow(new ScenarioError("unknown-remedy", "scenario 'counting' has no remedy 'medium' (remedies: slow, fast-remedy)"));
    expect(() => runScenario(counting, { sizes: { harts: 2 } })).toThrow("scenario 'counting' has no size 'harts' (sizes: us)");
    expect(() => runScenario(counting, { sizes: { us: 1.5 } })).toThrow("size 'us' must be a non-negative integer, not 1.5");
  });

  test("a ScenarioError is an IrqlabError carrying its code, under its own name", () => {
    let caught: unknown;
    try {
      runScenario(counting, { remedies: ["medium"] });
    } catch (e) {
      caught = e;
    }
    expect(IrqlabError.isInstance(caught)).toBe(true);
    expect(caught).toMatchObject({ name: "ScenarioError", code: "unknown-remedy" });
  });
});

describe("output", () => {
  const report = runScenario(counting, { seed: 2, trace: true });

  test("--compare: aligned columns per remedy, units, a verdict line per remedy, notes", () => {
    const lines = renderCompare(report).split("\n");
    expect(lines[0]).toBe("Counting events [counting] (seed 2; us=100)");
    expect(lines.slice(2, 6)).toEqual([
      "          slow    fast-remedy",
      "events    11      101",
      "end       100 us  100 us",
      "odd seed  no      no",
    ]);
    expect(lines.slice(7, 9)).toEqual(["slow         11 events", "fast-remedy  101 events"]);
    expect(lines.slice(10, 12)).toEqual(["notes:", "  slow: slow on purpose"]);
    expect(renderRow(report, "slow")).toMatch(/^ {2}events +11\n {2}end +100 us\n/m);
  });

  test("--json: matches the documented schema, every column in every row, byte-identical for the same run", () => {
    const text = reportsToJsonText([report]);
    const out = v.parse(ScenarioOutputJsonSchema, JSON.parse(text));
    expect(out.schema).toBe(REPORT_SCHEMA_ID);
    expect(out.reports[0]!.columns.map((c) => [c.key, c.unit])).toEqual([["events", null], ["end", "us"], ["odd", null]]);
    expect(out.reports[0]!.rows[1]).toEqual({ remedy: "fast-remedy", title: "one event per 1 us", values: { events: 101, end: 100, odd: false }, verdict: "101 events", notes: [] });
    expect(reportsToJsonText([runScenario(counting, { seed: 2 })])).toBe(text);
    expect(v.safeParse(ScenarioOutputJsonSchema, { ...JSON.parse(text), extra: 1 }).success).toBe(false);
  });

  test("--trace: one process group per remedy, renumbered, with every remedy's events", () => {
    const t = reportsToChromeTrace([report]);
    const names = t.traceEvents.filter((e) => e.ph === "M" && e.name === "process_name").map((e) => [e.pid, e.args!.name]);
    expect(names).toEqual([[1, "counting/slow: counter"], [3, "counting/fast-remedy: counter"]]);
    expect(t.traceEvents.filter((e) => e.name === "tick" && e.pid === 3)).toHaveLength(101);
    expect(t.otherData.scenarios).toEqual([{ scenario: "counting", seed: 2, sizes: report.sizes, remedies: ["slow", "fast-remedy"] }]);
    expect(checkChromeTrace(t)).toEqual([]);
  });
});

describe("run bounds", () => {
  const clock = (period: number, useful: () => void) => {
    const q = new EventQueue();
    const tick = (): void => {
      useful();
      q.scheduleAfter(period, tick);
    };
    q.schedule(0, tick);
    return {
      queue: q,
      run: (until: number): "until" | "idle" => {
        q.runUntil(until);
        return q.pending === 0 ? "idle" : "until";
      },
    };
  };

  test("a run with progress ends at its limit", () => {
    let n = 0;
    expect(runBounded(clock(1000, () => n++), { untilNs: 500_000, progress: () => n })).toEqual({ end: "limit", at: 500_000 });
  });

  test("a run whose events make no progress (a livelock) ends as stalled, not at the limit", () => {
    let n = 0;
    const c = clock(1000, () => (n = Math.min(n + 1, 5)));
    expect(runBounded(c, { untilNs: 1e9, progress: () => n, sliceNs: 10_000, stallSlices: 3 })).toEqual({ end: "stalled", at: 40_000 });
  });

  test("nothing left to happen ends as idle; a done condition ends the run", () => {
    const q = new EventQueue();
    const idle = { queue: q, run: (u: number) => (q.runUntil(u), q.pending === 0 ? ("idle" as const) : ("until" as const)) };
    expect(runBounded(idle, { untilNs: 1e6, progress: () => 0 }).end).toBe("idle");
    let n = 0;
    expect(runBounded(clock(1000, () => n++), { untilNs: 1e9, progress: () => n, done: () => n > 50 }).end).toBe("done");
  });
});

test("percentiles are nearest-rank samples", () => {
  const s = new LatencySamples();
  expect(s.percentileUs(50)).toBeNull();
  for (const ns of [5000, 1000, 3000, 2000, 4000]) s.add(ns);
  expect([s.count, s.percentileNs(50), s.percentileNs(99), s.percentileNs(1), s.percentileUs(80)]).toEqual([5, 3000, 5000, 1000, 4]);
});

test("the registry finds seeds by number or name, in seed order", () => {
  expect(findScenario("000")).toBe(findScenario("vsfile-exhaustion"));
  expect(findScenario("3")?.name).toBe("irqfd-before-vgic-init");
  expect(findScenario("999")).toBeUndefined();
  const seeds = scenarios.map((s) => s.seed ?? "zzz");
  expect([...seeds].sort()).toEqual(seeds);
});
