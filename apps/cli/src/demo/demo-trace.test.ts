// The demos' Chrome traces as a KVM engineer opens them in Perfetto: sound by the Trace Event
// Format's rules, no empty tracks, vCPU state slices, host CPU tracks, flows from each raise to
// the vCPU that takes it, counters, trapped register accesses, Linux tracepoint names.
import { checkChromeTrace, toChromeTrace, type ChromeTrace, type ChromeTraceEvent, type Tracer } from "@irqlab/sim";
import { describe, expect, test } from "vitest";
import { runArmDemo } from "./arm-demo.js";
import { runRiscvDemo } from "./riscv-demo.js";

const thread = (t: ChromeTrace, name: string): ChromeTraceEvent => t.traceEvents.find((e) => e.ph === "M" && e.name === "thread_name" && e.args?.name === name)!;
const on = (t: ChromeTrace, m: ChromeTraceEvent): ChromeTraceEvent[] => t.traceEvents.filter((e) => e.ph !== "M" && e.pid === m.pid && e.tid === m.tid);

const demos: [string, () => Tracer, string][] = [
  ["arm64", () => runArmDemo({ seed: 3, trace: true }).tracer, "arm-vm"],
  ["riscv64 auto", () => runRiscvDemo({ seed: 3, trace: true, mode: "auto" }).tracer, "guest"],
  ["riscv64 emul", () => runRiscvDemo({ seed: 3, trace: true, mode: "emul" }).tracer, "guest"],
];

describe.each(demos)("%s demo trace", (_name, run, vm) => {
  const tracer = run();
  const t = toChromeTrace(tracer);

  test("passes the Trace Event Format checks (fields per phase, time order, nesting, paired flows, no empty tracks)", () => {
    expect(checkChromeTrace(t)).toEqual([]);
    const declared = t.traceEvents.filter((e) => e.name === "thread_name").length;
    expect(declared).toBe((t.otherData.tracks as unknown[]).length);
    expect(declared).toBeLessThan(tracer.tracks().length); // the tracks nothing happened on are left out
  });

  test("the vCPU track holds KVM_RUN and back-to-back state slices inside it", () => {
    const vcpu = on(t, thread(t, "vcpu0"));
    const states = vcpu.filter((e) => e.cat === "vcpu-state");
    for (const name of ["guest", "in kernel", "blocked"]) expect(states.some((e) => e.name === name)).toBe(true);
    for (let i = 1; i < states.length; i++) expect(states[i]!.ts).toBeGreaterThanOrEqual(states[i - 1]!.ts + states[i - 1]!.dur! - 1e-6);
    const runs = vcpu.filter((e) => e.name === "KVM_RUN");
    expect(runs.length).toBeGreaterThan(0);
    for (const r of runs) expect(typeof r.args?.cpu).toBe("number");
  });

  test("every interrupt the guest takes ends a flow from the raise that caused it, earlier on a device track", () => {
    const ev = t.traceEvents;
    expect(ev.some((e) => e.name === "irq-taken")).toBe(true);
    const ends = ev.flatMap((e, i) => (e.ph === "f" ? [i] : []));
    expect(ends.length).toBeGreaterThan(0);
    for (const i of ends) {
      const taken = ev[i - 1]!;
      const s = ev.findIndex((e) => e.ph === "s" && e.id === ev[i]!.id);
      const raise = ev[s - 1]!;
      expect([taken.name, taken.ph, taken.dur]).toEqual(["irq-taken", "X", 0]);
      expect(["kvm_set_irq", "kvm_msi_set_irq", "kvm_irq_line"]).toContain(raise.name);
      expect([raise.ph, raise.dur]).toEqual(["X", 0]);
      expect(raise.ts).toBeLessThanOrEqual(taken.ts);
      expect(raise.tid).not.toBe(taken.tid);
    }
  });

  test("a host CPU track shows the vCPU thread running there", () => {
    const cpu = on(t, thread(t, "cpu0")).filter((e) => e.ph !== "C");
    expect(cpu.length).toBeGreaterThan(0);
    for (const s of cpu) expect([s.ph, s.name]).toEqual(["X", `${vm}/vcpu0`]);
  });

  test("counters are C events with numbers; in-kernel MMIO accesses are kvm_mmio instants on the vCPU track", () => {
    const pending = t.traceEvents.filter((e) => e.ph === "C" && e.name === `${vm}/vcpu0 pending interrupts`);
    expect(pending.length).toBeGreaterThan(0);
    expect(pending.some((e) => e.args!.value === 0)).toBe(true);
    const mmio = on(t, thread(t, "vcpu0")).filter((e) => e.name === "kvm_mmio");
    expect(mmio.length).toBeGreaterThan(0);
    expect(mmio[0]!.args).toMatchObject({ type: expect.stringMatching(/^(read|write)$/) as string, gpa: expect.stringMatching(/^0x/) as string });
  });

  test("the same seed gives the same bytes; tracing off records nothing", () => {
    expect(JSON.stringify(toChromeTrace(run()))).toBe(JSON.stringify(t));
    const off = _name === "arm64" ? runArmDemo({ seed: 3, trace: false }).tracer : runRiscvDemo({ seed: 3, trace: false, mode: _name.endsWith("emul") ? "emul" : "auto" }).tracer;
    expect(off.events()).toHaveLength(0);
    expect(off.openSpans()).toHaveLength(0);
  });
});

test("riscv64 hwaccel: VS-files in use per host CPU are a counter", () => {
  const t = toChromeTrace(runRiscvDemo({ seed: 3, trace: true, mode: "hwaccel" }).tracer);
  const vs = t.traceEvents.filter((e) => e.ph === "C" && /^cpu\d+ VS-files in use$/.test(e.name));
  expect(vs.map((e) => e.args!.value)).toContain(1);
  expect(checkChromeTrace(t)).toEqual([]);
});
