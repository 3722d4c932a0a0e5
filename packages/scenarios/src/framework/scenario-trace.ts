/**
 * `--trace FILE`: the traces of every remedy's run in one Chrome Trace Event
 * file. Each remedy's tracer is exported with @irqlab/sim's toChromeTrace;
 * the processes (track groups) of one remedy are renumbered after the
 * previous remedy's and their names prefixed with the remedy, so a viewer
 * (Perfetto UI, chrome://tracing) shows one group of tracks per remedy.
 *
 * Back-to-back KVM_RUN spans of one vCPU thread that only returned with
 * KVM_EXIT_INTR and were re-entered at the same instant (the event loop
 * interleaving the vCPUs of every machine) are drawn as one KVM_RUN span
 * whose `args.slices` counts them; the kvm_userspace_exit instants of those
 * KVM_EXIT_INTR returns are left out. `otherData.runs` says, per run, its
 * scenario, remedy, seed and sizes, how many spans were merged
 * (`compacted`), its counters and where its tracks went.
 *
 * `otherData.scenarios` lists every scenario with its id (seed number),
 * seed, sizes and remedies, so that together with the command line the
 * caller adds the file says how to reproduce itself.
 */

import { sortByStart, toChromeTrace, type ChromeTrace, type ChromeTraceEvent } from "@irqlab/sim";
import type { ScenarioReport } from "./run-scenario.js";

/** The merged trace of `reports` (several scenarios: their remedies one after another). */
export function reportsToChromeTrace(reports: readonly ScenarioReport[], otherData: Record<string, unknown> = {}): ChromeTrace {
  const meta: ChromeTraceEvent[] = [];
  const events: ChromeTraceEvent[] = [];
  const runs: Record<string, unknown>[] = [];
  let base = 0;
  let flowBase = 0;
  for (const r of reports) {
    for (const [label, tracer] of r.traces) {
      const t = toChromeTrace(tracer);
      const merged = compactKvmRuns(t.traceEvents);
      let maxPid = 0;
      for (const e of t.traceEvents) {
        maxPid = Math.max(maxPid, e.pid);
        const copy: ChromeTraceEvent = { ...e, pid: base + e.pid };
        // Every run numbers its flows from 1: shift them past the previous runs'.
        if ((e.ph === "s" || e.ph === "f") && typeof e.id === "number") copy.id = flowBase + e.id;
        if (e.ph === "M" && e.name === "process_name" && e.args !== undefined) {
          copy.args = { ...e.args, name: `${r.scenario.name}/${label}: ${String(e.args.name)}` };
        }
        if (e.ph === "M" && e.name === "process_sort_index") copy.args = { sort_index: base + e.pid };
        (e.ph === "M" ? meta : events).push(copy);
      }
      const tracks = (t.otherData.tracks as { pid: number }[]).map((x) => ({ ...x, pid: base + x.pid }));
      runs.push({ scenario: r.scenario.name, remedy: label, seed: r.seed, sizes: r.sizes, ...t.otherData, tracks, compacted: merged });
      base += maxPid + 1;
      flowBase += tracer.flowCount;
    }
  }
  // Each run's events are sorted; merged, they are sorted again so every thread's stay in time order.
  sortByStart(events);
  const scenarios = reports.map((r) => ({ scenario: r.scenario.name, ...(r.scenario.seed === undefined ? {} : { id: r.scenario.seed }), seed: r.seed, sizes: r.sizes, remedies: r.rows.map((x) => x.remedy) }));
  return { traceEvents: [...meta, ...events], otherData: { ...otherData, scenarios, runs } };
}

/** The merged trace as JSON text. */
export function reportsToChromeTraceJson(reports: readonly ScenarioReport[], otherData: Record<string, unknown> = {}): string {
  return JSON.stringify(reportsToChromeTrace(reports, otherData));
}

/** Bounds are µs as floats: two instants closer than this are the same nanosecond. */
const SAME_INSTANT_US = 1e-6;

/**
 * Merges KVM_RUN slices in place (see the module comment). Returns how many
 * spans were merged into a previous one. One pass to merge, one to drop;
 * tracks are keyed by pid × 2^20 + tid, instants by their nanosecond.
 */
export function compactKvmRuns(events: ChromeTraceEvent[]): number {
  const last = new Map<number, ChromeTraceEvent>();
  const boundaries = new Map<number, Set<number>>();
  let merged = 0;
  for (let i = 0; i < events.length; i++) {
    const e = events[i]!;
    if (e.ph !== "X" || e.name !== "KVM_RUN") continue;
    const key = e.pid * 1_048_576 + e.tid;
    const prev = last.get(key);
    if (prev !== undefined && prev.args?.exit === "KVM_EXIT_INTR" && Math.abs(prev.ts + (prev.dur ?? 0) - e.ts) < SAME_INSTANT_US) {
      prev.dur = e.ts + (e.dur ?? 0) - prev.ts;
      const slices = typeof prev.args.slices === "number" ? prev.args.slices : 1;
      prev.args = { ...prev.args, ...(e.args ?? {}), slices: slices + 1 };
      let b = boundaries.get(key);
      if (b === undefined) boundaries.set(key, (b = new Set()));
      b.add(Math.round(e.ts * 1000));
      events[i] = DROPPED;
      merged++;
      continue;
    }
    last.set(key, e);
  }
  if (merged === 0) return 0;
  let w = 0;
  for (const e of events) {
    if (e === DROPPED) continue;
    if (e.ph === "i" && e.name === "kvm_userspace_exit" && e.args?.reason === "KVM_EXIT_INTR" && boundaries.get(e.pid * 1_048_576 + e.tid)?.has(Math.round(e.ts * 1000)) === true) continue;
    events[w++] = e;
  }
  events.length = w;
  return merged;
}

/** Placeholder for a merged span until the drop pass. */
const DROPPED: ChromeTraceEvent = { name: "", ph: "M", ts: 0, pid: 0, tid: 0 };
