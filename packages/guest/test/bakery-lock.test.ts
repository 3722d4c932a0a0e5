// The bakery lock keeps its critical sections exclusive under any fair
// interleaving of loads and stores (the model's memory is sequentially consistent).
import fc from "fast-check";
import { expect, test } from "vitest";
import { op } from "@irqlab/sim";
import { BakeryLock, PSCI_0_2_FN64_CPU_ON, PSCI_0_2_FN_SYSTEM_OFF, type GuestCode, type GuestImage } from "../src/index.js";
import { runGuest } from "./guest-executor.js";
import { armVirtTree } from "./trees.js";

const BASE = 0x4010_0000;
const SHARED = 0x4020_0000;
const DONE = 0x4020_0008;

/** N CPUs each add 1 to SHARED K times with a read, a pause and a write inside the lock. */
function counterImage(n: number, k: number, seen: { inside: number; max: number }, broken = false): GuestImage {
  const real = new BakeryLock(BASE, n);
  // The control: a "lock" that does nothing.
  const lock = broken
    ? {
        init: () => real.init(),
        *lock(_: number): GuestCode {
          // takes nothing
        },
        *unlock(_: number): GuestCode {
          // releases nothing
        },
      }
    : real;
  function* work(me: number): GuestCode {
    for (let i = 0; i < k; i++) {
      yield* lock.lock(me);
      seen.inside++;
      seen.max = Math.max(seen.max, seen.inside);
      const v = (yield op.read(SHARED, 4)).value;
      yield op.compute(5);
      yield op.write(SHARED, 4, v + 1);
      seen.inside--;
      yield* lock.unlock(me);
    }
    yield* lock.lock(me);
    const d = (yield op.read(DONE, 4)).value;
    yield op.write(DONE, 4, d + 1);
    yield* lock.unlock(me);
  }
  return {
    main: function* () {
      yield* lock.init();
      for (let c = 1; c < n; c++) yield op.hvc([PSCI_0_2_FN64_CPU_ON, c, 0, c]);
      yield* work(0);
      while ((yield op.read(DONE, 4)).value < n) yield op.compute(10);
      yield op.hvc([PSCI_0_2_FN_SYSTEM_OFF]);
    },
    secondary: function* (_entry, context) {
      yield* work(context);
      for (;;) yield op.wfi();
    },
  };
}

test("BakeryLock.bytes: two words per CPU", () => {
  expect(BakeryLock.bytes(4)).toBe(32);
});

const property = (broken: boolean) =>
  fc.property(fc.integer({ min: 2, max: 6 }), fc.array(fc.integer({ min: 1, max: 30 }), { minLength: 1, maxLength: 32 }), (n, turns) => {
      const seen = { inside: 0, max: 0 };
      const k = 5;
      const r = runGuest({
        arch: "aarch64",
        image: counterImage(n, k, seen, broken),
        blob: armVirtTree({ cpus: n }),
        cpus: Array.from({ length: n }, (_, i) => i),
        quantumOf: (turn) => turns[turn % turns.length]!,
      });
      expect(r.stop).toBe("power");
      expect(seen.max).toBe(1);
      expect(r.ram.load(SHARED, 4)).toBe(n * k);
    });

test("mutual exclusion and no lost update, whatever the turn lengths (property)", () => {
  fc.assert(property(false), { seed: 11, numRuns: 150 });
});

test("the property has teeth: without the lock it finds a lost update", () => {
  expect(fc.check(property(true), { seed: 11, numRuns: 150 }).failed).toBe(true);
});
