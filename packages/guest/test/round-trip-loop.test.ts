/**
 * RoundTripLoop, micro-bench's ipi_exec / lpi_exec loop as a state machine,
 * driven by hand: it must yield what the loop of yields it replaces yields,
 * in the same order, and return what that loop returns.
 */
import { newGuestResult, op, type GuestOp, type GuestResult } from "@irqlab/sim";
import { describe, expect, test } from "vitest";
import type { GuestCode } from "../src/guest-image.js";
import { RoundTripLoop, type RoundTripResult, type RoundTripSteps } from "../src/images/round-trip-loop.js";

const CLEAR = op.write(0x100, 4, 0);
const SEND = op.write(0x200, 4, 1);
const WAIT = op.read(0x100, 4);
const CWRITER = op.write(0x300, 8, 0x20);
const CREADR = op.read(0x308, 8);

/** The loop of yields RoundTripLoop stands for. */
function* reference(steps: RoundTripSteps, times: number): GuestCode<RoundTripResult> {
  for (let n = 0; n < times; n++) {
    if (steps.clear !== undefined) yield steps.clear;
    const send = steps.send;
    if (typeof send === "function") {
      if (!(yield* send())) return steps.sendFailed?.() ?? "send failed\n";
    } else yield send;
    if ((yield steps.wait).value === 0) return n;
  }
  return times;
}

/** A send sub-program: CWRITER, then CREADR until the n-th read says the command ran (false after `tries`). */
function sender(readsToGo: number, tries: number): () => GuestCode<boolean> {
  return function* () {
    yield CWRITER;
    for (let i = 0; i < tries; i++) if ((yield CREADR).value >= readsToGo) return true;
    return false;
  };
}

/**
 * Runs a program, answering each load with `answer(op, k)` (k counts the
 * program's ops), and logs every op; returns the log and the return value.
 */
function drive(program: GuestCode<RoundTripResult>, answer: (o: GuestOp, k: number) => number, limit = 1000): { ops: GuestOp[]; result: RoundTripResult } {
  const ops: GuestOp[] = [];
  const r: GuestResult = newGuestResult();
  let it = program.next(r);
  while (it.done !== true) {
    if (ops.length >= limit) throw new Error("the program did not end");
    ops.push(it.value);
    r.value = answer(it.value, ops.length);
    it = program.next(r);
  }
  return { ops, result: it.value };
}

function expectSameAsLoop(steps: RoundTripSteps, times: number, answer: (o: GuestOp, k: number) => number): { ops: GuestOp[]; result: RoundTripResult } {
  const want = drive(reference(steps, times), answer);
  const got = drive(new RoundTripLoop(steps).start(times), answer);
  expect(got.ops).toEqual(want.ops);
  expect(got.result).toBe(want.result);
  return got;
}

describe("RoundTripLoop runs as its loop of yields", () => {
  test("ipi: send and wait, three times; none at all for times 0", () => {
    const r = expectSameAsLoop({ send: SEND, wait: WAIT }, 3, () => 1);
    expect(r.ops).toEqual([SEND, WAIT, SEND, WAIT, SEND, WAIT]);
    expect(r.result).toBe(3);
    expect(expectSameAsLoop({ send: SEND, wait: WAIT }, 0, () => 1)).toEqual({ ops: [], result: 0 });
  });

  test("a wait that reads 0 ends the loop with the iterations that passed", () => {
    // Send and wait per iteration: the third wait, the sixth op, reads 0.
    const r = expectSameAsLoop({ send: SEND, wait: WAIT }, 10, (o, k) => (o === WAIT && k === 6 ? 0 : 1));
    expect(r.result).toBe(2);
  });

  test("lpi: clear, the send's sub-program with its CREADR polls, wait", () => {
    const steps: RoundTripSteps = { clear: CLEAR, send: sender(2, 5), wait: WAIT, sendFailed: () => "timeout\n" };
    // CREADR reads count up within each iteration: the second read says the command ran.
    let reads = 0;
    const r = expectSameAsLoop(steps, 4, (o) => (o === CREADR ? ++reads % 2 === 0 ? 2 : 1 : 1));
    expect(r.ops.slice(0, 6)).toEqual([CLEAR, CWRITER, CREADR, CREADR, WAIT, CLEAR]);
    expect(r.result).toBe(4);
  });

  test("the send's sub-program starts as yield* starts it: its first next() gets undefined, not the clear's result", () => {
    const firsts: unknown[] = [];
    const send = function* (): GuestCode<boolean> {
      firsts.push(yield CWRITER);
      return true;
    };
    // Record what each of the sub-program's next() calls receives, the first included.
    const recording = (): GuestCode<boolean> => {
      const g = send();
      const next = g.next.bind(g);
      g.next = (...args: [] | [GuestResult]) => {
        firsts.push(args[0]);
        return next(...args);
      };
      return g;
    };
    const steps: RoundTripSteps = { clear: CLEAR, send: recording, wait: WAIT };
    firsts.length = 0;
    drive(reference(steps, 1), () => 7);
    const viaYieldStar = [...firsts];
    firsts.length = 0;
    drive(new RoundTripLoop(steps).start(1), () => 7);
    expect(firsts).toEqual(viaYieldStar);
    expect(firsts[0]).toBeUndefined();
  });

  test("a send that fails ends the loop with sendFailed's line", () => {
    const steps: RoundTripSteps = { clear: CLEAR, send: sender(9, 3), wait: WAIT, sendFailed: () => "CREADR timeout\n" };
    const r = expectSameAsLoop(steps, 4, () => 1);
    expect(r.ops).toEqual([CLEAR, CWRITER, CREADR, CREADR, CREADR]);
    expect(r.result).toBe("CREADR timeout\n");
  });

  test("started again, it runs again from the first iteration", () => {
    const loop = new RoundTripLoop({ send: SEND, wait: WAIT });
    expect(drive(loop.start(2), () => 1).result).toBe(2);
    expect(drive(loop.start(1), () => 1)).toEqual({ ops: [SEND, WAIT], result: 1 });
  });

  test("ended from outside in the middle of a send: the sub-program is ended too, and the loop is done", () => {
    let ended = false;
    const send = function* (): GuestCode<boolean> {
      try {
        yield CWRITER;
        yield CREADR;
        return true;
      } finally {
        ended = true;
      }
    };
    const loop = new RoundTripLoop({ send, wait: WAIT }).start(5);
    const r = newGuestResult();
    expect(loop.next(r).value).toBe(CWRITER);
    expect(loop.return(0).done).toBe(true);
    expect(ended).toBe(true);
    expect(loop.next(r).done).toBe(true);
  });
});
