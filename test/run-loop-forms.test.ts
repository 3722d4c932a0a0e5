/**
 * The run-loop-forms fuzz target over several seeds: generated multi-vCPU
 * arm64 and riscv64 guests end the same run as written and as the loop of
 * yields their repeats, sequences, polls and calls stand for (the fast paths
 * are invisible), traced or not, and between them the cases reach every kind
 * of block the generator draws, so that each fast path is compared next to
 * vCPUs that compute, poll, wait and send interrupts.
 */
import { describe, expect, test } from "vitest";
import { formatFailure, runCase } from "../fuzz/runner.js";
import { runLoopForms } from "../fuzz/targets/run-loop-forms.js";

/** Every kind of block run-loop-forms.ts draws (repeats by what they repeat). */
const KINDS = [
  "store", "load", "seq", "poll", "compute", "spin", "ipi", "delay", "timer", "mask", "unmask", "wfi", "call",
  "repeat-load", "repeat-store", "repeat-irqchip", "repeat-uart", "repeat-irqchip-reg", "repeat-cpu-reg", "repeat-hypercall",
];
/** arm64's vCPU 0 also sends ITS commands. */
const ITS_COMMANDS = ["lpi", "movi"];

describe("run-loop-forms: the fast paths end as the loop form", () => {
  test("seeds 1..10, 60 blocks each, on arm64 and riscv64", () => {
    const reached: Record<string, number> = {};
    for (let seed = 1; seed <= 10; seed++) {
      const r = runCase(runLoopForms, seed, 60, 2_000);
      expect(r.failure && formatFailure(r.failure), `seed ${seed}`).toBeUndefined();
      for (const [kind, n] of Object.entries(runLoopForms.coverage?.() ?? {})) reached[kind] = (reached[kind] ?? 0) + n;
    }
    for (const arch of ["aarch64", "riscv64"]) {
      for (const kind of arch === "aarch64" ? [...KINDS, ...ITS_COMMANDS] : KINDS) expect(reached[`${arch}:${kind}`] ?? 0, `${arch}:${kind}`).toBeGreaterThan(0);
    }
  });
});
