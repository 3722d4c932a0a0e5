/**
 * scripts/machine-probe.mjs, which `npm run bench` runs before and after its
 * benches: the chase's buffer is one cycle through every entry (a shorter
 * one would stay in a cache and report a cache's latency, not memory's),
 * and the script prints its figures' shape. No figure is checked: a test
 * must not time anything.
 */
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { randomCycle } from "../scripts/machine-probe.mjs";

const root = join(import.meta.dirname, "..");

describe("scripts/machine-probe.mjs", () => {
  test("the pointer chase's cycle visits every entry once before it comes back", () => {
    for (const n of [2, 3, 1000, 1 << 16]) {
      const next = randomCycle(n);
      const seen = new Uint8Array(n);
      let p = 0;
      for (let i = 0; i < n; i++) {
        expect(seen[p]).toBe(0);
        seen[p] = 1;
        p = next[p]!;
      }
      expect(p).toBe(0);
    }
    // The same cycle on every run: a fixed seed.
    expect(Array.from(randomCycle(8))).toEqual(Array.from(randomCycle(8)));
  });

  test("prints ns per compute step, per memory load and per load of the cache curve's chases as JSON", () => {
    const r = spawnSync(process.execPath, [join(root, "scripts", "machine-probe.mjs"), "8"], { encoding: "utf8" });
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    const p = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(Object.keys(p).sort()).toEqual(["cacheCurve", "computeNs", "computeSpread", "memoryMiB", "memoryNs", "memorySpread"]);
    expect(p.memoryMiB).toBe(8);
    expect(p.computeNs).toBeGreaterThan(0);
    expect(p.memoryNs).toBeGreaterThan(0);
    // Only the curve's sizes below the memory buffer's: 4 MiB of 4, 8, 16 and 32.
    const curve = p.cacheCurve as { mib: number; ns: number; spread: number }[];
    expect(curve.map((c) => c.mib)).toEqual([4]);
    expect(curve[0]!.ns).toBeGreaterThan(0);
    expect(curve[0]!.spread).toBeGreaterThanOrEqual(0);
  });

  test("a memory size that is not a whole number of MiB is refused with exit 2", () => {
    for (const bad of ["0", "abc", "1.5"]) {
      const r = spawnSync(process.execPath, [join(root, "scripts", "machine-probe.mjs"), bad], { encoding: "utf8" });
      expect(r.status).toBe(2);
      expect(r.stderr).toBe(`machine-probe: the memory size must be a whole number of MiB, not '${bad}'\n`);
      expect(r.stdout).toBe("");
    }
  });
});
