import { describe, expect, test } from "vitest";
import { toChromeTrace } from "./chrome-trace.js";
import { EventQueue } from "./event-queue.js";
import { Tracer } from "./tracer.js";

describe("Tracer", () => {
  test("records nothing when disabled, but still counts guest errors", () => {
    const t = new Tracer();
    const tr = t.track("vm0", "vcpu0", "vcpu");
    t.instant(tr, "exit", "KVM_EXIT_MMIO");
    t.guestError(tr, "imsic", "write to reserved iselect 0x71");
    expect(t.events()).toHaveLength(0);
    expect(t.guestErrors).toBe(1);
    expect(t.counters.get("guest-error:imsic")).toBe(1);
  });

  test("stamps events with the clock's virtual time", () => {
    const q = new EventQueue();
    const t = new Tracer(q, { enabled: true });
    const cpu = t.track("host", "cpu0", "host-cpu");
    q.schedule(1500, () => t.instant(cpu, "sched", "switch", { to: "vcpu1" }));
    q.runUntilIdle();
    t.span(cpu, "kvm", "KVM_RUN", 100, 1400);
    t.sample(cpu, "vsfile", "free", 3);
    expect(t.toText()).toBe(
      "1500 host/cpu0 sched switch to=vcpu1\n100 host/cpu0 kvm KVM_RUN dur=1400\n1500 host/cpu0 vsfile free value=3\n",
    );
  });

  test("same track name in the same group is the same track", () => {
    const t = new Tracer();
    expect(t.track("vm0", "vcpu0", "vcpu")).toBe(t.track("vm0", "vcpu0", "vcpu"));
    expect(t.track("vm1", "vcpu0", "vcpu")).not.toBe(t.track("vm0", "vcpu0", "vcpu"));
  });

  test("drops events beyond maxEvents and says how many", () => {
    const t = new Tracer(undefined, { enabled: true, maxEvents: 2 });
    const tr = t.track("g", "n", "device");
    for (let i = 0; i < 5; i++) t.instant(tr, "c", "e");
    expect(t.events()).toHaveLength(2);
    expect(t.dropped).toBe(3);
  });
});

describe("Chrome Trace export", () => {
  test("maps groups to processes and tracks to named threads, in microseconds", () => {
    const q = new EventQueue();
    const t = new Tracer(q, { enabled: true });
    const v0 = t.track("vm0", "vcpu0", "vcpu");
    const dev = t.track("host", "aplic", "device");
    t.span(v0, "kvm", "KVM_RUN", 2000, 500, { exit: "KVM_EXIT_MMIO" });
    t.instant(dev, "irq", "msi");
    t.sample(dev, "irq", "pending", 2);
    const ct = toChromeTrace(t, { seed: 1 });
    expect("displayTimeUnit" in ct).toBe(false);
    expect(ct.otherData.seed).toBe(1);
    const meta = ct.traceEvents.filter((e) => e.ph === "M" && e.name.endsWith("_name"));
    expect(meta.map((e) => [e.name, e.pid, e.args?.name])).toEqual([
      ["process_name", 1, "vm0"],
      ["thread_name", 1, "vcpu0"],
      ["process_name", 2, "host"],
      ["thread_name", 2, "aplic"],
    ]);
    const x = ct.traceEvents.find((e) => e.ph === "X")!;
    expect([x.ts, x.dur, x.pid, x.tid, x.args?.exit]).toEqual([2, 0.5, 1, 1, "KVM_EXIT_MMIO"]);
    const i = ct.traceEvents.find((e) => e.ph === "i")!;
    expect([i.s, i.pid, i.tid]).toEqual(["t", 2, 2]);
    expect(ct.traceEvents.find((e) => e.ph === "C")?.args).toEqual({ value: 2 });
  });
});
