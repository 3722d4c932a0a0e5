/**
 * Poll windows: a vCPU polling guest RAM lets its turns pass in one charge
 * while another vCPU runs inside it, and must end exactly where turn by turn
 * it would next see something. First the window's arithmetic (where a kick,
 * a write, a scheduled handler end it; where the poller then is), then two
 * vCPUs on one clock run both ways — the poll as an op, and as its loop of
 * yields — compared on everything the VMM and a trace reader see.
 */
import { EventQueue, Tracer, loopForm, op, type GuestProgram } from "@irqlab/sim";
import { describe, expect, test } from "vitest";
import { DEFAULT_COSTS, KVM_ARM_TARGET_GENERIC_V8, KVM_EXIT_INTR, KVM_EXIT_MMIO, KVM_REQ_OUTSIDE_GUEST_MODE, Kvm, type Vcpu } from "./index.js";
import { PollWindow, WINDOW_KICK, WINDOW_KICK_IN_LOAD, WINDOW_LIMIT, WINDOW_NEXT_STEP, WINDOW_WRITE } from "./poll-window.js";

describe("PollWindow: where it ends and where the poller then is", () => {
  /**
   * A window opened at 1000 — relax [1000, 1010), load 1 [1010, 1011), relax [1011, 1021),
   * load 2 [1021, 1022), … — with the clock moved on to `at`.
   */
  function openedAt(at = 1000, load = 1): { q: EventQueue; w: PollWindow } {
    const q = new EventQueue();
    q.runUntil(1000);
    const w = new PollWindow(q);
    w.open(10, load, 1);
    q.runUntil(at);
    return { q, w };
  }

  /** Where a kick made now is seen (PollWindow.kickNotice). */
  function kickSeen(w: PollWindow): number {
    const seen = new Float64Array(1);
    w.kickNotice(seen);
    return seen[0]!;
  }

  /** Where, and why, `what` done at `at` ends a window. */
  function endAt(at: number, what: (w: PollWindow) => void): [number, number] {
    const { w } = openedAt(at);
    what(w);
    return [w.cut, w.kind];
  }

  test("a kick during a relax, or at its start, is seen at once; during a load (its start included), at the load's end", () => {
    for (const [at, seen, kind] of [
      [1000, 1000, WINDOW_KICK],
      [1005, 1005, WINDOW_KICK],
      [1010, 1011, WINDOW_KICK_IN_LOAD],
      [1011, 1011, WINDOW_KICK],
      [1020, 1020, WINDOW_KICK],
      [1021, 1022, WINDOW_KICK_IN_LOAD],
    ] as const) {
      expect(endAt(at, (w) => expect(kickSeen(w)).toBe(seen)), `kick at ${at}`).toEqual([seen, kind]);
    }
  });

  test("a write is seen by the next load that begins after it: the poller's own load at the same time came first", () => {
    for (const [at, load] of [
      [1000, 1010],
      [1009, 1010],
      [1010, 1021],
      [1011, 1021],
      [1021, 1032],
    ] as const) {
      expect(endAt(at, (w) => w.written()), `write at ${at}`).toEqual([load, WINDOW_WRITE]);
    }
  });

  test("a handler scheduled ends it at the poller's next step: a load's start or its end", () => {
    for (const [at, step] of [
      [1000, 1010],
      [1010, 1011],
      [1011, 1021],
      [1015, 1021],
    ] as const) {
      expect(endAt(at, (w) => w.scheduled()), `scheduled at ${at}`).toEqual([step, WINDOW_NEXT_STEP]);
    }
  });

  test("the earliest end asked is kept", () => {
    const { w } = openedAt(1012);
    w.written(); // 1021
    w.scheduled(); // 1021 too: kept as the write
    expect([w.cut, w.kind]).toEqual([1021, WINDOW_WRITE]);
    expect(kickSeen(w)).toBe(1012);
    expect([w.cut, w.kind]).toEqual([1012, WINDOW_KICK]);
  });

  test("a kick after the end already asked is seen, and leaves that end", () => {
    const { q, w } = openedAt(1012);
    w.written(); // 1021
    q.runUntil(1025); // in the relax after load 2
    expect(kickSeen(w)).toBe(1025);
    expect([w.cut, w.kind]).toEqual([1021, WINDOW_WRITE]);
  });

  test("the poller's state where the window ended, turn by turn", () => {
    const at = (x: number, kind = WINDOW_LIMIT, load = 1) => {
      const { w } = openedAt(x, load);
      if (kind !== WINDOW_LIMIT) {
        w.cut = x;
        w.kind = kind;
      }
      w.ended();
      return { loads: w.loads, computeLeft: w.computeLeft, unchecked: w.unchecked, debt: w.debt };
    };
    // In the first relax: the rest of it.
    expect(at(1000)).toEqual({ loads: 0, computeLeft: 10, unchecked: false, debt: 0 });
    expect(at(1004)).toEqual({ loads: 0, computeLeft: 6, unchecked: false, debt: 0 });
    // At a load's start: the loads before it, the load next.
    expect(at(1010)).toEqual({ loads: 0, computeLeft: 0, unchecked: false, debt: 0 });
    expect(at(1021, WINDOW_WRITE)).toEqual({ loads: 1, computeLeft: 0, unchecked: false, debt: 0 });
    // At a load's end: loaded, not yet looked at; unless a kick came there, after the poller's steps.
    expect(at(1011)).toEqual({ loads: 1, computeLeft: 0, unchecked: true, debt: 0 });
    expect(at(1011, WINDOW_KICK_IN_LOAD)).toEqual({ loads: 1, computeLeft: 0, unchecked: true, debt: 0 });
    expect(at(1011, WINDOW_KICK)).toEqual({ loads: 1, computeLeft: 10, unchecked: false, debt: 0 });
    // In a relax after a load.
    expect(at(1015)).toEqual({ loads: 1, computeLeft: 6, unchecked: false, debt: 0 });
    // A load of 3 ns the limit cut short: loaded, the rest of its cost owed.
    expect(at(1011, WINDOW_LIMIT, 3)).toEqual({ loads: 1, computeLeft: 0, unchecked: true, debt: 2 });
  });
});

/** RAM of both vCPUs' guest. */
const RAM = 0x4000_0000;
/** The word vCPU 0 polls. */
const FLAG = RAM + 0x100;
/** Another word, which vCPU 1 writes meanwhile. */
const OTHER = RAM + 0x200;
/** Stores here exit to the VMM: DONE ends vCPU 0's run; KICK raises vCPU 0's interrupt line; EVENT schedules a host write of the flag, 7 ns later. */
const DONE = 0x1000;
const KICK = 0x2000;
const EVENT = 0x3000;
/** A store here makes the VMM force vCPU 0 out of the guest with nothing to do (KVM_REQ_OUTSIDE_GUEST_MODE). */
const REQUEST = 0x5000;
/** vCPU 0's vector acknowledges here (the VMM lowers its line). */
const ACK = 0x4000;
const RELAX = op.compute(10);

interface Pair {
  /** vCPU 1's program, run inside vCPU 0's time. */
  readonly other: () => GuestProgram;
  /** Slices of vCPU 0's KVM_RUN (RunOptions.until), if any. */
  readonly slice?: number;
  /** The poll's tries (default 400). */
  readonly tries?: number;
}

interface PairRun {
  readonly log: string[];
  readonly trace: string;
  /** Times vCPU 1's run() handed back "running". */
  readonly continuations: number;
}

/**
 * vCPU 0 polls FLAG while it is 0, 400 turns at most (as an op, or as its
 * loop of yields), then reports done; its vector notes and acknowledges.
 * vCPU 1 runs `other` from time 0 inside vCPU 0's time, continued as the
 * machine's vCPU threads do (scheduleWhenUnlimited, with an idle check).
 */
function runPair(p: Pair, form: "op" | "loop"): PairRun {
  const queue = new EventQueue();
  const kvm = new Kvm({ queue, tracer: new Tracer(queue, { enabled: true }) });
  const vm = kvm.createVm();
  vm.setUserMemoryRegion({ slot: 0, guestPhysAddr: RAM, memorySize: 0x1000 });
  const [a, b] = [0, 1].map((i) => {
    const v = vm.createVcpu(i);
    v.armVcpuInit({ target: KVM_ARM_TARGET_GENERIC_V8 });
    return v;
  }) as [Vcpu, Vcpu];
  const log: string[] = [];
  const main = function* (): GuestProgram {
    yield op.unmask();
    const r = yield op.pollWhile(op.read(FLAG, 4), 0xffff_ffff, 0, RELAX, p.tries ?? 400);
    log.push(`flag=${r.value}@${queue.now}`);
    yield op.write(DONE, 4, 0);
  };
  a.loadGuest({
    main: form === "op" ? main : () => loopForm(main()),
    vector: function* () {
      log.push(`taken@${queue.now}`);
      yield op.write(ACK, 4, 0);
    },
  });
  b.loadGuest({ main: p.other });
  let continuations = 0;
  const idle = { idleUntil: (t: number) => b.idleUntil(t), steps: (from: number, step: number, max: number) => b.idleSteps(from, step, max) };
  const runB = (): void => {
    for (;;) {
      const e = b.run(0, { onWakeup: () => queue.scheduleWhenUnlimited(runB, undefined) });
      if (e.reason === KVM_EXIT_INTR) {
        if (e.cause === "running") {
          continuations++;
          queue.scheduleWhenUnlimited(runB, undefined, idle);
        }
        return;
      }
      if (e.reason !== KVM_EXIT_MMIO || !e.isWrite) return;
      log.push(`b:w@0x${e.physAddr.toString(16)}@${queue.now}`);
      if (e.physAddr === KICK) vm.irqLine(0, 1);
      if (e.physAddr === REQUEST) a.makeRequest(KVM_REQ_OUTSIDE_GUEST_MODE);
      if (e.physAddr === EVENT) {
        queue.scheduleAfter(7, () => {
          log.push(`event@${queue.now}`);
          vm.memory.writeU32(FLAG, 1);
        }, undefined);
      }
    }
  };
  queue.schedule(0, runB, undefined);
  for (let calls = 0; calls < 100_000; calls++) {
    const e = a.run(0, p.slice === undefined ? undefined : { until: queue.now + p.slice });
    if (e.reason === KVM_EXIT_INTR) continue;
    expect(e.reason).toBe(KVM_EXIT_MMIO);
    if (e.reason !== KVM_EXIT_MMIO) break;
    log.push(`a:w@0x${e.physAddr.toString(16)}@${queue.now}`);
    if (e.physAddr === DONE) break;
    if (e.physAddr === ACK) vm.irqLine(0, 0);
  }
  return { log, trace: kvm.tracer.toText(), continuations };
}

/** Runs both forms, expects the same log and trace, and returns both. */
function bothForms(p: Pair): { op: PairRun; loop: PairRun } {
  const loop = runPair(p, "loop");
  const fast = runPair(p, "op");
  expect(fast.log).toEqual(loop.log);
  expect(fast.trace).toBe(loop.trace);
  return { op: fast, loop };
}

describe("a poll window with another vCPU running inside it, against the poll's loop of yields", () => {
  test("vCPU 1's stores to another word and to the flag, at every nanosecond of two turns: the same load sees the flag", () => {
    for (let t = 0; t < 2 * (10 + DEFAULT_COSTS.instruction); t++) {
      const { op: fast, loop } = bothForms({
        other: function* () {
          yield op.compute(200 + t);
          // 60 ns of stores: several of vCPU 0's turns.
          for (let i = 0; i < 60; i++) yield op.write(OTHER, 4, i);
          yield op.write(FLAG, 4, 1);
          yield op.compute(100);
          yield op.wfi();
        },
      });
      expect(fast.log.some((l) => l.startsWith("flag=1@"))).toBe(true);
      // Turn by turn vCPU 1 stops at the end of each of vCPU 0's loads and relaxes; in the window it does not.
      expect(loop.continuations).toBeGreaterThanOrEqual(10);
      expect(fast.continuations).toBeLessThanOrEqual(3);
    }
  });

  test("a repeat of stores over the flag: each store at its own time, not all at the repeat's first", () => {
    bothForms({
      other: function* () {
        yield op.compute(123);
        yield op.repeat(40, op.write(FLAG - 4 * 20, 4, 1), 4);
        yield op.wfi();
      },
    });
  });

  test("a kick during a relax, at a load, at a load's end: the interrupt is taken where the turn would take it", () => {
    for (let t = 0; t < 2 * (10 + DEFAULT_COSTS.instruction); t++) {
      const { op: fast } = bothForms({
        other: function* () {
          yield op.compute(300 + t);
          yield op.write(KICK, 4, 0);
          yield op.compute(50);
          yield op.write(FLAG, 4, 1);
          yield op.wfi();
        },
      });
      expect(fast.log.filter((l) => l.startsWith("taken@"))).toHaveLength(1);
    }
  });

  test("a host event scheduled from inside the window writes the flag, at a load's start too: that load sees it, as the event comes first", () => {
    for (let t = 0; t < 2 * (10 + DEFAULT_COSTS.instruction); t++) {
      const { op: fast } = bothForms({
        other: function* () {
          yield op.compute(250 + t);
          yield op.write(EVENT, 4, 0);
          for (let i = 0; i < 30; i++) yield op.write(OTHER, 4, i);
          yield op.wfi();
        },
      });
      expect(fast.log.some((l) => l.startsWith("event@"))).toBe(true);
      expect(fast.log.some((l) => l.startsWith("flag=1@"))).toBe(true);
    }
  });

  test("KVM_REQ_OUTSIDE_GUEST_MODE (a kick, no request bit): out of the guest and back where turn by turn it would be", () => {
    for (let t = 0; t < 2 * (10 + DEFAULT_COSTS.instruction); t++) {
      const { op: fast } = bothForms({
        other: function* () {
          yield op.compute(280 + t);
          yield op.write(REQUEST, 4, 0);
          for (let i = 0; i < 40; i++) yield op.write(OTHER, 4, i);
          yield op.write(FLAG, 4, 1);
          yield op.wfi();
        },
      });
      // kvm_make_vcpu_request: no bit set, the IPI only; the vCPU still leaves the guest and enters again.
      expect(fast.trace).toMatch(/vm0\/vcpu0 kvm kick target=in-guest/);
      expect(fast.trace).toMatch(/vm0\/vcpu0 kvm request req=KVM_REQ_OUTSIDE_GUEST_MODE/);
      expect(fast.trace).not.toMatch(/vm0\/vcpu0 kvm request req=KVM_REQ_TLB_FLUSH/);
      expect(fast.trace.match(/vm0\/vcpu0 vcpu-state guest /g)?.length).toBeGreaterThanOrEqual(2);
    }
  });

  test("the flag written in the poll's last turns, or just after: the load that sees it is a try of its own, or there is none left", () => {
    const seen = new Set<string>();
    for (let t = 250; t < 420; t++) {
      const { op: fast } = bothForms({
        tries: 30,
        other: function* () {
          yield op.compute(t);
          for (let i = 0; i < 20; i++) yield op.write(OTHER, 4, i);
          yield op.write(FLAG, 4, 1);
          yield op.wfi();
        },
      });
      seen.add(fast.log.find((l) => l.startsWith("flag="))!.split("@")[0]!);
    }
    // Both ends reached: some writes came in time, others after the last try.
    expect([...seen].sort()).toEqual(["flag=0", "flag=1"]);
  });

  test("vCPU 0's KVM_RUN cut into slices: a window ends at each slice's end, the poll goes on in the next run", () => {
    for (const slice of [7, 11, 30, 97]) {
      bothForms({
        slice,
        other: function* () {
          yield op.compute(400);
          for (let i = 0; i < 20; i++) yield op.write(OTHER, 4, i);
          yield op.write(FLAG, 4, 1);
          yield op.wfi();
        },
      });
    }
  });

  test("the poll's tries running out inside a window: the last load still matches", () => {
    const { op: fast } = bothForms({
      other: function* () {
        for (let i = 0; i < 2000; i++) yield op.write(OTHER, 4, i);
        yield op.wfi();
      },
    });
    expect(fast.log.some((l) => l.startsWith("flag=0@"))).toBe(true);
  });
});
