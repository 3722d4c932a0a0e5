/**
 * Checks a Chrome trace against the rules of the Trace Event Format document
 * that viewers rely on, and against what irqlab's export promises. Returns
 * the problems found, one sentence each; an empty list means the trace is
 * sound. Used by irqlab's tests and usable by any reader of these files.
 *
 * What is checked:
 * - every event has a string `name`, a known `ph`, numeric `pid` and `tid`,
 *   and a finite `ts` ≥ 0 (metadata events excepted);
 * - `X` has a finite `dur` ≥ 0; `i` a scope of "t", "p" or "g" if any; `C`
 *   an `args` object whose values are all finite numbers; `M` one of the
 *   process/thread name and sort-index records with the right argument;
 * - per thread, `X`, `B`/`E` and `i` events appear in non-decreasing `ts`,
 *   `X` slices nest properly (a slice that starts inside another ends
 *   inside it too), and every `E` closes a `B`;
 * - flows are paired: each `s` (category, id) has as many `f`, and each `s`
 *   or `f` has a slice to bind to on its thread (one that encloses its `ts`,
 *   zero-length slices at the same `ts` included);
 * - no empty tracks: every declared thread holds an event, every declared
 *   process holds one, and every event's thread or process is declared;
 * - `displayTimeUnit`, if present, is "ms" or "ns".
 */

import type { ChromeTrace } from "./chrome-trace.js";

/** An event as read from a file: nothing about its fields is taken for granted. */
type LooseEvent = Readonly<Record<string, unknown>>;

const PHASES = new Set(["X", "B", "E", "i", "C", "M", "s", "t", "f"]);
const META_NAMES = new Set(["process_name", "thread_name", "process_sort_index", "thread_sort_index", "process_labels"]);
/** µs values are floats: ends closer than this (a thousandth of a nanosecond) are the same. */
const EPSILON_US = 1e-6;

/** The problems of `trace`, or an empty list. */
export function checkChromeTrace(trace: ChromeTrace | { readonly traceEvents: readonly object[]; readonly displayTimeUnit?: unknown }): string[] {
  const problems: string[] = [];
  const unit = (trace as { displayTimeUnit?: unknown }).displayTimeUnit;
  if (unit !== undefined && unit !== "ms" && unit !== "ns") problems.push(`displayTimeUnit ${JSON.stringify(unit)} is neither "ms" nor "ns"`);
  const threads = new Map<string, string>();
  const processes = new Set<number>();
  const threadEvents = new Map<string, number>();
  const processEvents = new Map<number, number>();
  const lastTs = new Map<string, number>();
  const stacks = new Map<string, number[]>();
  const open = new Map<string, number>();
  const flowStarts = new Map<string, number>();
  const flowEnds = new Map<string, number>();
  // Per thread, the bounds of the last X slice: a flow event binds to it if it encloses the flow's ts.
  const lastSlice = new Map<string, { start: number; end: number }>();
  (trace.traceEvents as readonly LooseEvent[]).forEach((e, i) => {
    const at = `event ${i} (${JSON.stringify(e.ph)} ${JSON.stringify(e.name)})`;
    const args = typeof e.args === "object" && e.args !== null ? (e.args as LooseEvent) : undefined;
    if (typeof e.name !== "string") problems.push(`${at}: name is not a string`);
    if (typeof e.ph !== "string" || !PHASES.has(e.ph)) {
      problems.push(`${at}: unknown phase`);
      return;
    }
    if (typeof e.pid !== "number" || typeof e.tid !== "number") problems.push(`${at}: pid and tid must be numbers`);
    const pid = typeof e.pid === "number" ? e.pid : NaN;
    const key = `${pid}:${String(e.tid)}`;
    const name = typeof e.name === "string" ? e.name : "";
    if (e.ph === "M") {
      if (!META_NAMES.has(name)) problems.push(`${at}: unknown metadata record`);
      else if (name.endsWith("_name") && typeof args?.name !== "string") problems.push(`${at}: args.name must be a string`);
      else if (name.endsWith("_sort_index") && typeof args?.sort_index !== "number") problems.push(`${at}: args.sort_index must be a number`);
      if (name === "thread_name") threads.set(key, String(args?.name));
      if (name === "process_name") processes.add(pid);
      return;
    }
    const ts = typeof e.ts === "number" && Number.isFinite(e.ts) ? e.ts : NaN;
    if (!(ts >= 0)) problems.push(`${at}: ts must be a finite number >= 0`);
    processEvents.set(pid, (processEvents.get(pid) ?? 0) + 1);
    if (e.ph === "C") {
      const values = args === undefined ? [] : Object.values(args);
      if (values.length === 0 || values.some((v) => typeof v !== "number" || !Number.isFinite(v))) problems.push(`${at}: counter args must be finite numbers`);
      return;
    }
    if (e.ph === "s" || e.ph === "t" || e.ph === "f") {
      if (e.id === undefined) problems.push(`${at}: flow event without id`);
      const enclosed = (stacks.get(key) ?? []).some((end) => end >= ts - EPSILON_US);
      const last = lastSlice.get(key);
      if (!enclosed && !(last !== undefined && last.start <= ts + EPSILON_US && ts <= last.end + EPSILON_US)) problems.push(`${at}: no slice on thread ${key} encloses the flow event to bind it`);
      const m = e.ph === "s" ? flowStarts : e.ph === "f" ? flowEnds : undefined;
      const fid = `${typeof e.cat === "string" ? e.cat : ""}:${String(e.id)}`;
      if (m) m.set(fid, (m.get(fid) ?? 0) + 1);
      return;
    }
    threadEvents.set(key, (threadEvents.get(key) ?? 0) + 1);
    const prev = lastTs.get(key);
    if (prev !== undefined && ts < prev) problems.push(`${at}: ts ${ts} goes back from ${prev} on thread ${key}`);
    lastTs.set(key, ts);
    if (e.ph === "i") {
      if (e.s !== undefined && e.s !== "t" && e.s !== "p" && e.s !== "g") problems.push(`${at}: instant scope ${JSON.stringify(e.s)}`);
      return;
    }
    if (e.ph === "B") {
      open.set(key, (open.get(key) ?? 0) + 1);
      return;
    }
    if (e.ph === "E") {
      const n = open.get(key) ?? 0;
      if (n === 0) problems.push(`${at}: E without a B on thread ${key}`);
      else open.set(key, n - 1);
      return;
    }
    // X
    if (typeof e.dur !== "number" || !Number.isFinite(e.dur) || e.dur < 0) {
      problems.push(`${at}: dur must be a finite number >= 0`);
      return;
    }
    let stack = stacks.get(key);
    if (stack === undefined) stacks.set(key, (stack = []));
    while (stack.length > 0 && stack[stack.length - 1]! <= ts + EPSILON_US) stack.pop();
    const end = ts + e.dur;
    const top = stack[stack.length - 1];
    if (top !== undefined && end > top + EPSILON_US) problems.push(`${at}: [${ts}, ${end}] overlaps the slice ending at ${top} on thread ${key} without nesting in it`);
    stack.push(end);
    lastSlice.set(key, { start: ts, end });
  });
  for (const [fid, n] of flowStarts) if (flowEnds.get(fid) !== n) problems.push(`flow ${fid}: ${n} start(s), ${flowEnds.get(fid) ?? 0} end(s)`);
  for (const [fid, n] of flowEnds) if (!flowStarts.has(fid)) problems.push(`flow ${fid}: ${n} end(s) without a start`);
  for (const [key, name] of threads) if (!threadEvents.has(key)) problems.push(`thread ${key} (${name}) is declared but holds no event`);
  for (const pid of processes) if (!processEvents.has(pid)) problems.push(`process ${pid} is declared but holds no event`);
  for (const key of threadEvents.keys()) if (!threads.has(key)) problems.push(`thread ${key} holds events but has no thread_name`);
  for (const pid of processEvents.keys()) if (!processes.has(pid)) problems.push(`process ${pid} holds events but has no process_name`);
  return problems;
}
