/**
 * RepeatOp with a stride (`op.repeat(n, store, stride)`, a memset) must
 * execute exactly as its loop of yields does, stores one address apart each
 * time — also when the run loop stores a run of them into RAM at once and
 * moves the clock over them (nothing can look at the memory meanwhile).
 * Observers check that: host events that read the memory mid-fill, an
 * interrupt whose vector reads it, KVM_RUN deadlines inside the fill.
 */
import { EventQueue, op, type GuestOp } from "@irqlab/sim";
import { describe, expect, test } from "vitest";
import { ACK, DONE, RAM, USER, expectLoopFormEqual, type LoopFormRun } from "../test/loop-form-rig.js";
import { Kvm } from "./kvm.js";
import { KVM_ARM_TARGET_GENERIC_V8 } from "./uapi/device-types.js";
import type { Vm } from "./vm.js";
import { KVM_EXIT_INTERNAL_ERROR } from "./uapi/exit-reasons.js";

const BUF = RAM + 0x1000;

interface Setup {
  /** Times a host event reads the word at each of these offsets into the buffer. */
  readonly peeks?: readonly (readonly [time: number, offset: number])[];
  /** Times an interrupt line rises; the vector reads the word at `vectorReads` and acknowledges with it. */
  readonly irqsAt?: readonly number[];
  readonly vectorReads?: number;
  /** KVM_RUN's deadline for each call. */
  readonly slice?: number;
  /** An op the guest executes before `body` (a fill the body then overwrites). */
  readonly before?: GuestOp;
}

/** A guest that unmasks, runs `body`, notes its result, reports done; the buffer's non-zero words are compared at the end. */
function expectSame(body: GuestOp, s: Setup = {}): LoopFormRun {
  return expectLoopFormEqual({
    ramBytes: 0x10_0000,
    main: function* (note) {
      yield op.unmask();
      if (s.before !== undefined) yield s.before;
      note(`last=${(yield body).value}`);
      yield op.write(DONE, 4, 0);
    },
    vector: function* () {
      const r = yield op.read(BUF + (s.vectorReads ?? 0), 4);
      yield op.write(ACK, 4, r.value);
    },
    events: [
      ...(s.peeks ?? []).map(([t, off]) => [t, (vm: Vm) => `peek ${off}=${vm.memory.readU32(BUF + off)}`] as const),
      ...(s.irqsAt ?? []).map((t) => [t, (vm: Vm) => vm.irqLine(0, 1)] as const),
    ],
    ...(s.slice !== undefined ? { slice: s.slice } : {}),
    answer: () => 0x5a,
    after: (vm: Vm) => {
      const lines: string[] = [];
      for (let off = 0; off < 0x1000; off += 4) {
        const w = vm.memory.readU32(BUF + off);
        if (w !== 0) lines.push(`mem ${off}=${w}`);
      }
      return lines;
    },
  });
}

describe("op.repeat with a stride executes as its loop of yields does", () => {
  test("a memset of RAM, 8 bytes at a time, with the host reading the buffer mid-fill", () => {
    const fill = op.repeat(512, op.write(BUF, 8, 0x0101_0101, 0x0202_0202), 8);
    const r = expectSame(fill, { peeks: [[0, 0], [100, 0], [101, 400], [250, 800], [251, 800], [300, 4092], [600, 4092]] });
    expect(r.log.filter((l) => l.startsWith("mem "))).toHaveLength(1024);
  });

  test("memsets whose bytes are all one byte, over a buffer written before, and ones whose bytes differ", () => {
    // A store of one repeated byte, a stride of its size: the run loop fills the bytes at once.
    const pattern = op.repeat(1024, op.write(BUF, 4, 0x1234_5678), 4);
    const peeks: [number, number][] = [[30, 0], [31, 8], [150, 1200], [151, 1204], [700, 4000]];
    for (const body of [
      op.repeat(400, op.write(BUF + 8, 8, 0, 0), 8),
      op.repeat(400, op.write(BUF + 8, 8, 0xa2a2_a2a2, 0xa2a2_a2a2), 8),
      op.repeat(700, op.write(BUF + 4, 4, 0), 4),
      op.repeat(900, op.write(BUF + 2, 2, 0x5a5a), 2),
      op.repeat(2000, op.write(BUF + 1, 1, 0x33), 1),
      op.repeat(400, op.write(BUF + 8, 8, 0xa2a2_a2a2, 0), 8), // the high word differs
      op.repeat(700, op.write(BUF + 4, 4, 0x0000_a2a2), 4),
      op.repeat(400, op.write(BUF + 8, 8, 0, 0), 16), // a stride wider than the store
    ]) {
      const r = expectSame(body, { before: pattern, peeks });
      expect(r.log.filter((l) => l.startsWith("mem ")).length).toBeGreaterThan(0);
    }
  });

  test("stores of 1, 2 and 4 bytes, strides wider than the store", () => {
    for (const [size, stride] of [[1, 1], [2, 2], [4, 4], [4, 12], [1, 5]] as const) {
      expectSame(op.repeat(300, op.write(BUF + 2, size, 0xabcd_ef12), stride), { peeks: [[40, 0], [41, 8], [170, 600]] });
    }
  });

  test("an interrupt whose vector reads the buffer, and KVM_RUN deadlines inside the fill", () => {
    const fill = op.repeat(1000, op.write(BUF, 4, 7), 4);
    // The first vector's report exits to the VMM (about 1.7 us); the second line rises after that.
    const r = expectSame(op.repeat(6000, op.write(BUF, 4, 7), 4), { irqsAt: [300, 4_500], vectorReads: 1600 });
    expect(r.log.filter((l) => l.startsWith(`w@0x${ACK.toString(16)}`))).toHaveLength(2);
    expectSame(fill, { slice: 97, peeks: [[450, 1700]] });
  });

  test("a fill that runs off RAM exits for each store beyond it; strided loads return the last one's value", () => {
    expectSame(op.repeat(8, op.write(RAM + 0x10_0000 - 16, 4, 3), 4));
    const loads = expectSame(op.repeat(6, op.read(USER, 4), 0x10));
    expect(loads.log.filter((l) => l.startsWith("r@")).map((l) => l.split("@")[1])).toEqual(["0x9000000", "0x9000010", "0x9000020", "0x9000030", "0x9000040", "0x9000050"]);
    expect(loads.log.some((l) => l.startsWith(`last=90@`))).toBe(true);
  });
});

describe("op.repeat's stride itself", () => {
  test("the builder takes a positive stride for a load or store only", () => {
    expect(() => op.repeat(2, op.write(BUF, 4, 0), 0)).toThrow(RangeError);
    expect(() => op.repeat(2, op.write(BUF, 4, 0), 1.5)).toThrow(RangeError);
    expect(() => op.repeat(2, op.wfi(), 4)).toThrow(/needs a load or store/);
  });

  test("a hand-made repeat of a WFI with a stride is KVM_EXIT_INTERNAL_ERROR", () => {
    const kvm = new Kvm({ queue: new EventQueue() });
    const v = kvm.createVm().createVcpu(0);
    v.armVcpuInit({ target: KVM_ARM_TARGET_GENERIC_V8 });
    const bad = { kind: "repeat", count: 2, op: op.wfi(), stride: 4 } as unknown as GuestOp;
    v.loadGuest({
      main: function* () {
        yield bad;
      },
    });
    expect(v.run().reason).toBe(KVM_EXIT_INTERNAL_ERROR);
  });
});
