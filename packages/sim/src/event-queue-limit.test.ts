import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { EventQueue, type IdleCheck } from "./event-queue.js";

describe("EventQueue nested runs and the limit", () => {
  test("the limit is infinite at the top level and the target of the innermost run inside one", () => {
    const q = new EventQueue();
    expect(q.limit).toBe(Number.POSITIVE_INFINITY);
    const seen: number[] = [];
    q.schedule(10, () => {
      seen.push(q.limit);
      q.runUntil(15);
      seen.push(q.limit);
    });
    q.runUntil(100);
    expect(seen).toEqual([100, 100]);
    expect(q.limit).toBe(Number.POSITIVE_INFINITY);
  });

  test("an inner run never passes the time the enclosing run was asked to reach", () => {
    const q = new EventQueue();
    const order: string[] = [];
    q.schedule(90, () => {
      q.runUntil(150); // asks past the outer target of 100
      order.push(`inner stopped at ${q.now}`);
    });
    q.schedule(100, () => order.push("event at 100"));
    q.schedule(120, () => order.push("event at 120"));
    q.runUntil(100);
    expect(order).toEqual(["event at 100", "inner stopped at 100"]);
    expect(q.now).toBe(100);
    q.runUntil(200);
    expect(order.at(-1)).toBe("event at 120");
  });

  test("setLimit narrows without running, restoreLimit gives the old one back", () => {
    const q = new EventQueue();
    const saved = q.setLimit(50);
    expect(q.limit).toBe(50);
    expect(q.setLimit(80)).toBe(50); // never widens
    expect(q.limit).toBe(50);
    q.restoreLimit(50);
    expect(q.atLimit).toBe(false);
    q.runUntil(70);
    expect(q.now).toBe(50);
    expect(q.atLimit).toBe(true);
    q.restoreLimit(saved);
    expect(q.limit).toBe(Number.POSITIVE_INFINITY);
    expect(q.atLimit).toBe(false);
  });

  test("pushLimit narrows as setLimit does and popLimit gives back the limit it narrowed, nested as a stack", () => {
    const q = new EventQueue();
    q.pushLimit(3e9); // above 2^31, as a vCPU's run budget soon is
    expect(q.limit).toBe(3e9);
    q.pushLimit(4e9); // never widens
    expect(q.limit).toBe(3e9);
    // Deeper than the queue's first stack of saved limits.
    for (let i = 0; i < 20; i++) q.pushLimit(2e9 - i);
    expect(q.limit).toBe(2e9 - 19);
    for (let i = 19; i >= 0; i--) {
      expect(q.limit).toBe(2e9 - i);
      q.popLimit();
    }
    expect(q.limit).toBe(3e9);
    q.popLimit();
    expect(q.limit).toBe(3e9);
    q.runUntil(5e9);
    expect(q.now).toBe(3e9);
    q.popLimit();
    expect(q.limit).toBe(Number.POSITIVE_INFINITY);
    expect(() => q.popLimit()).toThrow("popLimit without a pushLimit");
  });

  test("popLimit releases handlers waiting for the limit to move on, as restoreLimit does", () => {
    const q = new EventQueue();
    const runs: number[] = [];
    q.pushLimit(30);
    q.runUntil(30);
    q.scheduleWhenUnlimited(() => runs.push(q.now), undefined);
    q.runUntil(30);
    expect(runs).toEqual([]); // still at the limit
    q.popLimit();
    q.runUntil(40);
    expect(runs).toEqual([30]);
  });

  test("runUntilCondition stops at the limit and advances the clock to it", () => {
    const q = new EventQueue();
    q.schedule(500, () => undefined);
    const saved = q.setLimit(200);
    expect(q.runUntilCondition(() => false)).toBe(false);
    expect(q.now).toBe(200);
    q.restoreLimit(saved);
    // At the top level an empty queue still ends the wait without moving the clock.
    q.runUntilIdle();
    expect(q.now).toBe(500);
    expect(q.runUntilCondition(() => false)).toBe(false);
    expect(q.now).toBe(500);
  });

  test("scheduleWhenUnlimited waits for an enclosing run to move the limit on", () => {
    const q = new EventQueue();
    const runs: number[] = [];
    const model = (): void => {
      runs.push(q.now);
      if (runs.length < 3) q.scheduleWhenUnlimited(model, undefined);
    };
    q.schedule(40, () => {
      q.runUntil(50); // the inner run reaches the outer limit (50)...
      model(); // ...so the model cannot run again at 50 inside it
      expect(runs).toEqual([50]);
    });
    q.runUntil(50);
    expect(runs).toEqual([50]);
    q.runUntil(60); // the next run lifts the limit: the deferred handler runs at 50, then again
    expect(runs).toEqual([50, 50, 50]);
  });

  test("cut ends a run and the runs nested in it, but not the runs below it", () => {
    const q = new EventQueue();
    const log: string[] = [];
    q.schedule(10, () => {
      const depth = q.depth + 1; // the run about to start
      q.schedule(20, () => {
        q.runUntil(60); // nested in the cut run: ends at the cut too
        log.push(`inner ended at ${q.now}`);
      });
      q.schedule(30, () => q.cut(depth));
      q.schedule(40, () => log.push("never inside the cut run"));
      q.runUntil(90);
      log.push(`cut run ended at ${q.now}`);
    });
    q.runUntil(200);
    expect(log).toEqual(["inner ended at 30", "cut run ended at 30", "never inside the cut run"]);
    expect(q.now).toBe(200);
  });

  test("cutAt ends a run and the runs nested in it at a later time; two cuts end them at the earlier", () => {
    const q = new EventQueue();
    const log: string[] = [];
    q.schedule(10, () => {
      const depth = q.depth + 1;
      q.schedule(20, () => {
        q.cutAt(depth, 45);
        q.runUntil(60); // nested in the cut run: stops at 45
        log.push(`inner ended at ${q.now}`);
      });
      q.schedule(40, () => log.push("inside, before the cut"));
      q.schedule(50, () => log.push("after the cut run"));
      q.runUntil(90);
      log.push(`cut run ended at ${q.now}`);
      q.cutAt(depth, 70); // the run is over: nothing to cut
    });
    q.runUntil(200);
    expect(log).toEqual(["inside, before the cut", "inner ended at 45", "cut run ended at 45", "after the cut run"]);
    const q2 = new EventQueue();
    q2.schedule(0, () => {
      const depth = q2.depth + 1;
      q2.schedule(5, () => {
        q2.cutAt(depth, 30);
        q2.cutAt(depth, 20);
        q2.cutAt(depth, 25);
      });
      q2.runUntil(100);
      expect(q2.now).toBe(20);
    });
    q2.runUntil(200);
    // A time already passed cuts at now, as cut() does.
    const q3 = new EventQueue();
    q3.schedule(0, () => {
      const depth = q3.depth + 1;
      q3.schedule(15, () => q3.cutAt(depth, 3));
      q3.runUntil(100);
      expect(q3.now).toBe(15);
    });
    q3.runUntil(200);
  });

  test("watchSchedules is told of each handler scheduled and of a deferred one released, until cleared", () => {
    const q = new EventQueue();
    let told = 0;
    q.watchSchedules({
      scheduled: () => {
        told++;
      },
    });
    expect(q.watchingSchedules).toBe(true);
    q.schedule(5, () => undefined);
    q.scheduleAfter(7, () => undefined);
    expect(told).toBe(2);
    // Deferred at the limit, then released as the standing handler (no schedule call of its own).
    q.schedule(10, () => {
      q.runUntil(20);
      q.scheduleWhenUnlimited(() => undefined, undefined, { idleUntil: () => false });
      expect(told).toBe(3);
    });
    q.runUntil(20);
    expect(told).toBe(4);
    q.watchSchedules(undefined);
    expect(q.watchingSchedules).toBe(false);
    q.schedule(40, () => undefined);
    expect(told).toBe(4);
  });

  test("earliestEvent: the earliest pending event, a standing handler not counted", () => {
    const q = new EventQueue();
    expect(q.earliestEvent()).toBe(Number.POSITIVE_INFINITY);
    const id = q.schedule(70, () => undefined);
    q.schedule(90, () => undefined);
    expect(q.earliestEvent()).toBe(70);
    q.cancel(id);
    expect(q.earliestEvent()).toBe(90);
  });

  test("property: nested runs of random depth never move the clock backwards or past the outer target", () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 1000 }), fc.integer({ min: 0, max: 500 })), { maxLength: 40 }), fc.integer({ min: 0, max: 1500 }), (events, outer) => {
        const q = new EventQueue();
        let last = 0;
        const bad: number[] = [];
        for (const [t, span] of events) {
          q.schedule(t, () => {
            const before = q.now;
            const lim = q.limit;
            q.runUntil(before + span);
            if (q.now < before || q.now > lim || q.now < last) bad.push(q.now);
            last = q.now;
          });
        }
        q.runUntil(outer);
        return bad.length === 0 && q.now === outer;
      }),
    );
  });
});

describe("scheduleWhenUnlimited with an idle check", () => {
  // X computes through a list of spans inside H's operations (each a nested run), stopping at each
  // of H's limits; other events come at random times. Leaving X off the queue while it is idle must
  // not change what happens, when, or in which order.
  // With `asked`, the check also answers idleUntilAsked, from the queue's askedTime: the queue must ask that
  // instead (`timeQuestions` counts the idleUntil calls), about the same times. With `costed`, H charges its
  // operations with runFor rather than runUntil to the time they end: nothing may change.
  function play(
    hOps: number[],
    xSpans: number[],
    events: number[],
    withIdle: boolean,
    asked = false,
    costed = false,
  ): { log: string[]; dispatched: number; timeQuestions: number } {
    const q = new EventQueue();
    const log: string[] = [];
    let span = 0;
    let end = xSpans[0]!;
    let timeQuestions = 0;
    const idleUntil = (t: number): boolean => {
      timeQuestions++;
      return t < end;
    };
    const idle: IdleCheck = asked ? { idleUntil, idleUntilAsked: () => q.askedTime < end } : { idleUntil };
    const stepX = (): void => {
      for (;;) {
        q.runUntil(end);
        if (q.now < end) {
          q.scheduleWhenUnlimited(stepX, undefined, withIdle ? idle : undefined);
          return;
        }
        log.push(`X span ${span} ends at ${q.now}`);
        if (++span === xSpans.length) return;
        end = q.now + xSpans[span]!;
      }
    };
    events.forEach((t, k) =>
      q.schedule(t, () => {
        log.push(`event ${k} at ${q.now}`);
        if (k % 3 === 0) q.schedule(q.now, () => log.push(`event ${k}' at ${q.now}`));
      }),
    );
    q.schedule(0, () => {
      for (const [i, c] of hOps.entries()) {
        log.push(`H op ${i} at ${q.now}`);
        if (costed) q.runFor(c);
        else q.runUntil(q.now + c);
      }
    });
    q.schedule(0, stepX);
    q.runUntilIdle();
    return { log, dispatched: q.dispatched, timeQuestions };
  }

  test("the same events at the same times in the same order, with fewer dispatches", () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 40 }), { minLength: 1, maxLength: 60 }),
        fc.array(fc.integer({ min: 1, max: 300 }), { minLength: 1, maxLength: 5 }),
        fc.array(fc.integer({ min: 0, max: 800 }), { maxLength: 8 }),
        (hOps, xSpans, events) => {
          const plain = play(hOps, xSpans, events, false);
          const lazy = play(hOps, xSpans, events, true);
          expect(lazy.log).toEqual(plain.log);
          expect(lazy.dispatched).toBeLessThanOrEqual(plain.dispatched);
          const asked = play(hOps, xSpans, events, true, true);
          expect(asked.log).toEqual(plain.log);
          expect(asked.dispatched).toBe(lazy.dispatched);
          expect(asked.timeQuestions).toBe(0);
          const costed = play(hOps, xSpans, events, true, true, true);
          expect(costed.log).toEqual(plain.log);
          expect(costed.dispatched).toBe(lazy.dispatched);
          expect(costed.timeQuestions).toBe(0);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe("idleSteps", () => {
  test("steps up to, never onto, the earliest event and the limit", () => {
    const q = new EventQueue();
    q.schedule(100, () => undefined);
    expect(q.idleSteps(7, 1000)).toBe(14); // 98 < 100; a 15th step would reach 105
    expect(q.now).toBe(98);
    expect(q.idleSteps(2, 1)).toBe(0); // onto the event at 100: it must run
    q.runUntil(100);
    expect(q.idleSteps(7, 5)).toBe(5); // nothing left to run: as many as asked
    expect(q.now).toBe(135);
    q.schedule(140, () => {
      const outer = q.setLimit(150);
      expect(q.idleSteps(3, 100)).toBe(3); // limited to 150: 149 is the last time short of it
      expect(q.now).toBe(149);
      q.restoreLimit(outer);
    });
    q.runUntil(200);
    expect(q.idleSteps(0, 5)).toBe(0);
    expect(q.idleSteps(1.5, 5)).toBe(0);
    expect(q.idleSteps(5, 0)).toBe(0);
  });

  // H polls for a number of steps of `step` ns, each a costed look at a counter only events change;
  // X computes inside H's steps as in the test above. Skipping the steps idleSteps allows must not
  // change what H sees, when, or anything else that happens.
  // With `bound`, X's check also tells idleSteps how many steps it could accept (IdleCheck.steps):
  // exactly, more than it will (the check then says no), or fewer (fewer are skipped). With `asked`, the
  // check answers idleUntilAsked and stepsAsked from the queue's askedTime, and idleUntil(time) and
  // steps(from, …) must not be asked at all.
  function poll(step: number, steps: number, xSpans: number[], events: number[], skip: boolean, bound?: "exact" | "loose" | "tight", asked = false): string[] {
    const q = new EventQueue();
    const log: string[] = [];
    let counter = 0;
    let span = 0;
    let end = xSpans[0]!;
    const slack = bound === "loose" ? 3 : bound === "tight" ? -1 : 0;
    const idleUntil = (t: number): boolean => {
      if (asked) throw new Error("idleUntil(time) asked of a check that has idleUntilAsked");
      return t < end;
    };
    const check: IdleCheck = asked ? { idleUntil, idleUntilAsked: () => q.askedTime < end } : { idleUntil };
    const fit = (from: number, s: number, max: number): number => Math.min(max, Math.floor((end - 1 - from) / s) + slack);
    const stepsAfter = (from: number, s: number, max: number): number => {
      if (asked) throw new Error("steps(from, …) asked of a check that has stepsAsked");
      return fit(from, s, max);
    };
    const bounded: IdleCheck = asked ? { ...check, steps: stepsAfter, stepsAsked: (s, max) => fit(q.askedTime, s, max) } : { ...check, steps: stepsAfter };
    const idle: IdleCheck = bound === undefined ? check : bounded;
    const stepX = (): void => {
      for (;;) {
        q.runUntil(end);
        if (q.now < end) {
          q.scheduleWhenUnlimited(stepX, undefined, idle);
          return;
        }
        log.push(`X span ${span} ends at ${q.now}`);
        if (++span === xSpans.length) return;
        end = q.now + xSpans[span]!;
      }
    };
    events.forEach((t, k) => q.schedule(t, () => void (counter = k + 1)));
    q.schedule(0, () => {
      let seen = -1;
      const look = (): void => {
        if (counter !== seen) log.push(`H sees ${(seen = counter)} at ${q.now}`);
      };
      look();
      for (let left = steps; left > 0; ) {
        // Each step is a run of `step` ns and a look; a skipped one would have seen what H just saw.
        if (skip) {
          left -= q.idleSteps(step, left);
          expect(counter).toBe(seen);
          if (left === 0) break;
        }
        q.runUntil(q.now + step);
        left--;
        look();
      }
      log.push(`H done at ${q.now} seeing ${counter}`);
    });
    q.schedule(0, stepX);
    q.runUntilIdle();
    return log;
  }

  test("skipping the steps it allows changes nothing anyone observes", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 13 }),
        fc.integer({ min: 1, max: 200 }),
        fc.array(fc.integer({ min: 1, max: 300 }), { minLength: 1, maxLength: 5 }),
        fc.array(fc.integer({ min: 0, max: 1500 }), { maxLength: 8 }),
        (step, steps, xSpans, events) => {
          const plain = poll(step, steps, xSpans, events, false);
          expect(poll(step, steps, xSpans, events, true)).toEqual(plain);
          for (const bound of ["exact", "loose", "tight"] as const) expect(poll(step, steps, xSpans, events, true, bound)).toEqual(plain);
          expect(poll(step, steps, xSpans, events, true, undefined, true)).toEqual(plain);
          for (const bound of ["exact", "loose", "tight"] as const) expect(poll(step, steps, xSpans, events, true, bound, true)).toEqual(plain);
        },
      ),
      { numRuns: 300 },
    );
  });

  test("an idle check that bounds its steps is asked once where the bound is the answer", () => {
    const q = new EventQueue();
    const asked: number[] = [];
    let checked = false;
    const idle: IdleCheck = {
      idleUntil: (t) => (asked.push(t), t <= 1000),
      steps: (from, step, max) => Math.min(max, Math.floor((1000 - from) / step)),
    };
    // H runs first; inside its run to 5, X computes towards 1000, stops at H's limit and then stands aside, idle.
    q.schedule(0, () => {
      q.runUntil(5);
      asked.length = 0;
      expect(q.idleSteps(7, 1 << 20)).toBe(142); // 5 + 142 * 7 = 999: the last step within what X accepts
      expect(asked).toEqual([999]);
      expect(q.now).toBe(999);
      checked = true;
    });
    const stepX = (): void => {
      q.runUntil(1000);
      if (q.now < 1000) q.scheduleWhenUnlimited(stepX, undefined, idle);
    };
    q.schedule(0, stepX);
    q.runUntilIdle();
    expect(checked).toBe(true);
  });
});
