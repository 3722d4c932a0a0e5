import { EventQueue } from "@irqlab/sim";
import { describe, expect, it } from "vitest";
import { Host, type PlacedVcpu } from "../host.js";
import { RiscvAiaHost } from "../riscv-aia/aia-host.js";
import { HostScheduler } from "../sched/host-scheduler.js";
import { SchedulerPlacement } from "./vsfile-placement.js";

/** What a policy sees of a vCPU, as Vcpu shows it: the CPU select() chose last is its hostCpu. */
function placedVcpu(vmIndex: number, vcpuId: number): PlacedVcpu & { hostCpu: number; affinity: readonly number[] } {
  return { vmIndex, vcpuId, hostCpu: -1, affinity: [], placementSlot: undefined };
}

function rig(harts = 4) {
  const sched = new HostScheduler(new EventQueue(), { harts, timeSlice: 3_000_000, balanceInterval: 4_000_000 });
  const host = new Host({ cpus: harts });
  return { sched, host };
}

/** vcpu_load(): the policy's choice becomes the vCPU's host CPU. */
function load(p: SchedulerPlacement, v: ReturnType<typeof placedVcpu>, host: Host): number {
  v.hostCpu = p.select(v, host);
  return v.hostCpu;
}

/** A plain policy and vCPU 0 of VM 0 after its first entry, with the vCPU's thread. */
function enteredOnce() {
  const { sched, host } = rig();
  const p = new SchedulerPlacement(sched);
  const v = placedVcpu(0, 0);
  load(p, v, host);
  return { sched, host, p, v, t: p.threadOf(v) };
}

describe("SchedulerPlacement", () => {
  it("keeps a vCPU's thread in its placement slot, owned by the policy, and wakes it at the first entry", () => {
    const { sched, host } = rig();
    const p = new SchedulerPlacement(sched);
    const v = placedVcpu(2, 5);
    expect(p.keeps(v)).toBe(false);
    const cpu = load(p, v, host);
    const t = p.threadOf(v);
    expect(t.name).toBe("vm2/vcpu5");
    expect(v.placementSlot).toBe(t);
    expect(t.state).not.toBe("sleeping");
    expect(cpu).toBe(t.hart);
    expect(p.keeps(v)).toBe(true);
    // The same thread at every later entry.
    load(p, v, host);
    expect(p.threadOf(v)).toBe(t);
  });

  it("makes its own thread for a vCPU whose slot holds another policy's, and finds its own again", () => {
    const { sched, host } = rig();
    const a = new SchedulerPlacement(sched);
    const b = new SchedulerPlacement(sched, { kernelMigrate: true });
    const v = placedVcpu(0, 1);
    load(a, v, host);
    const ta = a.threadOf(v);
    // b finds a's thread in the slot: not its own, so it neither keeps the placement nor uses that thread.
    expect(b.keeps(v)).toBe(false);
    load(b, v, host);
    const tb = b.threadOf(v);
    expect(tb).not.toBe(ta);
    expect(tb.tid).not.toBe(ta.tid);
    expect(v.placementSlot).toBe(tb);
    // Back to a (Host.setPlacement back and forth): its own thread, by the vCPU's VM index and id.
    load(a, v, host);
    expect(a.threadOf(v)).toBe(ta);
    expect(v.placementSlot).toBe(ta);
  });

  it("applies a changed affinity list once, and an empty one as every hart only after another was applied", () => {
    const { sched, host, p, v, t } = enteredOnce();
    // The first entry's empty list is given to nobody: the thread keeps the mask every new thread starts on,
    // shared until a setAffinity makes the thread one of its own (HostScheduler.setAffinity).
    expect(t.affinity).toBe(sched.createThread("another").affinity);
    // A new list: not kept until select() has given it to the scheduler.
    v.affinity = Object.freeze([3]);
    expect(p.keeps(v)).toBe(false);
    expect(load(p, v, host)).toBe(3);
    expect([0, 1, 2, 3].map((h) => t.affinity.get(h))).toEqual([false, false, false, true]);
    expect(p.keeps(v)).toBe(true);
    // Empty again, after a list was applied: every hart.
    v.affinity = [];
    load(p, v, host);
    expect([0, 1, 2, 3].map((h) => t.affinity.get(h))).toEqual([true, true, true, true]);
    expect(p.keeps(v)).toBe(true);
  });

  it("does not keep a vCPU whose thread sleeps or runs on another hart than the vCPU last did", () => {
    const { sched, host, p, v, t } = enteredOnce();
    sched.sleep(t);
    expect(p.keeps(v)).toBe(false);
    load(p, v, host);
    expect(p.keeps(v)).toBe(true);
    v.hostCpu = (t.hart + 1) % 4;
    expect(p.keeps(v)).toBe(false);
  });

  it("never keeps a placement with the kernel-migrate remedy over an AIA: select() looks at the VS-files at every entry", () => {
    const { sched, host } = rig();
    const withFiles = new SchedulerPlacement(sched, { kernelMigrate: true, aia: new RiscvAiaHost({ harts: 4, geilen: 1 }) });
    const v = placedVcpu(0, 0);
    load(withFiles, v, host);
    expect(withFiles.keeps(v)).toBe(false);
    // Without an AIA there are no files to look at: it keeps as the plain policy does.
    const without = new SchedulerPlacement(sched, { kernelMigrate: true });
    const w = placedVcpu(0, 1);
    load(without, w, host);
    expect(without.keeps(w)).toBe(true);
  });
});
