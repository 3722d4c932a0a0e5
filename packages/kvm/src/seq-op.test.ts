/**
 * SeqOp: `op.seq([a, b, c])` must execute exactly as yielding a, b and c in
 * turn does — the same virtual time, exits, interrupts taken between two of
 * them and trace — while resuming the guest program once, with the last
 * op's result.
 */
import { EventQueue, loopForm, op, Tracer, type GuestOp, type GuestProgram } from "@irqlab/sim";
import { describe, expect, test } from "vitest";
import { Kvm } from "./kvm.js";
import { KVM_ARM_TARGET_GENERIC_V8 } from "./uapi/device-types.js";
import { KVM_EXIT_INTERNAL_ERROR, KVM_EXIT_INTR, KVM_EXIT_MMIO } from "./uapi/exit-reasons.js";

const RAM = 0x4000_0000;
const DONE = 0x1000;
const ACK = 0x2000;
/** No device and no RAM: every access exits to the VMM. */
const USER = 0x0900_0000;
/** An SMCCC function id KVM answers NOT_SUPPORTED in the kernel. */
const UNKNOWN_FID = 0x4b00_0000;

function run(seq: GuestOp, rounds: number, form: "op" | "loop", irqsAt: readonly number[], slice?: number): { log: string[]; end: number; trace: string; last: number[] } {
  const queue = new EventQueue();
  const kvm = new Kvm({ queue, tracer: new Tracer(queue, { enabled: true }) });
  const vm = kvm.createVm();
  vm.setUserMemoryRegion({ slot: 0, guestPhysAddr: RAM, memorySize: 0x1_0000 });
  const v = vm.createVcpu(0);
  v.armVcpuInit({ target: KVM_ARM_TARGET_GENERIC_V8 });
  const last: number[] = [];
  const main = function* (): GuestProgram {
    yield op.unmask();
    for (let i = 0; i < rounds; i++) last.push((yield seq).value);
    yield op.write(DONE, 4, 0);
  };
  v.loadGuest({
    main: form === "op" ? main : () => loopForm(main()),
    vector: function* (): GuestProgram {
      const r = yield op.read(RAM + 8, 4);
      yield op.write(ACK, 4, r.value);
    },
  });
  for (const t of irqsAt) queue.schedule(t, () => vm.irqLine(0, 1), undefined);
  const log: string[] = [];
  let loads = 0;
  for (let calls = 0; calls < 100_000; calls++) {
    const e = v.run(0, slice === undefined ? undefined : { until: queue.now + slice });
    if (e.reason === KVM_EXIT_INTR) {
      log.push(`intr:${e.cause}@${queue.now}`);
      continue;
    }
    expect(e.reason).toBe(KVM_EXIT_MMIO);
    if (e.reason !== KVM_EXIT_MMIO) break;
    log.push(`${e.isWrite ? "w" : "r"}@0x${e.physAddr.toString(16)}@${queue.now}${e.isWrite ? `=${e.data[0]}` : ""}`);
    if (e.physAddr === DONE) break;
    if (e.physAddr === ACK) vm.irqLine(0, 0);
    else if (!e.isWrite) e.data.set([++loads & 0xff, 0, 0, 0]);
  }
  return { log, end: queue.now, trace: kvm.tracer.toText(), last };
}

function expectSame(seq: GuestOp, rounds: number, irqsAt: readonly number[] = [], slice?: number): ReturnType<typeof run> {
  const loop = run(seq, rounds, "loop", irqsAt, slice);
  const fast = run(seq, rounds, "op", irqsAt, slice);
  expect(fast.log).toEqual(loop.log);
  expect(fast.end).toBe(loop.end);
  expect(fast.last).toEqual(loop.last);
  expect(fast.trace).toBe(loop.trace);
  return fast;
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
    expectSame(op.seq([op.write(RAM, 8, 5, 6), op.msr(0xc640, 9), op.mrs(0xc640)]), 100, [], 7);
  });
});

describe("op.seq itself", () => {
  test("the builder takes at least one op and no repeat, poll or sequence", () => {
    expect(() => op.seq([])).toThrow(RangeError);
    expect(() => op.seq([op.repeat(2, op.wfi())])).toThrow(/cannot hold a repeat/);
    expect(() => op.seq([op.seq([op.wfi()])])).toThrow(/cannot hold a seq/);
    expect(() => op.repeat(2, op.seq([op.wfi()]))).toThrow(/cannot repeat a seq/);
  });

  test("a hand-made empty sequence is KVM_EXIT_INTERNAL_ERROR, as an unknown op is", () => {
    const kvm = new Kvm({ queue: new EventQueue() });
    const v = kvm.createVm().createVcpu(0);
    v.armVcpuInit({ target: KVM_ARM_TARGET_GENERIC_V8 });
    const bad = { kind: "seq", ops: [] } as unknown as GuestOp;
    v.loadGuest({
      main: function* () {
        yield bad;
      },
    });
    expect(v.run().reason).toBe(KVM_EXIT_INTERNAL_ERROR);
  });
});
