/**
 * SeqOp: `op.seq([a, b, c])` must execute exactly as yielding a, b and c in
 * turn does — the same virtual time, exits, interrupts taken between two of
 * them and trace — while resuming the guest program once, with the last
 * op's result.
 */
import { EventQueue, op, type GuestOp, type GuestProgram } from "@irqlab/sim";
import { describe, expect, test } from "vitest";
import { ACK, DONE, RAM, TPIDR_EL1, USER, expectLoopFormEqual } from "../test/loop-form-rig.js";
import { Kvm } from "./kvm.js";
import { KVM_ARM_TARGET_GENERIC_V8 } from "./uapi/device-types.js";
import type { Vm } from "./vm.js";
import { KVM_EXIT_INTERNAL_ERROR } from "./uapi/exit-reasons.js";

/** An SMCCC function id KVM answers NOT_SUPPORTED in the kernel. */
const UNKNOWN_FID = 0x4b00_0000;

/**
 * A guest that unmasks, runs `seq` `rounds` times noting each result, then
 * reports done — as written and as its yields, which must match. The vector
 * reads RAM and acknowledges with what it read.
 */
function expectSame(seq: GuestOp, rounds: number, irqsAt: readonly number[] = [], slice?: number): { log: string[]; last: number[] } {
  const r = expectLoopFormEqual({
    main: function* (note) {
      yield op.unmask();
      for (let i = 0; i < rounds; i++) note(`last=${(yield seq).value}`);
      yield op.write(DONE, 4, 0);
    },
    vector: function* () {
      const v = yield op.read(RAM + 8, 4);
      yield op.write(ACK, 4, v.value);
    },
    events: irqsAt.map((t) => [t, (vm: Vm) => vm.irqLine(0, 1)] as const),
    ...(slice !== undefined ? { slice } : {}),
  });
  return { log: r.log, last: r.log.filter((l) => l.startsWith("last=")).map((l) => Number(/^last=(\d+)/.exec(l)![1])) };
}

// RAM stores, an in-kernel HVC, a load that exits to the VMM, a store that exits: the sequence's result is the last op's.
const mixed = op.seq([op.write(RAM, 4, 1), op.write(RAM + 8, 4, 2), op.hvc([UNKNOWN_FID]), op.read(USER, 4), op.write(USER + 4, 4, 3), op.read(RAM + 8, 4)]);

describe("op.seq executes as its ops yielded in turn do", () => {
  test("stores, an in-kernel HVC, exits to the VMM; the result is the last op's", () => {
    const r = expectSame(mixed, 50);
    expect(r.last).toEqual(new Array(50).fill(2));
    expect(r.log.filter((l) => l.startsWith("r@0x9000000"))).toHaveLength(50);
  });

  test("interrupts taken between two of its ops, in the kernel and at exits", () => {
    const r = expectSame(mixed, 50, [500, 7_000, 30_000, 61_111]);
    expect(r.log.filter((l) => l.startsWith(`w@0x${ACK.toString(16)}`))).toHaveLength(4);
  });

  test("KVM_RUN deadlines inside the sequence", () => {
    expectSame(mixed, 20, [4_000], 333);
    expectSame(op.seq([op.write(RAM, 8, 5, 6), op.msr(TPIDR_EL1, 9), op.mrs(TPIDR_EL1)]), 100, [], 7);
  });
});

describe("a sequence's run of RAM stores", () => {
  // Six stores each, 1 ns apart: what a host event reads of RAM at each nanosecond, interrupts taken
  // inside a run and KVM_RUN deadlines inside one must be what the stores yielded one by one give.
  const stores = (base: number): GuestOp => op.seq(Array.from({ length: 6 }, (_, i) => op.write(RAM + 4 * i, 4, base + i)));
  const [a, b] = [stores(1), stores(11)];
  const readRam = (vm: Vm): string => `ram ${Array.from({ length: 6 }, (_, i) => vm.memory.readU32(RAM + 4 * i)).join(",")}`;
  const guest = (rounds: number, note: (s: string) => void) =>
    function* (): GuestProgram {
      yield op.unmask();
      for (let i = 0; i < rounds; i++) note(`last=${(yield i % 2 === 0 ? a : b).value}`);
      yield op.write(DONE, 4, 0);
    };

  test("a host event at every nanosecond sees the stores made up to then", () => {
    const events = Array.from({ length: 120 }, (_, i) => [1_000 + i, readRam] as const);
    const r = expectLoopFormEqual({
      main: (note) => guest(400, note)(),
      vector: function* () {
        yield op.write(ACK, 4, 1);
      },
      events,
    });
    const seen = r.log.filter((l) => l.startsWith("ram "));
    expect(seen).toHaveLength(120);
    // Runs of six stores 1 ns apart: some events fall between two stores of one run.
    expect(seen.some((l) => /ram (1,2,3,\d+,\d+,\d+)/.test(l) && !l.includes("1,2,3,4,5,6"))).toBe(true);
  });

  test("interrupts raised inside a run are taken between its stores; KVM_RUN deadlines cut runs", () => {
    const irqs = [6_001, 12_003, 20_004, 30_005];
    for (const slice of [undefined, 3, 7]) {
      const r = expectLoopFormEqual({
        main: (note) => guest(8_000, note)(),
        vector: function* () {
          const v = yield op.read(RAM + 8, 4);
          yield op.write(ACK, 4, v.value);
        },
        events: irqs.map((t) => [t, (vm: Vm) => vm.irqLine(0, 1)] as const),
        ...(slice !== undefined ? { slice } : {}),
      });
      expect(r.log.filter((l) => l.startsWith(`w@0x${ACK.toString(16)}`))).toHaveLength(irqs.length);
    }
  });
});

describe("op.seq itself", () => {
  test("the builder takes at least one op and no repeat, poll or sequence", () => {
    expect(() => op.seq([])).toThrow(RangeError);
    expect(() => op.seq([op.repeat(2, op.wfi())])).toThrow(/cannot hold a repeat/);
    expect(() => op.seq([op.seq([op.wfi()])])).toThrow(/cannot hold a seq/);
    expect(() => op.repeat(2, op.seq([op.wfi()]))).toThrow(/cannot repeat a seq/);
  });

  test.each([
    ["an empty sequence", { kind: "seq", ops: [] }],
    ["a repeat of a sequence", { kind: "repeat", count: 2, op: { kind: "seq", ops: [op.wfi()] } }],
    ["a sequence holding a poll", { kind: "seq", ops: [op.pollWhile(op.read(RAM, 4), 1, 0, op.compute(10), 2)] }],
  ])("a hand-made op the builders refuse, %s, is KVM_EXIT_INTERNAL_ERROR, as an unknown op is", (_what, made) => {
    const kvm = new Kvm({ queue: new EventQueue() });
    const v = kvm.createVm().createVcpu(0);
    v.armVcpuInit({ target: KVM_ARM_TARGET_GENERIC_V8 });
    const bad = made as unknown as GuestOp;
    v.loadGuest({
      main: function* () {
        yield bad;
      },
    });
    expect(v.run().reason).toBe(KVM_EXIT_INTERNAL_ERROR);
  });

  test("a vCPU checks each hand-made compound op it meets: a malformed one is refused at every run, after a well-formed one of its kind", () => {
    const kvm = new Kvm({ queue: new EventQueue() });
    const v = kvm.createVm().createVcpu(0);
    v.armVcpuInit({ target: KVM_ARM_TARGET_GENERIC_V8 });
    const good = { kind: "seq", ops: [op.msr(TPIDR_EL1, 1)] } as unknown as GuestOp;
    const bad = { kind: "seq", ops: [op.repeat(2, op.wfi())] } as unknown as GuestOp;
    v.loadGuest({
      main: function* () {
        yield good;
        yield good;
        yield bad;
      },
    });
    // The internal error leaves the op to be executed again at the next entry, as a faulting instruction is.
    for (let i = 0; i < 3; i++) {
      const e = v.run();
      expect(e.reason).toBe(KVM_EXIT_INTERNAL_ERROR);
      if (e.reason === KVM_EXIT_INTERNAL_ERROR) expect(e.detail).toBe("seq: a sequence cannot hold a repeat");
    }
  });
});
