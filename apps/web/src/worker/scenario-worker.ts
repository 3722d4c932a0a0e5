/**
 * The scenario worker: runs a scenario's remedies one at a time (posting a
 * progress message before and after each), then sends the report as the
 * CLI's `--json` has it, the merged Chrome trace read into a TraceModel (the
 * same export as `--trace FILE`), and any occupancy series, detail tables and step-by-step
 * schedules. It also reads
 * trace files the page opens, so large JSON is parsed off the page's thread.
 */

import { findScenario, reportToJson, reportsToChromeTrace, runScenario, scenarios, type RemedyRow, type ScenarioReport } from "@irqlab/scenarios";
import type { Tracer } from "@irqlab/sim";
import { buildTraceModel, type TraceModel } from "../trace/trace-model.js";
import type { RemedyOccupancy, WorkerMessage, WorkerRequest } from "./protocol.js";

function post(message: WorkerMessage, transfer: Transferable[] = []): void {
  self.postMessage(message, { transfer });
}

/** The typed arrays of a trace model and occupancy series, handed over instead of copied. */
function transferables(trace: TraceModel, occupancy: readonly RemedyOccupancy[]): Transferable[] {
  const out: Transferable[] = [];
  for (const t of trace.tracks) {
    out.push(t.spanStart.buffer, t.spanDur.buffer, t.spanName.buffer, t.spanDepth.buffer, t.spanEndMax.buffer, t.instantTs.buffer, t.instantName.buffer, t.spanArgs.index.buffer, t.instantArgs.index.buffer);
    for (const s of t.series) out.push(s.ts.buffer, s.value.buffer);
  }
  for (const o of occupancy) out.push(o.series.times.buffer, o.series.cells.buffer);
  return out;
}

function run(name: string, remedies: readonly string[], seed: number): void {
  const scenario = findScenario(name);
  if (scenario === undefined) throw new Error(`no scenario '${name}'`);
  const rows: RemedyRow[] = [];
  const traces = new Map<string, Tracer>();
  const wallMs: number[] = [];
  let sizes: Readonly<Record<string, number>> = {};
  for (const [index, remedy] of remedies.entries()) {
    post({ type: "progress", remedy, index, total: remedies.length, done: false });
    const t0 = performance.now();
    // One remedy per call, on the same seed and sizes: the rows are those of one runScenario over all of them.
    const one = runScenario(scenario, { remedies: [remedy], seed, trace: true });
    const ms = performance.now() - t0;
    wallMs.push(ms);
    sizes = one.sizes;
    rows.push(...one.rows);
    for (const [label, tracer] of one.traces) traces.set(label, tracer);
    post({ type: "progress", remedy, index, total: remedies.length, done: true, wallMs: ms });
  }
  const report: ScenarioReport = { scenario, seed, sizes, columns: scenario.columns, rows, traces };
  const trace = buildTraceModel(reportsToChromeTrace([report]));
  const occupancy = rows.flatMap((r) => (r.occupancy === undefined ? [] : [{ remedy: r.remedy, series: r.occupancy }]));
  const tables = rows.flatMap((r) => (r.tables === undefined ? [] : [{ remedy: r.remedy, tables: r.tables }]));
  const schedules = rows.flatMap((r) => (r.schedules === undefined || r.schedules.length === 0 ? [] : [{ remedy: r.remedy, schedules: r.schedules }]));
  post({ type: "result", report: reportToJson(report), trace, occupancy, tables, schedules, wallMs }, transferables(trace, occupancy));
}

async function openTrace(file: Blob, label: string): Promise<void> {
  const trace = buildTraceModel(JSON.parse(await file.text()) as unknown);
  post({ type: "trace", label, trace }, transferables(trace, []));
}

self.onmessage = (e: MessageEvent<WorkerRequest>) => {
  const req = e.data;
  const fail = (err: unknown): void => {
    post({ type: "error", message: err instanceof Error ? err.message : String(err) });
  };
  try {
    if (req.type === "run") run(req.scenario, req.remedies, req.seed);
    else openTrace(req.file, req.label).catch(fail);
  } catch (err) {
    fail(err);
  }
};

post({
  type: "catalogue",
  scenarios: scenarios.map((s) => ({
    name: s.name,
    seed: s.seed ?? null,
    title: s.title,
    explain: s.explain,
    remedies: s.remedies.map((r) => ({ name: r.name, title: r.title, description: r.description })),
  })),
});
