/**
 * Export of a {@link Tracer} as Chrome Trace Event JSON (the "JSON Object
 * Format"), which Perfetto UI, chrome://tracing and speedscope open.
 *
 * Each track group (a VM, the host) becomes a process and each track a thread,
 * named through `M` metadata events. Timestamps are microseconds in that
 * format; virtual nanoseconds are divided by 1000 and `displayTimeUnit` is
 * "ns" so viewers show nanosecond precision. Spans become complete (`X`)
 * events, instants thread-scoped `i` events and samples `C` counters.
 */

import type { Tracer } from "./tracer.js";

/** One event of the Chrome Trace Event format. */
export interface ChromeTraceEvent {
  name: string;
  cat?: string;
  ph: "X" | "i" | "C" | "M";
  ts: number;
  dur?: number;
  pid: number;
  tid: number;
  s?: "t";
  args?: Record<string, unknown>;
}

/** A whole Chrome trace file. */
export interface ChromeTrace {
  traceEvents: ChromeTraceEvent[];
  displayTimeUnit: "ns";
  otherData: Record<string, unknown>;
}

/** Builds the Chrome trace object; `otherData` lands in the file's header (seed, command line). */
export function toChromeTrace(tracer: Tracer, otherData: Record<string, unknown> = {}): ChromeTrace {
  const pids = new Map<string, number>();
  const out: ChromeTraceEvent[] = [];
  const tracks = tracer.tracks();
  for (const t of tracks) {
    let pid = pids.get(t.group);
    if (pid === undefined) {
      pid = pids.size + 1;
      pids.set(t.group, pid);
      out.push({ name: "process_name", ph: "M", ts: 0, pid, tid: 0, args: { name: t.group } });
    }
    out.push({ name: "thread_name", ph: "M", ts: 0, pid, tid: t.id + 1, args: { name: `${t.name} (${t.kind})` } });
  }
  const place = (track: number) => ({ pid: pids.get(tracks[track]?.group ?? "") ?? 0, tid: track + 1 });
  for (const e of tracer.events()) {
    const ts = e.ts / 1000;
    switch (e.phase) {
      case "span":
        out.push({ name: e.name, cat: e.category, ph: "X", ts, dur: e.dur / 1000, ...place(e.track), ...(e.args ? { args: { ...e.args } } : {}) });
        break;
      case "instant":
        out.push({ name: e.name, cat: e.category, ph: "i", s: "t", ts, ...place(e.track), ...(e.args ? { args: { ...e.args } } : {}) });
        break;
      case "counter":
        out.push({ name: e.name, cat: e.category, ph: "C", ts, ...place(e.track), args: { value: e.value } });
        break;
    }
  }
  return {
    traceEvents: out,
    displayTimeUnit: "ns",
    otherData: { ...otherData, counters: tracer.counters.toJSON(), droppedEvents: tracer.dropped },
  };
}

/** The Chrome trace as a JSON string (stable key order, so the same run gives the same bytes). */
export function toChromeTraceJson(tracer: Tracer, otherData: Record<string, unknown> = {}): string {
  return JSON.stringify(toChromeTrace(tracer, otherData));
}
