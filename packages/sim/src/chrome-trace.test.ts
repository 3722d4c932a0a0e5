// The Chrome trace export against the Trace Event Format document's rules (units, flows,
// nesting, metadata), state tracks, and the checker that enforces those rules.
import { describe, expect, test } from "vitest";
import { checkChromeTrace } from "./chrome-trace-check.js";
import { toChromeTrace, toChromeTraceJson, type ChromeTraceEvent } from "./chrome-trace.js";
import { EventQueue } from "./event-queue.js";
import { TraceState } from "./trace-state.js";
import { Tracer } from "./tracer.js";

function traced(): { q: EventQueue; t: Tracer } {
  const q = new EventQueue();
  return { q, t: new Tracer(q, { enabled: true }) };
}

const at = (q: EventQueue, ns: number, fn: () => void): void => {
  q.schedule(ns, fn, undefined);
};

describe("time", () => {
  test("ts and dur are microseconds with the nanoseconds as decimals; no displayTimeUnit", () => {
    const { t } = traced();
    const v = t.track("vm0", "vcpu0", "vcpu");
    t.span(v, "kvm", "KVM_RUN", 1_234_567, 89_001);
    const json = toChromeTraceJson(t);
    const file = JSON.parse(json) as { traceEvents: ChromeTraceEvent[]; displayTimeUnit?: unknown };
    // The Trace Event Format: "ts: the tracing clock timestamp of the event, in microseconds".
    const x = file.traceEvents.find((e) => e.ph === "X")!;
    expect([x.ts, x.dur]).toEqual([1234.567, 89.001]);
    expect(file.displayTimeUnit).toBeUndefined();
    expect(json).not.toContain("displayTimeUnit");
  });
});

describe("tracks", () => {
  test("a track without events is not declared; counter-only tracks declare their process, not a thread", () => {
    const { t } = traced();
    const idle = t.track("host", "cpu3", "host-cpu");
    const v = t.track("vm0", "vcpu0", "vcpu");
    const counterOnly = t.track("host", "cpu0", "host-cpu");
    t.instant(v, "kvm", "kick");
    t.sample(counterOnly, "sched", "cpu0 nr_running", 1);
    const ct = toChromeTrace(t);
    const names = ct.traceEvents.filter((e) => e.ph === "M" && e.name.endsWith("_name")).map((e) => `${e.name}:${String(e.args?.name)}`);
    expect(names).toEqual(["process_name:vm0", "thread_name:vcpu0", "process_name:host"]);
    expect(ct.traceEvents.some((e) => e.tid === idle + 1)).toBe(false);
    expect(checkChromeTrace(ct)).toEqual([]);
  });

  test("vCPU tracks sort before device and host CPU tracks (thread_sort_index)", () => {
    const { t } = traced();
    const cpu = t.track("vm0", "cpu0", "host-cpu");
    const dev = t.track("vm0", "vgic-v3", "device");
    const v = t.track("vm0", "vcpu1", "vcpu");
    for (const tr of [cpu, dev, v]) t.instant(tr, "c", "e");
    const order = toChromeTrace(t)
      .traceEvents.filter((e) => e.name === "thread_sort_index")
      .sort((a, b) => Number(a.args!.sort_index) - Number(b.args!.sort_index))
      .map((e) => e.tid - 1);
    expect(order).toEqual([v, dev, cpu]);
  });

  test("events are written in start order, an enclosing slice before the slices it holds", () => {
    const { t } = traced();
    const v = t.track("vm0", "vcpu0", "vcpu");
    // Recorded as the model records them: inner slices close (and are recorded) first.
    t.span(v, "vcpu-state", "guest", 100, 50);
    t.span(v, "vcpu-state", "in kernel", 150, 50);
    t.span(v, "kvm", "KVM_RUN", 100, 100);
    const xs = toChromeTrace(t).traceEvents.filter((e) => e.ph === "X").map((e) => e.name);
    expect(xs).toEqual(["KVM_RUN", "guest", "in kernel"]);
  });

  test("of two slices with the same bounds, the one recorded later (the enclosing one) comes first; instants keep their order", () => {
    const { t } = traced();
    const v = t.track("vm0", "vcpu0", "vcpu");
    t.instant(v, "kvm", "first");
    t.span(v, "vcpu-state", "guest", 0, 2181);
    t.span(v, "kvm", "KVM_RUN", 0, 2181);
    t.instant(v, "kvm", "second");
    const names = toChromeTrace(t).traceEvents.filter((e) => e.ph !== "M").map((e) => e.name);
    expect(names).toEqual(["KVM_RUN", "guest", "first", "second"]);
  });
});

describe("flows", () => {
  test("a raise that a vCPU takes becomes a zero-length slice with an s event, the take one with an f event (bp e); nested raises join it", () => {
    const { q, t } = traced();
    const dev = t.track("vm0", "irqfd", "device");
    const chip = t.track("vm0", "vgic-v3", "device");
    const v = t.track("vm0", "vcpu0", "vcpu");
    let flow = 0;
    at(q, 1000, () => {
      const prev = t.beginCause(dev, "irq", "kvm_set_irq", { gsi: 5 });
      const inner = t.beginCause(chip, "irq", "vgic_update_irq_pending", { irq: 37 });
      flow = t.cause;
      t.endCause(inner);
      expect(t.cause).toBe(flow); // the inner raise joined the outer one
      t.endCause(prev);
      expect(t.cause).toBe(0);
    });
    at(q, 2500, () => t.endFlow(v, "irq", "irq-taken", flow, { cause: 37 }));
    q.runUntilIdle();
    const ct = toChromeTrace(t);
    const events = ct.traceEvents.filter((e) => e.ph !== "M");
    const s = events.findIndex((e) => e.ph === "s");
    const f = events.findIndex((e) => e.ph === "f");
    // Each flow event right after the zero-length slice it binds to, on the same thread, at the same time.
    expect([events[s - 1]!.name, events[s - 1]!.ph, events[s - 1]!.dur, events[s - 1]!.tid]).toEqual(["kvm_set_irq", "X", 0, dev + 1]);
    expect([events[s]!.ts, events[s]!.tid, events[s]!.id, events[s]!.cat]).toEqual([1, dev + 1, flow, "flow"]);
    expect([events[f - 1]!.name, events[f - 1]!.ph, events[f - 1]!.dur, events[f - 1]!.tid]).toEqual(["irq-taken", "X", 0, v + 1]);
    expect([events[f]!.ts, events[f]!.tid, events[f]!.id, events[f]!.bp, events[f]!.name]).toEqual([2.5, v + 1, flow, "e", events[s]!.name]);
    expect(ct.traceEvents.find((e) => e.name === "vgic_update_irq_pending")?.ph).toBe("i");
    expect(ct.otherData.flows).toBe(1);
    expect(checkChromeTrace(ct)).toEqual([]);
  });

  test("a raise nobody took stays an instant; a flow ends once even if two vCPUs end it", () => {
    const { t } = traced();
    const dev = t.track("vm0", "irqfd", "device");
    const v0 = t.track("vm0", "vcpu0", "vcpu");
    const v1 = t.track("vm0", "vcpu1", "vcpu");
    t.endCause(t.beginCause(dev, "irq", "dropped"));
    const prev = t.beginCause(dev, "irq", "kvm_set_irq");
    const id = t.cause;
    t.endCause(prev);
    t.endFlow(v0, "irq", "irq-taken", id);
    t.endFlow(v1, "irq", "irq-taken", id);
    const ct = toChromeTrace(t);
    expect(ct.traceEvents.find((e) => e.name === "dropped")?.ph).toBe("i");
    expect(ct.traceEvents.filter((e) => e.ph === "f").map((e) => e.tid)).toEqual([v0 + 1]);
    expect(checkChromeTrace(ct)).toEqual([]);
  });

  test("flows cost nothing when tracing is off: no event, no cause", () => {
    const t = new Tracer();
    const dev = t.track("vm0", "irqfd", "device");
    t.endFlow(dev, "irq", "irq-taken", 1);
    expect(t.events()).toHaveLength(0);
    expect(t.cause).toBe(0);
  });
});

describe("TraceState", () => {
  test("back-to-back slices, zero-length ones left out, cut at a boundary, the open one closed by the export only", () => {
    const { q, t } = traced();
    const v = t.track("vm0", "vcpu0", "vcpu");
    const s = new TraceState(t, v, "vcpu-state");
    at(q, 0, () => s.enter("in kernel"));
    at(q, 0, () => s.enter("guest"));
    at(q, 300, () => s.enter("KVM_EXIT_MMIO", { addr: "0x9000000" }));
    at(q, 400, () => s.cut());
    at(q, 700, () => s.enter("guest"));
    q.runUntilIdle();
    q.schedule(1000, () => undefined, undefined);
    q.runUntilIdle();
    expect(t.toText()).toBe(
      "0 vm0/vcpu0 vcpu-state guest dur=300\n300 vm0/vcpu0 vcpu-state KVM_EXIT_MMIO dur=100 addr=0x9000000\n400 vm0/vcpu0 vcpu-state KVM_EXIT_MMIO dur=300 addr=0x9000000\n",
    );
    expect(t.openSpans()).toEqual([{ phase: "span", ts: 700, dur: 300, track: v, category: "vcpu-state", name: "guest", args: undefined }]);
    const a = toChromeTraceJson(t);
    expect(toChromeTraceJson(t)).toBe(a); // exporting does not record the open slice
    const guest = (JSON.parse(a) as { traceEvents: ChromeTraceEvent[] }).traceEvents.filter((e) => e.name === "guest");
    expect(guest.map((e) => [e.ts, e.dur])).toEqual([[0, 0.3], [0.7, 0.3]]);
    s.leave();
    expect(t.openSpans()).toEqual([]);
  });

  test("records nothing when tracing is off", () => {
    const t = new Tracer();
    const s = new TraceState(t, t.track("vm0", "vcpu0", "vcpu"), "vcpu-state");
    s.enter("guest");
    s.cut();
    s.leave();
    expect(s.open).toBeUndefined();
    expect(t.events()).toHaveLength(0);
  });
});

describe("checkChromeTrace", () => {
  const M = (name: string, pid: number, tid: number, args: Record<string, unknown>): ChromeTraceEvent => ({ name, ph: "M", ts: 0, pid, tid, args });
  const base = (): ChromeTraceEvent[] => [M("process_name", 1, 0, { name: "vm0" }), M("thread_name", 1, 1, { name: "vcpu0" })];
  const check = (...events: ChromeTraceEvent[]): string[] => checkChromeTrace({ traceEvents: [...base(), ...events] });

  test("a sound trace has no problems", () => {
    expect(check({ name: "KVM_RUN", ph: "X", ts: 1, dur: 2, pid: 1, tid: 1 }, { name: "guest", ph: "X", ts: 1, dur: 1, pid: 1, tid: 1 })).toEqual([]);
  });

  test("finds each broken rule", () => {
    expect(check({ name: "a", ph: "X", ts: 1, pid: 1, tid: 1 })).toEqual([expect.stringMatching(/dur must be/)]);
    expect(check({ name: "a", ph: "X", ts: -1, dur: 0, pid: 1, tid: 1 })).toEqual([expect.stringMatching(/ts must be/)]);
    expect(check({ name: "a", ph: "X", ts: 2, dur: 1, pid: 1, tid: 1 }, { name: "b", ph: "X", ts: 1, dur: 1, pid: 1, tid: 1 })).toEqual([expect.stringMatching(/goes back/)]);
    expect(check({ name: "a", ph: "X", ts: 1, dur: 2, pid: 1, tid: 1 }, { name: "b", ph: "X", ts: 2, dur: 2, pid: 1, tid: 1 })).toEqual([expect.stringMatching(/without nesting/)]);
    expect(check({ name: "a", ph: "i", ts: 1, pid: 1, tid: 1 }, { name: "c", ph: "C", ts: 1, pid: 1, tid: 1, args: { value: "3" } })).toEqual([expect.stringMatching(/counter args/)]);
    expect(check({ name: "a", ph: "X", ts: 1, dur: 0, pid: 1, tid: 1 }, { name: "s", ph: "s", ts: 1, pid: 1, tid: 1, id: 7 })).toEqual([expect.stringMatching(/flow :7: 1 start/)]);
    expect(check({ name: "a", ph: "X", ts: 1, dur: 0, pid: 1, tid: 1 }, { name: "s", ph: "s", ts: 2, pid: 1, tid: 1, id: 8 }, { name: "s", ph: "f", bp: "e", ts: 2, pid: 1, tid: 1, id: 8 })).toEqual([
      expect.stringMatching(/no slice on thread 1:1 encloses/),
      expect.stringMatching(/no slice on thread 1:1 encloses/),
    ]);
    expect(check()).toEqual([expect.stringMatching(/thread 1:1 \(vcpu0\) is declared but holds no event/), expect.stringMatching(/process 1 is declared/)]);
    expect(check({ name: "a", ph: "i", ts: 1, pid: 1, tid: 1 }, { name: "b", ph: "i", ts: 1, pid: 1, tid: 2 })).toEqual([expect.stringMatching(/thread 1:2 holds events but has no thread_name/)]);
    expect(check({ name: "a", ph: "i", ts: 1, pid: 1, tid: 1 }, { name: "e", ph: "E", ts: 2, pid: 1, tid: 1 })).toEqual([expect.stringMatching(/E without a B/)]);
    expect(checkChromeTrace({ traceEvents: [...base(), { name: "a", ph: "i", ts: 1, pid: 1, tid: 1 }], displayTimeUnit: "us" })).toEqual([expect.stringMatching(/displayTimeUnit/)]);
  });

  test("paired s/f flows bound to slices pass", () => {
    expect(
      check(
        { name: "a", ph: "X", ts: 1, dur: 0, pid: 1, tid: 1 },
        { name: "s", ph: "s", ts: 1, pid: 1, tid: 1, id: 7 },
        { name: "b", ph: "X", ts: 2, dur: 3, pid: 1, tid: 1 },
        { name: "s", ph: "f", bp: "e", ts: 4, pid: 1, tid: 1, id: 7 },
      ),
    ).toEqual([]);
  });
});
