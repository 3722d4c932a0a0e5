/**
 * CallOp: `yield* call(code)` must execute `code` exactly as `yield* code`
 * does — the same virtual time, exits, interrupts taken between two of its
 * ops and trace — while the vCPU resumes `code` directly, and hand back what
 * `code` returned. The reference is the guest through sim's loopForm, which
 * runs a call's program in line.
 */
import { EventQueue, StateMachineProgram, call, op, type GuestOp, type GuestProgram, type GuestResult } from "@irqlab/sim";
import { describe, expect, test } from "vitest";
import { ACK, DONE, RAM, TPIDR_EL1, USER, expectLoopFormEqual, type Note } from "../test/loop-form-rig.js";
import { Kvm } from "./kvm.js";
import { KVM_ARM_TARGET_GENERIC_V8 } from "./uapi/device-types.js";
import { KVM_EXIT_INTERNAL_ERROR } from "./uapi/exit-reasons.js";
import type { Vm } from "./vm.js";

/** An SMCCC function id KVM answers NOT_SUPPORTED in the kernel. */
const UNKNOWN_FID = 0x4b00_0000;

/** `rounds` turns of RAM stores, an in-kernel HVC, an exit to the VMM and a sequence; returns the last load's value. */
function* body(rounds: number, note: Note): Generator<GuestOp, number, GuestResult> {
  let last = 0;
  for (let i = 0; i < rounds; i++) {
    yield op.write(RAM + 16, 4, i);
    yield op.hvc([UNKNOWN_FID]);
    last = (yield op.read(USER, 4)).value;
    yield op.seq([op.msr(TPIDR_EL1, i), op.mrs(TPIDR_EL1)]);
    yield op.compute(37);
  }
  note(`body-done=${last}`);
  return last;
}

/** A loop as a state machine: `n` ops, loads and stores of RAM in turn (a load first); returns how many it yielded. */
class Turns extends StateMachineProgram<number> {
  #n = 0;
  #yielded = 0;

  constructor(private readonly store: GuestOp, private readonly load: GuestOp) {
    super(store);
  }

  start(n: number): this {
    this.#n = n;
    this.#yielded = 0;
    return this;
  }

  next(_r: GuestResult): IteratorResult<GuestOp, number> {
    if (this.#yielded >= this.#n) return this.finish(this.#yielded);
    return this.yieldOp(this.#yielded++ % 2 === 0 ? this.load : this.store);
  }

  protected ended(): void {
    this.#n = 0;
  }
}

/** A vector that reads RAM, acknowledges with what it read, and notes the TPIDR it finds (through a call). */
function vector(note: Note): () => GuestProgram {
  return function* () {
    const v = yield op.read(RAM + 8, 4);
    const tpidr = yield* call((function* (): Generator<GuestOp, number, GuestResult> {
      return (yield op.mrs(TPIDR_EL1)).value;
    })());
    note(`vector tpidr=${tpidr}`);
    yield op.write(ACK, 4, v.value);
  };
}

const irqsAt = (ts: readonly number[]) => ts.map((t) => [t, (vm: Vm) => vm.irqLine(0, 1)] as const);

describe("op.call executes its program as yield* does", () => {
  test("exits, in-kernel calls, sequences and computations; the caller gets the return value", () => {
    const r = expectLoopFormEqual({
      main: function* (note) {
        const v = yield* call(body(40, note));
        note(`returned=${v}`);
        yield op.write(DONE, 4, 0);
      },
    });
    expect(r.log.filter((l) => l.startsWith("r@0x9000000"))).toHaveLength(40);
    expect(r.log.some((l) => l.startsWith("returned=40@"))).toBe(true);
  });

  test("interrupts taken inside the called program, a vector that calls, and KVM_RUN deadlines", () => {
    for (const slice of [undefined, 97]) {
      const r = expectLoopFormEqual({
        main: function* (note) {
          yield op.unmask();
          note(`returned=${yield* call(body(30, note))}`);
          yield op.write(DONE, 4, 0);
        },
        vector: (note) => vector(note)(),
        events: irqsAt([300, 5_000, 21_000, 40_001]),
        ...(slice !== undefined ? { slice } : {}),
      });
      expect(r.log.filter((l) => l.startsWith(`w@0x${ACK.toString(16)}`))).toHaveLength(4);
      expect(r.log.filter((l) => l.startsWith("vector tpidr="))).toHaveLength(4);
    }
  });

  test("calls nest; a state machine is called; a program that yields nothing returns at once", () => {
    const turns = new Turns(op.write(RAM + 4, 4, 7), op.read(RAM + 4, 4));
    const r = expectLoopFormEqual({
      main: function* (note) {
        yield op.unmask();
        const outer = yield* call((function* () {
          const n = yield* call(turns.start(25));
          // eslint-disable-next-line require-yield -- a program that returns before its first op
          const nothing = yield* call((function* () {
            return "empty";
          })());
          const inner = yield* call(body(5, note));
          return `${n}/${nothing}/${inner}`;
        })());
        note(`outer=${outer}`);
        yield op.write(DONE, 4, 0);
      },
      vector: (note) => vector(note)(),
      events: irqsAt([150, 2_500]),
    });
    expect(r.log.some((l) => l.startsWith("outer=25/empty/5@"))).toBe(true);
  });

  test("an interrupt nested in a call of a vector that interrupted a call: each program returns to its own caller", () => {
    // The outer vector acknowledges, then calls code that unmasks and computes: the second line rise
    // interrupts that code, whose callers (the vector's, and below them main's) the nested vector must not touch.
    const r = expectLoopFormEqual({
      main: function* (note) {
        yield op.unmask();
        note(`returned=${yield* call(body(12, note))}`);
        yield op.write(DONE, 4, 0);
      },
      vector: (note) =>
        (function* () {
          const depth = (yield op.read(RAM + 8, 4)).value;
          yield op.write(RAM + 8, 4, depth + 1);
          yield op.write(ACK, 4, 0);
          if (depth === 0) {
            const inner = yield* call((function* (): Generator<GuestOp, string, GuestResult> {
              yield op.unmask();
              yield op.compute(3_000);
              yield op.mask();
              return "inner";
            })());
            note(`vector ${inner}`);
          }
          yield op.write(RAM + 8, 4, depth);
        })(),
      events: irqsAt([400, 6_500]),
    });
    expect(r.log.filter((l) => l.startsWith(`w@0x${ACK.toString(16)}`))).toHaveLength(2);
    expect(r.log.filter((l) => l.startsWith("vector inner@"))).toHaveLength(1);
    expect(r.log.some((l) => l.startsWith("body-done="))).toBe(true);
    expect(r.log.some((l) => l.startsWith("returned="))).toBe(true);
  });

  test("untraced runs take the same paths", () => {
    expectLoopFormEqual({
      main: function* (note) {
        yield op.unmask();
        note(`returned=${yield* call(body(20, note))}`);
        yield op.write(DONE, 4, 0);
      },
      vector: (note) => vector(note)(),
      events: irqsAt([1_000, 9_000]),
      trace: false,
    });
  });
});

describe("a malformed call", () => {
  test("a hand-made call without a program is KVM_EXIT_INTERNAL_ERROR, as an unknown op is", () => {
    const kvm = new Kvm({ queue: new EventQueue() });
    const v = kvm.createVm().createVcpu(0);
    v.armVcpuInit({ target: KVM_ARM_TARGET_GENERIC_V8 });
    const bad = { kind: "call", program: 5 } as unknown as GuestOp;
    v.loadGuest({
      main: function* () {
        yield bad;
      },
    });
    expect(v.run().reason).toBe(KVM_EXIT_INTERNAL_ERROR);
  });
});
