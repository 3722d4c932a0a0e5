import { describe, expect, test } from "vitest";
import { loopForm, newGuestResult, op, type GuestOp, type GuestResult } from "./guest-ops.js";
import { StateMachineProgram, returnsAfterOp } from "./state-machine-program.js";

/** Yields `ops` in turn, then returns the sum of the values they read. */
class Summing extends StateMachineProgram<number> {
  #i = 0;
  #sum = 0;
  endedCalls = 0;

  constructor(private readonly ops: readonly GuestOp[]) {
    super(ops[0]!);
  }

  next(r: GuestResult): IteratorResult<GuestOp, number> {
    if (this.#i > 0) this.#sum += r.value;
    if (this.#i === this.ops.length) return this.finish(this.#sum);
    return this.yieldOp(this.ops[this.#i++]!);
  }

  protected ended(): void {
    this.endedCalls++;
    this.#i = this.ops.length;
  }
}

const ops = [op.read(0x1000, 4), op.read(0x1004, 4), op.compute(3)];

describe("StateMachineProgram", () => {
  test("yields and returns as a generator would, the program itself the record", () => {
    const p = new Summing(ops);
    const r = newGuestResult();
    const first = p.next(undefined as unknown as GuestResult);
    expect(first === (p as unknown)).toBe(true);
    expect([first.done, first.value]).toEqual([false, ops[0]]);
    r.value = 5;
    const second = p.next(r);
    expect(second === first).toBe(true);
    expect([second.done, second.value]).toEqual([false, ops[1]]);
    r.value = 7;
    expect(p.next(r).value).toBe(ops[2]);
    r.value = 0;
    const last = p.next(r);
    expect(last === first).toBe(true);
    expect([last.done, last.value]).toEqual([true, 12]);
  });

  test("runs under loopForm like a generator", () => {
    function* gen(): Generator<GuestOp, number, GuestResult> {
      let sum = 0;
      for (const o of ops) sum += (yield o).value;
      return sum;
    }
    const drive = (program: Generator<GuestOp, number, GuestResult>): [GuestOp[], number] => {
      const seen: GuestOp[] = [];
      const r = newGuestResult();
      let it = program.next(r);
      while (it.done !== true) {
        seen.push(it.value);
        r.value = seen.length;
        it = program.next(r);
      }
      return [seen, it.value];
    };
    expect(drive(loopForm(new Summing(ops)))).toEqual(drive(loopForm(gen())));
  });

  test("ended from outside: ended() runs, return() gives the value, throw() rethrows, and it stays done", () => {
    const p = new Summing(ops);
    p.next(undefined as unknown as GuestResult);
    const ret = p.return(9);
    expect([ret.done, ret.value]).toEqual([true, 9]);
    expect(p.endedCalls).toBe(1);
    expect(p.next(newGuestResult()).done).toBe(true);
    const q = new Summing(ops);
    q.next(undefined as unknown as GuestResult);
    expect(() => q.throw(new Error("stop"))).toThrow("stop");
    expect(q.endedCalls).toBe(1);
    expect(q.next(newGuestResult()).done).toBe(true);
    expect(q[Symbol.iterator]() === q).toBe(true);
  });

  test("returnsAfterOp of any program: what a state machine says, false for a generator or another iterator", () => {
    /** Says its next resume returns once it has yielded its one op. */
    class LastOp extends Summing {
      override get returnsAfterOp(): boolean {
        return true;
      }
    }
    expect(returnsAfterOp(new Summing(ops))).toBe(false);
    expect(returnsAfterOp(new LastOp(ops))).toBe(true);
    expect(
      returnsAfterOp(
        (function* () {
          yield op.compute(1);
        })(),
      ),
    ).toBe(false);
    // Only a state machine says it: an iterator of another kind that has such a property is not asked.
    const other = { returnsAfterOp: true, next: (): IteratorResult<GuestOp, void> => ({ done: true, value: undefined }) };
    expect(returnsAfterOp(other)).toBe(false);
  });
});
