// Seed 000's occupancy series (harts × HGEI lines over time, from the HGEI allocator): it starts with vm0's files, ends
// in the allocator's final state, never gives a vCPU more than one file, and marks every refused entry.
import { describe, expect, test } from "vitest";
import type { OccupancySeries } from "../src/framework/occupancy-series.js";
import { runScenario } from "../src/framework/run-scenario.js";
import { vsFileExhaustion } from "../src/seed-000/vsfile-exhaustion.js";
import type { RemedyRow } from "../src/scenario.js";

const SMALL = { harts: 2, geilen: 4, vms: 3, vcpus: 3, us: 1500 };
const report = runScenario(vsFileExhaustion, { sizes: SMALL, remedies: ["none", "mgmt-pinning", "kvm-migrate"] });
const row = (remedy: string): RemedyRow => report.rows.find((r) => r.remedy === remedy)!;
const series = (remedy: string): OccupancySeries => row(remedy).occupancy!;

/** Cells owned at sample k, per hart. */
function usedPerHart(o: OccupancySeries, k: number): number[] {
  const out: number[] = [];
  for (let h = 0; h < o.rows; h++) {
    let n = 0;
    for (let g = 0; g < o.columns; g++) if (o.cells[(k * o.rows + h) * o.columns + g]! >= 0) n++;
    out.push(n);
  }
  return out;
}

describe("seed 000 occupancy series", () => {
  test("the grid is harts × GEILEN, sampled from 0 to the end of the run", () => {
    const o = series("none");
    expect([o.rows, o.columns, o.columnBase]).toEqual([SMALL.harts, SMALL.geilen, 1]);
    expect(o.times[0]).toBe(0);
    expect(o.times.at(-1)).toBe(SMALL.us * 1000);
    expect(o.cells.length).toBe(o.times.length * o.rows * o.columns);
  });

  for (const remedy of ["none", "mgmt-pinning", "kvm-migrate"]) {
    test(`${remedy}: only vm0 (launched at 0) holds files at time 0, the allocator's final state at the end, at most one file per vCPU`, () => {
      const o = series(remedy);
      const first = [...o.cells.subarray(0, o.rows * o.columns)].filter((v) => v >= 0);
      expect(first.length).toBeGreaterThan(0);
      expect(new Set(first.map((v) => o.owners[v]))).toEqual(new Set(["vm0"]));
      const endNote = row(remedy).notes.find((n) => n.includes("files in use per hart at the end"))!;
      expect(usedPerHart(o, o.times.length - 1).join(" ")).toBe(/at the end: ([\d ]+)$/.exec(endNote)![1]);
      for (let k = 0; k < o.times.length; k++) {
        const per = new Map<number, number>();
        for (let c = k * o.rows * o.columns; c < (k + 1) * o.rows * o.columns; c++) {
          const v = o.cells[c]!;
          if (v >= 0) per.set(v, (per.get(v) ?? 0) + 1);
        }
        for (const [owner, n] of per) expect(n).toBeLessThanOrEqual(o.owners[owner] === "vm0" ? SMALL.vcpus + 1 : SMALL.vcpus);
      }
    });
  }

  test("none: every VM stopped at KVM_EXIT_FAIL_ENTRY has a marked refused entry on a hart of the grid", () => {
    const o = series("none");
    expect(o.marks.length).toBeGreaterThan(0);
    for (const m of o.marks) expect(m.row).toBeLessThan(o.rows);
    for (const vm of ["vm0", "vm2"]) expect(o.marks.some((m) => m.label.startsWith(`${vm} `))).toBe(true);
  });

  test("mgmt-pinning: no entry is refused, and the refused VM never owns a file", () => {
    const o = series("mgmt-pinning");
    expect(o.marks).toEqual([]);
    expect(row("mgmt-pinning").values.died).toBe("vm2 (last)");
    expect(o.owners).not.toContain("vm2");
  });
});
