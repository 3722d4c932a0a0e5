/**
 * RepeatOp: `op.repeat(n, o)` must execute exactly as n yields of `o` do —
 * the same virtual time, the same exits at the same times, the same
 * interrupts taken between two executions, the same trace — while resuming
 * the guest program once. Each case runs one guest written both ways and
 * compares everything the VMM and a trace reader can observe.
 */
import { EventQueue, op, type GuestOp } from "@irqlab/sim";
import { describe, expect, test } from "vitest";
import { ACK, DONE, TPIDR_EL1, USER, expectLoopFormEqual, runLoopForm } from "../test/loop-form-rig.js";
import { Kvm } from "./kvm.js";
import { KVM_ARM_TARGET_GENERIC_V8 } from "./uapi/device-types.js";
import type { Vm } from "./vm.js";
import { KVM_EXIT_INTERNAL_ERROR } from "./uapi/exit-reasons.js";

/** An SMCCC function id KVM answers NOT_SUPPORTED without an exit. */
const UNKNOWN_FID = 0x4b00_0000;

/**
 * A guest that unmasks, executes `body` `n` times as one repeat, notes what
 * the last execution returned, then reports done — run as written and as its
 * loop of yields, which must match. An interrupt line rises at each time in
 * `irqsAt`; the vector notes it and acknowledges it to the VMM, which lowers
 * the line.
 */
function expectSame(body: GuestOp, n: number, irqsAt: readonly number[] = []): { exits: string[]; last: number; taken: number } {
  const r = expectLoopFormEqual({
    main: function* (note) {
      yield op.unmask();
      note(`last=${(yield op.repeat(n, body)).value}`);
      yield op.write(DONE, 4, 0);
    },
    vector: function* (note) {
      note("taken");
      yield op.write(ACK, 4, 0);
    },
    events: irqsAt.map((t) => [t, (vm: Vm) => vm.irqLine(0, 1)] as const),
  });
  const last = r.log.find((l) => l.startsWith("last="));
  return { exits: r.log.filter((l) => /^[rw]@/.test(l)), last: Number(/^last=(\d+)/.exec(last ?? "")?.[1] ?? -1), taken: r.log.filter((l) => l.startsWith("taken")).length };
}

describe("op.repeat executes as a loop of yields does", () => {
  test("an HVC KVM answers in the kernel, 1000 times", () => {
    const r = expectSame(op.hvc([UNKNOWN_FID]), 1000);
    expect(r.last).toBe(0xffff_ffff); // SMCCC_RET_NOT_SUPPORTED (-1) in w0
    expect(r.exits).toHaveLength(1);
  });

  test("a load that exits to the VMM each time, 40 times: every exit, and the last value read", () => {
    const r = expectSame(op.read(USER, 4), 40);
    expect(r.exits.filter((x) => x.startsWith("r@"))).toHaveLength(40);
    expect(r.last).toBe(40);
  });

  test("interrupts taken between executions, in the kernel and at exits, resume the repeat where it was", () => {
    const hvc = expectSame(op.hvc([UNKNOWN_FID]), 2000, [10_000, 150_000, 300_000]);
    expect(hvc.taken).toBe(3);
    const reads = expectSame(op.read(USER, 4), 200, [20_000, 90_000]);
    expect(reads.taken).toBe(2);
    expect(reads.exits.filter((x) => x.startsWith("r@"))).toHaveLength(200);
  });

  test("a system register the irqchip does not own, and a WFI woken by the interrupt", () => {
    expectSame(op.msr(TPIDR_EL1, 5), 500, [1_000]);
    const wfi = expectSame(op.wfi(), 3, [5_000, 50_000, 70_000]);
    expect(wfi.taken).toBe(3);
  });
});

describe("op.repeat with a count past 2^31 (an idle loop's `for (;;)`)", () => {
  /** The end time of a guest that executes an HVC KVM answers `n` times as one repeat, taking an interrupt at each of `irqsAt`. */
  function endAfter(n: number, irqsAt: readonly number[] = []): { end: number; taken: number } {
    const r = runLoopForm(
      {
        main: function* (note) {
          yield op.unmask();
          note(`last=${(yield op.repeat(n, op.hvc([UNKNOWN_FID]))).value}`);
          yield op.write(DONE, 4, 0);
        },
        vector: function* (note) {
          note("taken");
          yield op.write(ACK, 4, 0);
        },
        events: irqsAt.map((t) => [t, (vm: Vm) => vm.irqLine(0, 1)] as const),
        trace: false,
      },
      "op",
    );
    expect(r.log.some((l) => l.startsWith("last=4294967295@"))).toBe(true); // SMCCC_RET_NOT_SUPPORTED (-1) in w0
    return { end: r.end, taken: r.log.filter((l) => l.startsWith("taken")).length };
  }

  test("executes exactly `count` times, interrupted or not: each execution past the first five costs what the sixth did", () => {
    const five = endAfter(5).end;
    const each = endAfter(6).end - five;
    expect(each).toBeGreaterThan(0);
    const big = 2 ** 32 + 5;
    expect(endAfter(big).end - five).toBe((big - 5) * each);
    // Interrupts taken part way through (before, at and past 2^31 executions) resume the count where it was:
    // three make the run longer by three times what one does.
    const plain = endAfter(big).end;
    const one = endAfter(big, [1_000]);
    const three = endAfter(big, [1_000, 2 ** 31 * each, 2 ** 32 * each]);
    expect([one.taken, three.taken]).toEqual([1, 3]);
    expect(one.end - plain).toBeGreaterThan(0);
    expect(three.end - plain).toBe(3 * (one.end - plain));
  });
});

describe("op.repeat itself", () => {
  test("the builder takes a positive count and no nested repeat or poll", () => {
    expect(() => op.repeat(0, op.wfi())).toThrow(RangeError);
    expect(() => op.repeat(1.5, op.wfi())).toThrow(RangeError);
    expect(() => op.repeat(2, op.repeat(2, op.wfi()))).toThrow(/cannot repeat a repeat/);
    expect(() => op.repeat(2, op.pollWhile(op.read(0x1000, 4), 1, 0, op.compute(10), 5))).toThrow(/cannot repeat a poll/);
  });

  test("a hand-made repeat with no count is KVM_EXIT_INTERNAL_ERROR, as an unknown op is", () => {
    const kvm = new Kvm({ queue: new EventQueue() });
    const v = kvm.createVm().createVcpu(0);
    v.armVcpuInit({ target: KVM_ARM_TARGET_GENERIC_V8 });
    const bad = { kind: "repeat", count: 0, op: op.wfi() } as unknown as GuestOp;
    v.loadGuest({
      main: function* () {
        yield bad;
      },
    });
    expect(v.run().reason).toBe(KVM_EXIT_INTERNAL_ERROR);
  });
});
