/**
 * A short run of every `npm run fuzz` target with a fixed seed, so that the
 * targets keep building their models and the invariants keep holding between
 * fuzz campaigns. The campaign itself (`npm run fuzz`) is not part of the tests.
 */
import { RngStreams } from "@irqlab/sim";
import { describe, expect, test } from "vitest";
import { formatFailure, runCase } from "../fuzz/runner.js";
import { TARGETS } from "../fuzz/targets/index.js";

/** A few thousand operations per target; the slow ones (many VMs, KVM_RUN) get fewer. */
const SMOKE_OPS: Readonly<Record<string, number>> = { conservation: 600, "kvm-ioctls": 1_000, "its-commands": 2_000, "run-loop-forms": 200 };

/** What the smoke run of a target must have exercised (FuzzTarget.coverage). */
const MUST_COVER: Readonly<Record<string, readonly string[]>> = {
  // Every injection path of conservation-vms.ts / conservation-arm-vm.ts raised at least once.
  conservation: ["line", "irqfd", "route", "msi", "msi-irqfd", "its-int", "aplic-line"],
};

describe("fuzz targets, smoke run (seed 7)", () => {
  for (const target of TARGETS) {
    test(target.name, () => {
      const r = runCase(target, 7, SMOKE_OPS[target.name] ?? 4_000, 2_000);
      expect(r.failure && formatFailure(r.failure)).toBeUndefined();
      const covered = target.coverage?.() ?? {};
      for (const what of MUST_COVER[target.name] ?? []) expect(covered[what] ?? 0, `${target.name}: ${what}`).toBeGreaterThan(0);
    });
  }

  test("a case is drawn from its seed alone (same seed, same operations)", () => {
    for (const t of TARGETS) {
      const draw = () => JSON.stringify(t.generate(new RngStreams(3).stream(`fuzz/${t.name}`), 200));
      expect(draw()).toBe(draw());
    }
  });
});
