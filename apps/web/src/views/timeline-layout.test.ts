// The timeline's rows: the toolbar's filters (group, kinds, empty tracks), a header per process, row heights.
import { describe, expect, test } from "vitest";
import { buildTraceModel } from "../trace/trace-model.js";
import { COUNTER_H, HEADER_H, INSTANT_H, MAX_LEVELS, SPAN_H, groupOf, groupsOf, kindsOf, layoutRows } from "./timeline-layout.js";

const model = buildTraceModel([
  { name: "process_name", ph: "M", pid: 1, tid: 0, args: { name: "s/none: host" } },
  { name: "thread_name", ph: "M", pid: 1, tid: 1, args: { name: "cpu0 (host-cpu)" } },
  { name: "thread_name", ph: "M", pid: 1, tid: 2, args: { name: "cpu1 (host-cpu)" } },
  { name: "process_name", ph: "M", pid: 2, tid: 0, args: { name: "s/none: vm0" } },
  { name: "process_name", ph: "M", pid: 3, tid: 0, args: { name: "s/auto: vm0" } },
  { name: "run", ph: "X", ts: 0, dur: 9, pid: 1, tid: 1 },
  { name: "exit", ph: "i", ts: 3, pid: 1, tid: 1 },
  { name: "guest", ph: "X", ts: 0, dur: 2, pid: 2, tid: 5 },
  ...Array.from({ length: MAX_LEVELS + 2 }, (_, d) => ({ name: `nest${d}`, ph: "X", ts: d, dur: 20 - d, pid: 3, tid: 1 })),
  { name: "pending", ph: "C", ts: 0, pid: 2, args: { value: 1 } },
]);

describe("timeline layout", () => {
  test("groups are the process names before ': ' (one per remedy); kinds come from thread names", () => {
    expect(groupOf("vsfile-exhaustion/none: host")).toBe("vsfile-exhaustion/none");
    expect(groupOf("plain")).toBe("plain");
    expect(groupsOf(model)).toEqual(["s/none", "s/auto"]);
    expect(kindsOf(model)).toEqual(["host-cpu", "thread", "counter"]);
  });

  test("one group, empty tracks hidden: a header per process, rows as tall as their levels plus the instant lane", () => {
    const { rows, height } = layoutRows(model, { group: "s/none", kinds: new Set(kindsOf(model)), showEmpty: false });
    expect(rows.map((r) => (r.kind === "header" ? `# ${r.process}` : r.track.name))).toEqual(["# s/none: host", "cpu0 (host-cpu)", "# s/none: vm0", "thread 5", "pending"]);
    const heights = rows.map((r) => r.h);
    expect(heights).toEqual([HEADER_H, SPAN_H + INSTANT_H + 2, HEADER_H, Math.max(SPAN_H, 2 * INSTANT_H) + 2, COUNTER_H]);
    expect(height).toBe(heights.reduce((a, b) => a + b, 0));
    for (let i = 1; i < rows.length; i++) expect(rows[i]!.y).toBe(rows[i - 1]!.y + rows[i - 1]!.h);
  });

  test("empty tracks on demand; kinds filtered out; deep nesting capped at MAX_LEVELS", () => {
    const all = layoutRows(model, { group: null, kinds: new Set(["host-cpu", "thread"]), showEmpty: true }).rows;
    expect(all.flatMap((r) => (r.kind === "track" ? [r.track.name] : []))).toEqual(["cpu0 (host-cpu)", "cpu1 (host-cpu)", "thread 5", "thread 1"]);
    const deep = all.find((r) => r.kind === "track" && r.track.pid === 3)!;
    expect(deep.h).toBe(MAX_LEVELS * SPAN_H + 2);
  });
});
