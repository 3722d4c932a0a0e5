/**
 * A Chrome Trace Event file (the JSON Object Format `{ traceEvents: [...] }`
 * or the bare JSON Array Format) read generically into tracks for the
 * timeline: one track per thread (pid, tid) with its complete spans (`X`,
 * and `B`/`E` pairs matched per thread), instants (`i`/`I`; process- and
 * global-scoped instants on a track of their own) and one track per counter
 * (`C`, per process and name, one series per numeric arg); flows (`s`/`t`/`f`,
 * matched by category and id) as arrows between tracks; names from `M`
 * metadata (process_name, thread_name, *_sort_index).
 *
 * Timestamps and durations are microseconds, as the Trace Event Format
 * defines them (displayTimeUnit only changes how a viewer labels them).
 * Events of other phases (async, object, sample) are counted, not drawn.
 * Per-track data are typed arrays so that a model crosses from the worker
 * to the page cheaply and the renderer walks it without allocating.
 */

/** One timeline track. */
export interface TraceTrack {
  readonly id: number;
  readonly pid: number;
  /** Thread id; null for a counter, process or global track. */
  readonly tid: number | null;
  /** Process (track group) name. */
  readonly process: string;
  /** Track name (thread name, counter name, "(process)" or "(global)"). */
  readonly name: string;
  /** The "(kind)" suffix of a thread name ("host-cpu", "vcpu", "device"), "counter", or "thread". */
  readonly kind: string;
  /** Spans sorted by start: start (µs), duration (µs), name index, nesting depth. */
  readonly spanStart: Float64Array;
  readonly spanDur: Float64Array;
  readonly spanName: Int32Array;
  readonly spanDepth: Uint8Array;
  /** Running maximum of span ends, for a binary search of the first span visible in a window. */
  readonly spanEndMax: Float64Array;
  /** Args of the spans that have any, as JSON (most have none: kept sparse so a model crosses to the page cheaply). */
  readonly spanArgs: SparseText;
  readonly maxDepth: number;
  /** Instants sorted by time. */
  readonly instantTs: Float64Array;
  readonly instantName: Int32Array;
  readonly instantArgs: SparseText;
  /** Counter series (counter tracks only), each sorted by time. */
  readonly series: readonly CounterSeries[];
}

/** Texts for a few indices of a long array: the indices ascending, and the text of each. */
export interface SparseText {
  readonly index: Int32Array;
  readonly text: readonly string[];
}

/** The text at `i`, or "" when it has none. */
export function sparseText(s: SparseText, i: number): string {
  let lo = 0;
  let hi = s.index.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (s.index[mid]! < i) lo = mid + 1;
    else hi = mid;
  }
  return s.index[lo] === i ? s.text[lo]! : "";
}

/** The values of one counter arg over time. */
export interface CounterSeries {
  readonly name: string;
  readonly ts: Float64Array;
  readonly value: Float64Array;
  readonly min: number;
  readonly max: number;
}

/** A flow arrow from one track and time to another. */
export interface TraceFlow {
  readonly name: string;
  readonly fromTrack: number;
  readonly fromTs: number;
  readonly toTrack: number;
  readonly toTs: number;
}

/** A whole trace, ready to draw. */
export interface TraceModel {
  /** Event names, indexed by the tracks' name arrays. */
  readonly names: readonly string[];
  /** Tracks in display order: by process, then threads by sort index and tid, then counters. */
  readonly tracks: readonly TraceTrack[];
  readonly flows: readonly TraceFlow[];
  /** Earliest and latest time of any drawn event (µs). */
  readonly startUs: number;
  readonly endUs: number;
  /** Events drawn, and events left out by phase ("b": 3, "bad": 1 for malformed ones). */
  readonly drawn: number;
  readonly ignored: Readonly<Record<string, number>>;
  /** The file's displayTimeUnit, when it gave one. */
  readonly displayTimeUnit: string | undefined;
}

/** The error of a file that is not a Chrome trace at all. */
export class TraceFormatError extends Error {
  override readonly name = "TraceFormatError";
}

interface RawEvent {
  readonly name?: unknown;
  readonly cat?: unknown;
  readonly ph?: unknown;
  readonly ts?: unknown;
  readonly dur?: unknown;
  readonly pid?: unknown;
  readonly tid?: unknown;
  readonly s?: unknown;
  readonly id?: unknown;
  readonly id2?: unknown;
  readonly args?: unknown;
}

/** A track being filled: events in arrival order, in parallel arrays (no object per event). */
interface TrackBuilder {
  readonly pid: number;
  readonly tid: number | null;
  readonly name: string | undefined;
  readonly spanStart: number[];
  readonly spanDur: number[];
  readonly spanName: number[];
  /** Args by span index (only spans with args). */
  readonly spanArgs: Map<number, string>;
  readonly open: { start: number; name: number; args: unknown }[];
  readonly instantTs: number[];
  readonly instantName: number[];
  readonly instantArgs: Map<number, string>;
  readonly series: Map<string, { ts: number[]; value: number[] }>;
}

const num = (v: unknown): number | undefined => (typeof v === "number" && Number.isFinite(v) ? v : undefined);
const str = (v: unknown): string => (typeof v === "string" ? v : v === undefined ? "" : JSON.stringify(v));
function argsText(a: unknown): string {
  if (a === undefined || a === null) return "";
  if (typeof a === "object") {
    for (const _ in a) return JSON.stringify(a);
    return "";
  }
  return JSON.stringify(a);
}

/** The events of a parsed trace file (object or array format); throws TraceFormatError otherwise. */
export function traceEventsOf(data: unknown): readonly unknown[] {
  if (Array.isArray(data)) return data;
  if (typeof data === "object" && data !== null && Array.isArray((data as { traceEvents?: unknown }).traceEvents)) {
    return (data as { traceEvents: unknown[] }).traceEvents;
  }
  throw new TraceFormatError("not a Chrome trace: expected a JSON array of events or an object with a traceEvents array");
}

/** Reads a parsed Chrome trace (the value of JSON.parse of the file) into a {@link TraceModel}. */
export function buildTraceModel(data: unknown): TraceModel {
  const events = traceEventsOf(data);
  const displayTimeUnit = typeof data === "object" && data !== null && !Array.isArray(data) ? (data as { displayTimeUnit?: unknown }).displayTimeUnit : undefined;
  const names: string[] = [];
  const nameIndex = new Map<string, number>();
  const intern = (n: string): number => {
    let i = nameIndex.get(n);
    if (i === undefined) {
      i = names.push(n) - 1;
      nameIndex.set(n, i);
    }
    return i;
  };
  const processNames = new Map<number, string>();
  const processSort = new Map<number, number>();
  const threadNames = new Map<string, string>();
  const threadSort = new Map<string, number>();
  const builders = new Map<string, TrackBuilder>();
  const pidOrder: number[] = [];
  const ignored: Record<string, number> = {};
  const flowPoints = new Map<string, { name: string; key: string; ts: number }[]>();
  let drawn = 0;
  let startUs = Infinity;
  let endUs = -Infinity;
  const seeTime = (a: number, b: number): void => {
    if (a < startUs) startUs = a;
    if (b > endUs) endUs = b;
  };
  const ignore = (why: string): void => {
    ignored[why] = (ignored[why] ?? 0) + 1;
  };
  const track = (key: string, pid: number, tid: number | null, name?: string): TrackBuilder => {
    let b = builders.get(key);
    if (b === undefined) {
      if (!pidOrder.includes(pid)) pidOrder.push(pid);
      b = { pid, tid, name, spanStart: [], spanDur: [], spanName: [], spanArgs: new Map(), open: [], instantTs: [], instantName: [], instantArgs: new Map(), series: new Map() };
      builders.set(key, b);
    }
    return b;
  };
  // Consecutive events are mostly on one thread: remember the last thread track instead of building its key.
  let lastPid = NaN;
  let lastTid = NaN;
  let last: TrackBuilder | undefined;
  const threadTrack = (pid: number, tid: number): TrackBuilder => {
    if (pid !== lastPid || tid !== lastTid || last === undefined) {
      last = track(`${pid}:${tid}`, pid, tid);
      lastPid = pid;
      lastTid = tid;
    }
    return last;
  };
  const addSpan = (b: TrackBuilder, start: number, dur: number, name: number, args: string): void => {
    if (args !== "") b.spanArgs.set(b.spanStart.length, args);
    b.spanStart.push(start);
    b.spanDur.push(dur);
    b.spanName.push(name);
  };

  for (const raw of events) {
    if (typeof raw !== "object" || raw === null) {
      ignore("bad");
      continue;
    }
    const e = raw as RawEvent;
    const ph = typeof e.ph === "string" ? e.ph : "";
    const pid = num(e.pid) ?? 0;
    const tid = num(e.tid) ?? 0;
    const ts = num(e.ts);
    if (ph === "M") {
      const value = (e.args as { name?: unknown; sort_index?: unknown } | undefined) ?? {};
      if (e.name === "process_name" && typeof value.name === "string") processNames.set(pid, value.name);
      else if (e.name === "thread_name" && typeof value.name === "string") {
        // A named thread is a track even without events (an idle host CPU says something too); the filter hides empty ones.
        threadNames.set(`${pid}:${tid}`, value.name);
        track(`${pid}:${tid}`, pid, tid);
      }
      else if (e.name === "process_sort_index" && num(value.sort_index) !== undefined) processSort.set(pid, num(value.sort_index)!);
      else if (e.name === "thread_sort_index" && num(value.sort_index) !== undefined) threadSort.set(`${pid}:${tid}`, num(value.sort_index)!);
      if (!pidOrder.includes(pid)) pidOrder.push(pid);
      continue;
    }
    if (ts === undefined) {
      ignore(ph === "" ? "bad" : ph);
      continue;
    }
    const name = str(e.name);
    switch (ph) {
      case "X": {
        const dur = Math.max(0, num(e.dur) ?? 0);
        addSpan(threadTrack(pid, tid), ts, dur, intern(name), argsText(e.args));
        seeTime(ts, ts + dur);
        drawn++;
        break;
      }
      case "B":
        threadTrack(pid, tid).open.push({ start: ts, name: intern(name), args: e.args });
        seeTime(ts, ts);
        break;
      case "E": {
        const b = threadTrack(pid, tid);
        const begin = b.open.pop();
        if (begin === undefined) {
          ignore("E");
          break;
        }
        const args = e.args !== undefined && begin.args !== undefined ? { ...(begin.args as object), ...(e.args as object) } : (e.args ?? begin.args);
        addSpan(b, begin.start, Math.max(0, ts - begin.start), begin.name, argsText(args));
        seeTime(begin.start, ts);
        drawn++;
        break;
      }
      case "i":
      case "I": {
        const scope = e.s === "g" ? "g" : e.s === "p" ? "p" : "t";
        const b = scope === "g" ? track("global", -1, null, "(global)") : scope === "p" ? track(`${pid}:p`, pid, null, "(process)") : threadTrack(pid, tid);
        const args = argsText(e.args);
        if (args !== "") b.instantArgs.set(b.instantTs.length, args);
        b.instantTs.push(ts);
        b.instantName.push(intern(name));
        seeTime(ts, ts);
        drawn++;
        break;
      }
      case "C": {
        const id = e.id === undefined ? "" : ` ${str(e.id)}`;
        const b = track(`${pid}:C:${name}${id}`, pid, null, `${name}${id}`);
        const args = typeof e.args === "object" && e.args !== null ? (e.args as Record<string, unknown>) : {};
        for (const [k, v] of Object.entries(args)) {
          const value = num(v);
          if (value === undefined) continue;
          let s = b.series.get(k);
          if (s === undefined) b.series.set(k, (s = { ts: [], value: [] }));
          s.ts.push(ts);
          s.value.push(value);
        }
        seeTime(ts, ts);
        drawn++;
        break;
      }
      case "s":
      case "t":
      case "f": {
        const id = e.id ?? (e.id2 as { global?: unknown; local?: unknown } | undefined)?.global ?? (e.id2 as { local?: unknown } | undefined)?.local;
        if (id === undefined) {
          ignore(ph);
          break;
        }
        const key = `${str(e.cat)}\u0000${str(id)}`;
        let points = flowPoints.get(key);
        if (points === undefined) flowPoints.set(key, (points = []));
        threadTrack(pid, tid);
        points.push({ name, key: `${pid}:${tid}`, ts });
        seeTime(ts, ts);
        drawn++;
        break;
      }
      default:
        ignore(ph === "" ? "bad" : ph);
    }
  }

  // A B without its E lasts to the end of the trace (Perfetto draws such a slice as "did not end").
  for (const b of builders.values()) {
    for (const o of b.open) addSpan(b, o.start, Math.max(0, endUs - o.start), o.name, argsText(o.args));
    drawn += b.open.length;
    b.open.length = 0;
  }

  // Display order: processes by sort index then first appearance; threads by sort index then tid; counters last.
  const pidRank = (p: number): number => processSort.get(p) ?? 0;
  const pids = [...pidOrder].sort((a, b) => pidRank(a) - pidRank(b) || pidOrder.indexOf(a) - pidOrder.indexOf(b));
  const ordered = [...builders.entries()].sort(([ka, a], [kb, b]) => {
    const byPid = pids.indexOf(a.pid) - pids.indexOf(b.pid);
    if (byPid !== 0) return byPid;
    const ca = a.series.size > 0 ? 1 : 0;
    const cb = b.series.size > 0 ? 1 : 0;
    if (ca !== cb) return ca - cb;
    const sa = threadSort.get(ka) ?? 0;
    const sb = threadSort.get(kb) ?? 0;
    return sa - sb || (a.tid ?? -1) - (b.tid ?? -1) || ka.localeCompare(kb);
  });
  const idOf = new Map<string, number>();
  const tracks: TraceTrack[] = ordered.map(([key, b], id) => {
    idOf.set(key, id);
    const threadName = b.name ?? threadNames.get(key) ?? `thread ${b.tid ?? 0}`;
    const kind = b.series.size > 0 ? "counter" : b.tid === null ? "process" : (/\(([^()]+)\)\s*$/.exec(threadName)?.[1] ?? "thread");
    return finishTrack(id, b, processNames.get(b.pid) ?? (b.pid < 0 ? "(global)" : `process ${b.pid}`), threadName, kind);
  });

  const flows: TraceFlow[] = [];
  for (const points of flowPoints.values()) {
    points.sort((a, b) => a.ts - b.ts);
    for (let i = 1; i < points.length; i++) {
      const a = points[i - 1]!;
      const z = points[i]!;
      flows.push({ name: a.name, fromTrack: idOf.get(a.key)!, fromTs: a.ts, toTrack: idOf.get(z.key)!, toTs: z.ts });
    }
  }
  if (startUs === Infinity) {
    startUs = 0;
    endUs = 0;
  }
  return { names, tracks, flows, startUs, endUs, drawn, ignored, displayTimeUnit: typeof displayTimeUnit === "string" ? displayTimeUnit : undefined };
}

/** The order that sorts `start` ascending (ties: `dur` descending, so parents come before children); null when already sorted. */
function sortOrder(start: readonly number[], dur: readonly number[] | undefined): Uint32Array | null {
  let sorted = true;
  for (let i = 1; i < start.length && sorted; i++) {
    const d = start[i]! - start[i - 1]!;
    if (d < 0 || (d === 0 && dur !== undefined && dur[i]! > dur[i - 1]!)) sorted = false;
  }
  if (sorted) return null;
  const order = Uint32Array.from(start, (_, i) => i);
  return order.sort((a, b) => start[a]! - start[b]! || (dur === undefined ? a - b : dur[b]! - dur[a]! || a - b));
}

/** `args` (by original index) re-indexed through `order`, as sparse text. */
function sparse(args: ReadonlyMap<number, string>, order: Uint32Array | null): SparseText {
  if (args.size === 0) return { index: new Int32Array(0), text: [] };
  const at: [number, string][] = [];
  if (order === null) for (const [i, t] of args) at.push([i, t]);
  else order.forEach((orig, i) => {
    const t = args.get(orig);
    if (t !== undefined) at.push([i, t]);
  });
  at.sort((a, b) => a[0] - b[0]);
  return { index: Int32Array.from(at, (x) => x[0]), text: at.map((x) => x[1]) };
}

/** Sorts a builder's events into typed arrays and nests its spans. */
function finishTrack(id: number, b: TrackBuilder, process: string, name: string, kind: string): TraceTrack {
  const n = b.spanStart.length;
  const order = sortOrder(b.spanStart, b.spanDur);
  const at = (i: number): number => (order === null ? i : order[i]!);
  const spanStart = new Float64Array(n);
  const spanDur = new Float64Array(n);
  const spanName = new Int32Array(n);
  const spanDepth = new Uint8Array(n);
  const spanEndMax = new Float64Array(n);
  const ends: number[] = [];
  let maxDepth = 0;
  let endMax = -Infinity;
  for (let i = 0; i < n; i++) {
    const k = at(i);
    const start = b.spanStart[k]!;
    const dur = b.spanDur[k]!;
    while (ends.length > 0 && ends[ends.length - 1]! <= start) ends.pop();
    const depth = Math.min(ends.length, 255);
    ends.push(start + dur);
    spanStart[i] = start;
    spanDur[i] = dur;
    spanName[i] = b.spanName[k]!;
    spanDepth[i] = depth;
    if (depth > maxDepth) maxDepth = depth;
    if (start + dur > endMax) endMax = start + dur;
    spanEndMax[i] = endMax;
  }
  const iorder = sortOrder(b.instantTs, undefined);
  const instantTs = new Float64Array(b.instantTs.length);
  const instantName = new Int32Array(b.instantTs.length);
  for (let i = 0; i < instantTs.length; i++) {
    const k = iorder === null ? i : iorder[i]!;
    instantTs[i] = b.instantTs[k]!;
    instantName[i] = b.instantName[k]!;
  }
  const series: CounterSeries[] = [...b.series.entries()].map(([sname, points]) => {
    const o = sortOrder(points.ts, undefined);
    const ts = Float64Array.from(points.ts, (_, i) => points.ts[o === null ? i : o[i]!]!);
    const value = Float64Array.from(points.value, (_, i) => points.value[o === null ? i : o[i]!]!);
    let min = Infinity;
    let max = -Infinity;
    for (const v of value) {
      if (v < min) min = v;
      if (v > max) max = v;
    }
    return { name: sname, ts, value, min, max };
  });
  return {
    id,
    pid: b.pid,
    tid: b.tid,
    process,
    name,
    kind,
    spanStart,
    spanDur,
    spanName,
    spanDepth,
    spanEndMax,
    spanArgs: sparse(b.spanArgs, order),
    maxDepth,
    instantTs,
    instantName,
    instantArgs: sparse(b.instantArgs, iorder),
    series,
  };
}

/** Whether a track has anything to draw. */
export function trackIsEmpty(t: TraceTrack): boolean {
  return t.spanStart.length === 0 && t.instantTs.length === 0 && t.series.length === 0;
}

/** Index of the first span of `t` that ends at or after `us` (spans before it cannot be visible from `us` on). */
export function firstSpanEndingAfter(t: TraceTrack, us: number): number {
  let lo = 0;
  let hi = t.spanEndMax.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (t.spanEndMax[mid]! < us) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Index of the first element of a sorted array that is ≥ `us`. */
export function lowerBound(a: Float64Array, us: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid]! < us) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
