/**
 * PollOp: `op.pollWhile(read, mask, equals, relax, tries)` must execute
 * exactly as its loop of yields (`pollLoop`) does — the same loads at the
 * same virtual times, the same exits, the same interrupts taken between two
 * turns, the same trace — whether the run loop executes its turns one by one
 * or moves the clock over turns nothing could change (a load of guest RAM
 * while no event is due). Each case runs one guest written both ways and
 * compares everything the VMM and a trace reader can observe.
 */
import { EventQueue, op, type GuestOp, type PollOp } from "@irqlab/sim";
import { describe, expect, test } from "vitest";
import { ACK, DONE, RAM, USER, expectLoopFormEqual, runLoopForm, type LoopFormSetup } from "../test/loop-form-rig.js";
import { CNTVCT_EL0 } from "./arch-counter.js";
import { Kvm } from "./kvm.js";
import { KVM_ARM_TARGET_GENERIC_V8 } from "./uapi/device-types.js";
import type { Vm } from "./vm.js";
import { KVM_EXIT_INTERNAL_ERROR } from "./uapi/exit-reasons.js";

/** The word the guest polls, in RAM. */
const FLAG = RAM + 0x100;
/** cpu_relax() as the guest package models it. */
const RELAX = op.compute(10);

interface Setup {
  /** Host writes of the flag word: [virtual time, value]. */
  readonly writes?: readonly (readonly [number, number])[];
  /** Times an interrupt line rises; the vector acknowledges to the VMM, which lowers it. */
  readonly irqsAt?: readonly number[];
  /** The vector stores this to the flag word (the IPI handler of a benchmark). */
  readonly vectorSets?: number;
  /** KVM_RUN's deadline for each call: returns mid-poll. */
  readonly slice?: number;
  /** What the VMM answers to a load that exits, by load number (1, 2, ...). */
  readonly answer?: (n: number) => number;
}

/** A guest that unmasks, runs `poll`, notes the last load's 64-bit value, then reports done. */
function setup(poll: PollOp, s: Setup): LoopFormSetup {
  const vectorSets = s.vectorSets;
  return {
    main: function* (note) {
      yield op.unmask();
      const r = yield poll;
      note(`last=${r.hi * 2 ** 32 + r.value}`);
      yield op.write(DONE, 4, 0);
    },
    vector: function* (note) {
      note("taken");
      if (vectorSets !== undefined) yield op.write(FLAG, 4, vectorSets);
      yield op.write(ACK, 4, 0);
    },
    events: [
      ...(s.writes ?? []).map(([t, value]) => [t, (vm: Vm) => vm.memory.writeU32(FLAG, value)] as const),
      ...(s.irqsAt ?? []).map((t) => [t, (vm: Vm) => vm.irqLine(0, 1)] as const),
    ],
    ...(s.slice !== undefined ? { slice: s.slice } : {}),
    answer: s.answer ?? (() => 0),
  };
}

interface Run {
  readonly exits: string[];
  readonly end: number;
  readonly last: number;
  readonly taken: number;
}

function summary(r: { log: string[]; end: number }): Run {
  const last = r.log.find((l) => l.startsWith("last="));
  return { exits: r.log.filter((l) => /^[rw]@/.test(l)), end: r.end, last: Number(/^last=(\d+)/.exec(last ?? "")?.[1] ?? -1), taken: r.log.filter((l) => l.startsWith("taken")).length };
}

/** The poll as written and as its loop of yields: the same run. */
function expectSame(poll: PollOp, s: Setup = {}): Run {
  return summary(expectLoopFormEqual(setup(poll, s)));
}

/** `while (!flag && tries--) cpu_relax();` */
const waitSet = (tries: number): PollOp => op.pollWhile(op.read(FLAG, 4), 0xffff_ffff, 0, RELAX, tries);

describe("op.pollWhile executes as its loop of yields does", () => {
  test("a RAM flag the host sets at an odd time, and at a turn's load time exactly", () => {
    // A turn is a 1 ns load (cost-model instruction) and a 10 ns relax: loads at 0, 11, 22, ...
    for (const at of [5_000, 5_005, 5_006, 4_994, 11, 12]) {
      const r = expectSame(waitSet(1 << 20), { writes: [[at, 7]] });
      expect(r.last).toBe(7);
    }
  });

  test("a host write at every nanosecond of nine turns: one during a load's own cost ends the poll at the next load", () => {
    // The write runs while the clock passes the load that still read 0; the next turn's load must see it.
    for (let at = 1_000; at < 1_100; at++) {
      const r = expectSame(waitSet(1 << 20), { writes: [[at, 7]] });
      expect(r.last).toBe(7);
    }
  });

  test("tries running out: the last load still matches, after tries turns", () => {
    const r = expectSame(waitSet(1000));
    expect(r.last).toBe(0);
    const writtenLate = expectSame(waitSet(1000), { writes: [[1_000_000, 1]] });
    expect(writtenLate.last).toBe(0);
    expect(writtenLate.end).toBe(r.end);
  });

  test("a mask and a value to wait on: while ((v & 0x3) == 0x2), the host clearing bit 1", () => {
    const p = op.pollWhile(op.read(FLAG, 4), 0x3, 0x2, RELAX, 1 << 20);
    const r = expectSame(p, { writes: [[0, 0x6], [3_000, 0x4], [7_777, 0x5]] });
    expect(r.last).toBe(0x4);
  });

  test("interrupts taken between turns; the vector sets the flag at the last of them", () => {
    const r = expectSame(waitSet(1 << 20), { irqsAt: [2_000, 9_000] });
    expect(r.taken).toBe(2);
    expect(r.last).toBe(0);
    const set = expectSame(waitSet(1 << 20), { irqsAt: [3_333], vectorSets: 1 });
    expect(set.taken).toBe(1);
    expect(set.last).toBe(1);
  });

  test("KVM_RUN deadlines that fall inside the poll return at the same times", () => {
    expectSame(waitSet(1 << 16), { slice: 997, writes: [[50_000, 3]] });
    expectSame(waitSet(1 << 16), { slice: 11, writes: [[5_000, 3]] });
  });

  test("a load that exits to the VMM each turn: every exit, and the value the VMM answered", () => {
    const p = op.pollWhile(op.read(USER, 4), 0xff, 0, RELAX, 100);
    const r = expectSame(p, { answer: (n) => (n === 40 ? 9 : 0) });
    expect(r.exits.filter((x) => x.startsWith("r@"))).toHaveLength(40);
    expect(r.last).toBe(9);
    const interrupted = expectSame(p, { answer: (n) => (n === 60 ? 9 : 0), irqsAt: [20_000] });
    expect(interrupted.taken).toBe(1);
  });
});

describe("op.pollBelow on the arch counter executes as its loop of yields does", () => {
  // CNTVCT_EL0 at the model's 25 MHz default ticks every 40 ns; a turn is an MRS and a 10 ns relax.
  const cntvct = op.mrs(CNTVCT_EL0);
  const until = (ticks: number, relax = RELAX, tries = 2 ** 40): PollOp => op.pollBelow(cntvct, ticks, relax, tries);

  test("a wait for a counter value: the first read at or past it ends the wait", () => {
    for (const ticks of [0, 1, 2, 25_000, 25_001, 250_003]) {
      const r = expectSame(until(ticks));
      expect(r.last).toBeGreaterThanOrEqual(ticks);
    }
  });

  // Its references run each wait turn by turn as a loop of yields: 2.5-3 s on CI's two cores, so more than the default 5 s is allowed.
  test("WFE-sized relaxes, interrupts between turns, KVM_RUN deadlines inside the wait", () => {
    expectSame(until(2_500_000, op.compute(100_000)), { irqsAt: [7_000_000, 33_333_333] });
    expectSame(until(40_000), { irqsAt: [1_000, 400_007], slice: 77_777 });
    expectSame(until(25_000), { slice: 13 });
  }, 30_000);

  test("tries running out first: the last read is still below, and is the value the loop's last read returned", () => {
    for (const tries of [1, 2, 3, 7, 1000, 5001, 7919]) {
      const r = expectSame(until(250_000, RELAX, tries));
      expect(r.last).toBeLessThan(250_000);
    }
  });

  test("every target across a few hundred ticks: no turn skipped that would have ended the wait", () => {
    for (let ticks = 1; ticks < 400; ticks += 7) expectSame(until(ticks, op.compute(3)));
  });
});

describe("op.pollWhile itself", () => {
  test("a wait of 2^40 turns on a flag set a virtual second later ends without running them one by one", () => {
    // Nothing but the host's event can change the flag: the run loop moves the clock over the turns.
    const r = summary(runLoopForm(setup(waitSet(2 ** 40), { writes: [[1_000_000_000, 1]] }), "op"));
    expect(r.last).toBe(1);
    // The first load at or after the write: loads at 11 ns steps from the unmask's 1 ns.
    expect(r.end).toBeGreaterThanOrEqual(1_000_000_000);
    expect(r.end).toBeLessThan(1_000_000_000 + 100_000);
  });

  test("the builder refuses what the loop could not be", () => {
    expect(() => op.pollWhile(op.read(FLAG, 4), 1, 0, RELAX, 0)).toThrow(RangeError);
    expect(() => op.pollWhile(op.read(FLAG, 4), 1, 0, RELAX, 2.5)).toThrow(RangeError);
    expect(() => op.pollWhile(op.read(FLAG, 8), 1, 0, RELAX, 5)).toThrow(/1, 2 or 4 bytes/);
    expect(() => op.pollWhile(op.read(FLAG, 4), 0x1, 0x2, RELAX, 5)).toThrow(/outside mask/);
    expect(() => op.pollWhile(op.read(FLAG, 4), 1, 0, op.spin(10), 5)).toThrow(/not a spin/);
    expect(() => op.pollBelow(op.read(FLAG, 8), -1, RELAX, 5)).toThrow(RangeError);
    expect(() => op.pollBelow(op.read(FLAG, 8), 2 ** 60, RELAX, 5)).toThrow(RangeError);
    expect(() => op.pollBelow(op.read(FLAG, 8), 10, RELAX, 0)).toThrow(RangeError);
  });

  test("a hand-made poll with no load is KVM_EXIT_INTERNAL_ERROR, as an unknown op is", () => {
    const kvm = new Kvm({ queue: new EventQueue() });
    const v = kvm.createVm().createVcpu(0);
    v.armVcpuInit({ target: KVM_ARM_TARGET_GENERIC_V8 });
    const bad = { kind: "poll", read: op.write(FLAG, 4, 0), mask: 1, equals: 0, relax: RELAX, tries: 3 } as unknown as GuestOp;
    v.loadGuest({
      main: function* () {
        yield bad;
      },
    });
    expect(v.run().reason).toBe(KVM_EXIT_INTERNAL_ERROR);
  });
});
