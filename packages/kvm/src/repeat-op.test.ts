/**
 * RepeatOp: `op.repeat(n, o)` must execute exactly as n yields of `o` do —
 * the same virtual time, the same exits at the same times, the same
 * interrupts taken between two executions, the same trace — while resuming
 * the guest program once. Each case runs one guest written both ways and
 * compares everything the VMM and a trace reader can observe.
 */
import { EventQueue, op, Tracer, type GuestOp, type GuestProgram } from "@irqlab/sim";
import { describe, expect, test } from "vitest";
import { Kvm } from "./kvm.js";
import { KVM_ARM_TARGET_GENERIC_V8 } from "./uapi/device-types.js";
import { KVM_EXIT_INTERNAL_ERROR, KVM_EXIT_MMIO } from "./uapi/exit-reasons.js";

const DONE = 0x1000;
const ACK = 0x2000;
/** No device and no RAM here: every access exits to the VMM. */
const USER_REG = 0x0900_0fe0;
/** An SMCCC function id KVM answers NOT_SUPPORTED without an exit. */
const UNKNOWN_FID = 0x4b00_0000;

interface Run {
  /** Every exit the VMM saw, with its virtual time. */
  readonly exits: string[];
  /** When the guest said it was done. */
  readonly end: number;
  /** The trace as text. */
  readonly trace: string;
  /** What the guest's loop saw from its last execution. */
  readonly last: number;
  /** Interrupts the guest's vector took. */
  readonly taken: number;
}

/**
 * Runs a guest that unmasks, executes `body` `n` times (as a loop of yields,
 * or as one repeat), then reports done. An interrupt line rises at each time
 * in `irqsAt`; the vector acknowledges it to the VMM, which lowers the line.
 */
function run(body: GuestOp, n: number, form: "loop" | "repeat", irqsAt: readonly number[] = []): Run {
  const queue = new EventQueue();
  const kvm = new Kvm({ queue, tracer: new Tracer(queue, { enabled: true }) });
  const vm = kvm.createVm();
  const v = vm.createVcpu(0);
  v.armVcpuInit({ target: KVM_ARM_TARGET_GENERIC_V8 });
  let last = -1;
  let taken = 0;
  v.loadGuest({
    main: function* (): GuestProgram {
      yield op.unmask();
      let r = -1;
      if (form === "repeat") r = (yield op.repeat(n, body)).value;
      else for (let i = 0; i < n; i++) r = (yield body).value;
      last = r;
      yield op.write(DONE, 4, 0);
    },
    vector: function* (): GuestProgram {
      taken++;
      yield op.write(ACK, 4, 0);
    },
  });
  for (const t of irqsAt) queue.schedule(t, () => vm.irqLine(0, 1), undefined);
  const exits: string[] = [];
  let reads = 0;
  for (;;) {
    const e = v.run();
    expect(e.reason).toBe(KVM_EXIT_MMIO);
    if (e.reason !== KVM_EXIT_MMIO) break;
    exits.push(`${e.isWrite ? "w" : "r"}@0x${e.physAddr.toString(16)}@${queue.now}`);
    if (e.physAddr === DONE) break;
    if (e.physAddr === ACK) vm.irqLine(0, 0);
    else if (!e.isWrite) e.data.set([++reads & 0xff, 0, 0, 0]);
  }
  return { exits, end: queue.now, trace: kvm.tracer.toText(), last, taken };
}

function expectSame(body: GuestOp, n: number, irqsAt: readonly number[] = []): Run {
  const loop = run(body, n, "loop", irqsAt);
  const repeat = run(body, n, "repeat", irqsAt);
  expect(repeat.exits).toEqual(loop.exits);
  expect(repeat.end).toBe(loop.end);
  expect(repeat.last).toBe(loop.last);
  expect(repeat.taken).toBe(loop.taken);
  expect(repeat.trace).toBe(loop.trace);
  return repeat;
}

describe("op.repeat executes as a loop of yields does", () => {
  test("an HVC KVM answers in the kernel, 1000 times", () => {
    const r = expectSame(op.hvc([UNKNOWN_FID]), 1000);
    expect(r.last).toBe(0xffff_ffff); // SMCCC_RET_NOT_SUPPORTED (-1) in w0
    expect(r.exits).toHaveLength(1);
  });

  test("a load that exits to the VMM each time, 40 times: every exit, and the last value read", () => {
    const r = expectSame(op.read(USER_REG, 4), 40);
    expect(r.exits.filter((x) => x.startsWith("r@"))).toHaveLength(40);
    expect(r.last).toBe(40);
  });

  test("interrupts taken between executions, in the kernel and at exits, resume the repeat where it was", () => {
    const hvc = expectSame(op.hvc([UNKNOWN_FID]), 2000, [10_000, 150_000, 300_000]);
    expect(hvc.taken).toBe(3);
    const reads = expectSame(op.read(USER_REG, 4), 200, [20_000, 90_000]);
    expect(reads.taken).toBe(2);
    expect(reads.exits.filter((x) => x.startsWith("r@"))).toHaveLength(200);
  });

  test("a system register the irqchip does not own, and a WFI woken by the interrupt", () => {
    expectSame(op.msr(0xc640, 5), 500, [1_000]);
    const wfi = expectSame(op.wfi(), 3, [5_000, 50_000, 70_000]);
    expect(wfi.taken).toBe(3);
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
