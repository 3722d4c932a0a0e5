/**
 * Operations per second of each fuzz target (generation excluded): a case is
 * drawn once from a fixed seed and replayed on fresh models per call. The
 * conservation entry measures the checker together with the VMs it drives.
 */
import { RngStreams } from "@irqlab/sim";
import { bench, describe } from "vitest";
import { TARGETS } from "../targets/index.js";

/** Operations per call; a bench name ending in [xN] reports N operations per call. */
const OPS: Readonly<Record<string, number>> = { conservation: 300, "kvm-ioctls": 300 };

describe("fuzz targets", () => {
  for (const t of TARGETS) {
    const n = OPS[t.name] ?? 2_000;
    const c = t.generate(new RngStreams(1).stream(`fuzz/${t.name}`), n);
    bench(`${t.name} [x${n}]`, () => {
      t.execute(c.setup, c.ops, () => undefined);
    });
  }
});
