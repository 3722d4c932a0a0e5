/**
 * Export of a {@link Tracer} as Chrome Trace Event JSON (the "JSON Object
 * Format" of the Trace Event Format document), which Perfetto UI,
 * chrome://tracing and speedscope open.
 *
 * Time: `ts` and `dur` are microseconds, as the format defines them, with the
 * nanoseconds kept as three decimals (1234567 ns → 1234.567). The file sets
 * no `displayTimeUnit`: the document says it only changes how a viewer
 * displays time, yet some Perfetto versions scaled the values of a file that
 * declared "ns", showing a run 1000 times shorter. Without it every viewer
 * reads the default (milliseconds display, microsecond values).
 *
 * Layout: each track group (a VM, the host) becomes a process and each track
 * a thread, named with `M` metadata events and ordered vCPUs first, then the
 * VMM, devices and interrupt controllers, host CPUs. Only tracks that hold at
 * least one event are declared. Spans become complete (`X`) events, sorted by
 * start and, at equal starts, longest first, so enclosing slices come before
 * the slices they hold; instants become thread-scoped `i` events; samples
 * become `C` counters named after what they count. An interrupt's raise and
 * the instant where a vCPU takes it become zero-length `X` slices joined by
 * a flow: an `s` event right after the raise's slice and an `f` event with
 * `bp: "e"` right after the take's, both in category "flow" under the name
 * "irq", so each binds to the slice it follows (the enclosing slice at its
 * timestamp, as the format's binding rules say). A raise that no vCPU took
 * stays a plain instant. State tracks' open slices (Tracer.openSpans) are
 * closed at the clock's time.
 */

import type { SpanEvent, TraceEvent, TrackInfo, TrackKind, Tracer } from "./tracer.js";

/** One event of the Chrome Trace Event format (the phases irqlab writes, and those it reads back). */
export interface ChromeTraceEvent {
  name: string;
  cat?: string;
  ph: "X" | "B" | "E" | "i" | "C" | "M" | "s" | "t" | "f";
  ts: number;
  dur?: number;
  pid: number;
  tid: number;
  /** Scope of an instant: thread. */
  s?: "t" | "p" | "g";
  /** Flow id of `s`/`t`/`f` events. */
  id?: number | string;
  /** Binding point of a flow end: the enclosing slice. */
  bp?: "e";
  args?: Record<string, unknown>;
}

/** A whole Chrome trace file. */
export interface ChromeTrace {
  traceEvents: ChromeTraceEvent[];
  /** Only what the run was (command line, seed, sizes, version), the tracks, the counters. */
  otherData: Record<string, unknown>;
}

/** Where a track's kind puts it among the threads of its process (thread_sort_index). */
const KIND_ORDER: Readonly<Record<TrackKind, number>> = { vcpu: 0, vmm: 1, device: 2, "host-cpu": 3, host: 4 };

/** Builds the Chrome trace object; `otherData` lands in the file's header (seed, command line). */
export function toChromeTrace(tracer: Tracer, otherData: Record<string, unknown> = {}): ChromeTrace {
  const tracks = tracer.tracks();
  const events: readonly TraceEvent[] = [...tracer.events(), ...tracer.openSpans()];
  const flows = pairedFlows(events);
  // Tracks with something to draw; counters are drawn per process, by name.
  const drawn = new Set<number>();
  const used = new Set<number>();
  for (const e of events) {
    used.add(e.track);
    if (e.phase !== "counter") drawn.add(e.track);
  }
  const pids = new Map<string, number>();
  const meta: ChromeTraceEvent[] = [];
  const layout: { pid: number; tid: number; group: string; name: string; kind: TrackKind }[] = [];
  for (const t of tracks) {
    if (!used.has(t.id)) continue;
    let pid = pids.get(t.group);
    if (pid === undefined) {
      pid = pids.size + 1;
      pids.set(t.group, pid);
      meta.push({ name: "process_name", ph: "M", ts: 0, pid, tid: 0, args: { name: t.group } });
      meta.push({ name: "process_sort_index", ph: "M", ts: 0, pid, tid: 0, args: { sort_index: pid } });
    }
    if (!drawn.has(t.id)) continue;
    const tid = t.id + 1;
    meta.push({ name: "thread_name", ph: "M", ts: 0, pid, tid, args: { name: t.name } });
    meta.push({ name: "thread_sort_index", ph: "M", ts: 0, pid, tid, args: { sort_index: KIND_ORDER[t.kind] * 100_000 + t.id } });
    layout.push({ pid, tid, group: t.group, name: t.name, kind: t.kind });
  }
  const out: ChromeTraceEvent[] = [];
  const ended = new Set<number>();
  for (const e of events) convert(out, e, tracks[e.track], pids, flows, ended);
  sortRecorded(out);
  return {
    traceEvents: [...meta, ...out],
    otherData: { ...otherData, tracks: layout, counters: tracer.counters.toJSON(), droppedEvents: tracer.dropped, flows: flows.size },
  };
}

/** The Chrome trace as a JSON string (stable key order, so the same run gives the same bytes). */
export function toChromeTraceJson(tracer: Tracer, otherData: Record<string, unknown> = {}): string {
  return JSON.stringify(toChromeTrace(tracer, otherData));
}

/**
 * Sorts events in place by `ts`, then longest first (so a slice precedes the
 * slices it encloses), then by their order before sorting: the same input
 * always gives the same order. For merging files whose events are already in
 * this order.
 */
export function sortByStart(events: ChromeTraceEvent[]): void {
  const keyed = events.map((e, i) => ({ e, i }));
  keyed.sort((a, b) => a.e.ts - b.e.ts || (b.e.dur ?? 0) - (a.e.dur ?? 0) || a.i - b.i);
  for (let i = 0; i < keyed.length; i++) events[i] = keyed[i]!.e;
}

/**
 * {@link sortByStart} for events in recording order. A span is recorded when
 * it ends, so of two slices with the same bounds the one recorded later
 * encloses the other (a KVM_RUN and the one state slice it held): it goes
 * first. Instants keep their recording order, which is causal order.
 */
function sortRecorded(events: ChromeTraceEvent[]): void {
  const keyed = events.map((e, i) => ({ e, i }));
  keyed.sort((a, b) => {
    const d = a.e.ts - b.e.ts || (b.e.dur ?? 0) - (a.e.dur ?? 0);
    if (d !== 0) return d;
    return (a.e.dur ?? 0) > 0 ? b.i - a.i : a.i - b.i;
  });
  for (let i = 0; i < keyed.length; i++) events[i] = keyed[i]!.e;
}

/** Flow ids with both a start and an end. */
function pairedFlows(events: readonly TraceEvent[]): Set<number> {
  const out = new Set<number>();
  const ins = new Set<number>();
  for (const e of events) if (e.phase === "instant" && e.flowIn !== undefined) ins.add(e.flowIn);
  for (const e of events) if (e.phase === "instant" && e.flowOut !== undefined && ins.has(e.flowOut)) out.add(e.flowOut);
  return out;
}

/**
 * Appends the Chrome events of one event to `out`; `ended` collects the flows
 * already ended (a flow ends once, at the first vCPU that took it).
 */
function convert(out: ChromeTraceEvent[], e: TraceEvent | SpanEvent, t: TrackInfo | undefined, pids: ReadonlyMap<string, number>, flows: ReadonlySet<number>, ended: Set<number>): void {
  const pid = pids.get(t?.group ?? "") ?? 0;
  const tid = e.track + 1;
  const ts = e.ts / 1000;
  const args = e.phase !== "counter" && e.args ? { args: { ...e.args } } : {};
  switch (e.phase) {
    case "span":
      out.push({ name: e.name, cat: e.category, ph: "X", ts, dur: e.dur / 1000, pid, tid, ...args });
      return;
    case "counter":
      out.push({ name: e.name, cat: e.category, ph: "C", ts, pid, tid, args: { value: e.value } });
      return;
    case "instant": {
      if (e.flowOut !== undefined && flows.has(e.flowOut)) {
        out.push({ name: e.name, cat: e.category, ph: "X", ts, dur: 0, pid, tid, ...args });
        out.push({ name: FLOW_NAME, cat: FLOW_CATEGORY, ph: "s", id: e.flowOut, ts, pid, tid });
        return;
      }
      if (e.flowIn !== undefined && flows.has(e.flowIn) && !ended.has(e.flowIn)) {
        ended.add(e.flowIn);
        out.push({ name: e.name, cat: e.category, ph: "X", ts, dur: 0, pid, tid, ...args });
        out.push({ name: FLOW_NAME, cat: FLOW_CATEGORY, ph: "f", bp: "e", id: e.flowIn, ts, pid, tid });
        return;
      }
      out.push({ name: e.name, cat: e.category, ph: "i", s: "t", ts, pid, tid, ...args });
    }
  }
}

/** Name and category of the flow events (a flow's `s` and `f` must agree on both). */
const FLOW_NAME = "irq";
const FLOW_CATEGORY = "flow";
