// Reading Chrome Trace Event files generically (the Trace Event Format's phases X, B/E, i/I, C, M, s/t/f),
// and the trace of a real scenario run read back event for event.
import { reportsToChromeTrace, runScenario, findScenario } from "@irqlab/scenarios";
import { describe, expect, test } from "vitest";
import { TraceFormatError, buildTraceModel, firstSpanEndingAfter, sparseText, type TraceModel, type TraceTrack } from "./trace-model.js";

const meta = (pid: number, tid: number, what: "process_name" | "thread_name", name: string) => ({ name: what, ph: "M", pid, tid, args: { name } });
const byName = (m: TraceModel, name: string): TraceTrack => m.tracks.find((t) => t.name === name)!;

describe("buildTraceModel", () => {
  test("X spans: sorted by start, nested by depth (a parent before its child at the same start), running end maximum", () => {
    const m = buildTraceModel({
      traceEvents: [
        meta(1, 1, "process_name", "host"),
        meta(1, 1, "thread_name", "hart0 (host-cpu)"),
        { name: "child", ph: "X", ts: 10, dur: 5, pid: 1, tid: 1 },
        { name: "late", ph: "X", ts: 40, dur: 1, pid: 1, tid: 1, args: { exit: "KVM_EXIT_MMIO" } },
        { name: "parent", ph: "X", ts: 10, dur: 20, pid: 1, tid: 1 },
        { name: "grandchild", ph: "X", ts: 11, dur: 2, pid: 1, tid: 1 },
      ],
    });
    const t = byName(m, "hart0 (host-cpu)");
    expect([t.process, t.kind]).toEqual(["host", "host-cpu"]);
    expect([...t.spanName].map((i) => m.names[i])).toEqual(["parent", "child", "grandchild", "late"]);
    expect([...t.spanDepth]).toEqual([0, 1, 2, 0]);
    expect(t.maxDepth).toBe(2);
    expect([...t.spanEndMax]).toEqual([30, 30, 30, 41]);
    expect(firstSpanEndingAfter(t, 35)).toBe(3);
    expect(sparseText(t.spanArgs, 3)).toBe('{"exit":"KVM_EXIT_MMIO"}');
    expect(sparseText(t.spanArgs, 0)).toBe("");
    expect([m.startUs, m.endUs]).toEqual([10, 41]);
  });

  test("B/E pairs match per thread, innermost first; an E without a B is counted, a B without an E lasts to the end", () => {
    const m = buildTraceModel([
      { name: "outer", ph: "B", ts: 0, pid: 1, tid: 1 },
      { name: "other", ph: "B", ts: 1, pid: 1, tid: 2 },
      { name: "inner", ph: "B", ts: 2, pid: 1, tid: 1, args: { a: 1 } },
      { ph: "E", ts: 3, pid: 1, tid: 1, args: { b: 2 } },
      { ph: "E", ts: 8, pid: 1, tid: 1 },
      { ph: "E", ts: 9, pid: 1, tid: 1 },
      { name: "tick", ph: "i", ts: 10, pid: 1, tid: 1 },
    ]);
    const t1 = byName(m, "thread 1");
    expect([...t1.spanName].map((i) => m.names[i])).toEqual(["outer", "inner"]);
    expect([...t1.spanDur]).toEqual([8, 1]);
    expect(sparseText(t1.spanArgs, 1)).toBe('{"a":1,"b":2}');
    const t2 = byName(m, "thread 2");
    expect([t2.spanStart[0], t2.spanDur[0]]).toEqual([1, 9]);
    expect(m.ignored).toEqual({ E: 1 });
    expect(m.drawn).toBe(4);
  });

  test("instants: thread-scoped on their thread, process-scoped on the process's track, global on one global track", () => {
    const m = buildTraceModel({
      traceEvents: [
        meta(2, 0, "process_name", "vm0"),
        { name: "t", ph: "i", s: "t", ts: 5, pid: 2, tid: 7 },
        { name: "legacy", ph: "I", ts: 4, pid: 2, tid: 7 },
        { name: "p", ph: "i", s: "p", ts: 6, pid: 2, tid: 7 },
        { name: "g", ph: "i", s: "g", ts: 7, pid: 3, tid: 1 },
      ],
    });
    const thread = m.tracks.find((t) => t.tid === 7)!;
    expect([...thread.instantTs]).toEqual([4, 5]);
    expect([...thread.instantName].map((i) => m.names[i])).toEqual(["legacy", "t"]);
    expect(m.tracks.find((t) => t.kind === "process" && t.process === "vm0")!.instantTs[0]).toBe(6);
    expect(byName(m, "(global)").instantTs[0]).toBe(7);
  });

  test("counters: one track per process and name, one series per numeric arg, with its range", () => {
    const m = buildTraceModel([
      { name: "nr_running", ph: "C", ts: 2, pid: 1, tid: 3, args: { cpu0: 1, cpu1: 0 } },
      { name: "nr_running", ph: "C", ts: 1, pid: 1, tid: 4, args: { cpu0: 3, label: "x" } },
      { name: "nr_running", ph: "C", ts: 1, pid: 2, args: { value: 5 } },
    ]);
    const counters = m.tracks.filter((t) => t.kind === "counter");
    expect(counters.map((t) => [t.pid, t.name])).toEqual([
      [1, "nr_running"],
      [2, "nr_running"],
    ]);
    const [cpu0, cpu1] = counters[0]!.series;
    expect([cpu0!.name, [...cpu0!.ts], [...cpu0!.value], cpu0!.min, cpu0!.max]).toEqual(["cpu0", [1, 2], [3, 1], 1, 3]);
    expect([cpu1!.name, [...cpu1!.value]]).toEqual(["cpu1", [0]]);
  });

  test("flows: s → t → f of one category and id become arrows between the tracks they were on, in time order", () => {
    const m = buildTraceModel([
      meta(1, 1, "thread_name", "vcpu0 (vcpu)"),
      meta(1, 2, "thread_name", "imsic (device)"),
      { name: "msi", cat: "irq", ph: "f", ts: 9, pid: 1, tid: 1, id: 7, bp: "e" },
      { name: "msi", cat: "irq", ph: "s", ts: 1, pid: 1, tid: 2, id: 7 },
      { name: "msi", cat: "irq", ph: "t", ts: 5, pid: 1, tid: 1, id: 7 },
      { name: "msi", cat: "other", ph: "s", ts: 1, pid: 1, tid: 2, id: 7 },
      { name: "no-id", ph: "s", ts: 1, pid: 1, tid: 2 },
    ]);
    const vcpu = byName(m, "vcpu0 (vcpu)").id;
    const dev = byName(m, "imsic (device)").id;
    expect(m.flows).toEqual([
      { name: "msi", fromTrack: dev, fromTs: 1, toTrack: vcpu, toTs: 5 },
      { name: "msi", fromTrack: vcpu, fromTs: 5, toTrack: vcpu, toTs: 9 },
    ]);
    expect(m.ignored).toEqual({ s: 1 });
  });

  test("order: processes by process_sort_index then appearance, threads by thread_sort_index then tid, counters after threads", () => {
    const m = buildTraceModel([
      { name: "a", ph: "i", ts: 0, pid: 1, tid: 9 },
      { name: "a", ph: "i", ts: 0, pid: 1, tid: 2 },
      { name: "c", ph: "C", ts: 0, pid: 1, args: { v: 1 } },
      { name: "a", ph: "i", ts: 0, pid: 5, tid: 1 },
      { name: "process_sort_index", ph: "M", pid: 5, tid: 0, args: { sort_index: -1 } },
      { name: "thread_sort_index", ph: "M", pid: 1, tid: 9, args: { sort_index: -1 } },
    ]);
    expect(m.tracks.map((t) => `${t.pid}/${t.name}`)).toEqual(["5/thread 1", "1/thread 9", "1/thread 2", "1/c"]);
  });

  test("not a trace, and malformed events", () => {
    expect(() => buildTraceModel({ events: [] })).toThrow(TraceFormatError);
    expect(() => buildTraceModel("x")).toThrow(TraceFormatError);
    const m = buildTraceModel([null, 3, { ph: "X", pid: 1, tid: 1 }, { name: "ok", ph: "X", ts: 1, dur: 1, pid: 1, tid: 1 }, { ph: "b", ts: 1, id: 1 }]);
    expect(m.ignored).toEqual({ bad: 2, X: 1, b: 1 });
    expect(m.drawn).toBe(1);
  });
});

describe("a scenario's trace (what --trace FILE writes) read back", () => {
  const report = runScenario(findScenario("003")!, { seed: 0, trace: true, remedies: ["lazy-init", "ctrl-init"] });
  const trace = reportsToChromeTrace([report]);
  const model = buildTraceModel(trace);

  test("every span, instant and counter sample is drawn; every named thread is a track of its process", () => {
    let samples = 0;
    for (const e of trace.traceEvents) if (e.ph === "C") samples += Object.values(e.args ?? {}).filter((v) => typeof v === "number").length;
    const drawnSamples = model.tracks.reduce((a, t) => a + t.series.reduce((b, s) => b + s.ts.length, 0), 0);
    expect(drawnSamples).toBe(samples);
    const spans = trace.traceEvents.filter((e) => e.ph === "X").length;
    expect(model.tracks.reduce((a, t) => a + t.spanStart.length, 0)).toBe(spans);
    const instants = trace.traceEvents.filter((e) => e.ph === "i").length;
    expect(model.tracks.reduce((a, t) => a + t.instantTs.length, 0)).toBe(instants);
    expect(model.drawn).toBe(trace.traceEvents.filter((e) => e.ph !== "M").length);
    for (const e of trace.traceEvents) {
      if (e.ph !== "M" || e.name !== "thread_name") continue;
      const events = trace.traceEvents.some((x) => x.ph !== "M" && x.ph !== "C" && x.pid === e.pid && x.tid === e.tid);
      if (events) expect(model.tracks.some((t) => t.pid === e.pid && t.tid === e.tid && t.name === e.args?.name)).toBe(true);
    }
  });

  test("one track group per remedy (and part), named by the scenario and remedy", () => {
    const processes = new Set(model.tracks.map((t) => t.process.slice(0, t.process.lastIndexOf(": "))));
    expect([...processes]).toEqual([...report.traces.keys()].map((k) => `irqfd-before-vgic-init/${k}`));
  });
});
