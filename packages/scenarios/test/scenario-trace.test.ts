// `--trace` of real scenarios on a MachineHost: the merged file is sound by the Trace Event Format's
// rules, its host CPU tracks come from the host scheduler, its counters are C events, and
// otherData says how to reproduce it.
import { checkChromeTrace, type ChromeTrace, type ChromeTraceEvent } from "@irqlab/sim";
import { describe, expect, test } from "vitest";
import { runScenario } from "../src/framework/run-scenario.js";
import { reportsToChromeTrace, reportsToChromeTraceJson } from "../src/framework/scenario-trace.js";
import { findScenario } from "../src/registry.js";

const SMALL_000 = { harts: 2, geilen: 1, vms: 3, vcpus: 2, us: 200 };

function threadsNamed(t: ChromeTrace, pattern: RegExp): ChromeTraceEvent[] {
  return t.traceEvents.filter((e) => e.ph === "M" && e.name === "thread_name" && pattern.test(String(e.args?.name)));
}

describe("seed 000 (VS-file exhaustion), small sizes, every remedy", () => {
  const report = runScenario(findScenario("000")!, { seed: 5, trace: true, sizes: SMALL_000 });
  const t = reportsToChromeTrace([report], { command: "irqlab scenario run 000" });

  test("the merged trace passes the Trace Event Format checks; flow ids stay unique across remedies", () => {
    expect(checkChromeTrace(t)).toEqual([]);
    const ids = t.traceEvents.filter((e) => e.ph === "s").map((e) => e.id);
    expect(ids.length).toBeGreaterThan(0);
    expect(new Set(ids).size).toBe(ids.length);
  });

  test("host CPU tracks show which vCPU thread the scheduler runs there, one at a time", () => {
    const cpus = threadsNamed(t, /^cpu\d+$/);
    expect(cpus.length).toBeGreaterThan(0);
    for (const m of cpus) {
      const slices = t.traceEvents.filter((e) => e.ph === "X" && e.pid === m.pid && e.tid === m.tid);
      for (const s of slices) expect(s.name).toMatch(/^vm\d+\/vcpu\d+$/);
      for (let i = 1; i < slices.length; i++) expect(slices[i]!.ts).toBeGreaterThanOrEqual(slices[i - 1]!.ts + slices[i - 1]!.dur! - 1e-6);
    }
  });

  test("VS-files in use and nr_running per host CPU are counters; failed entries are exit slices with their reason", () => {
    const counters = new Set(t.traceEvents.filter((e) => e.ph === "C").map((e) => e.name));
    expect(counters).toContain("cpu0 VS-files in use");
    expect(counters).toContain("cpu0 nr_running");
    const fail = t.traceEvents.filter((e) => e.cat === "vcpu-state" && e.name === "KVM_EXIT_FAIL_ENTRY");
    expect(fail.length).toBeGreaterThan(0);
    expect(fail[0]!.args).toMatchObject({ cpu: expect.any(Number) as number, hardware_entry_failure_reason: expect.any(Number) as number });
  });

  test("otherData names the scenario, its id, seed, sizes and remedies, and each run's tracks", () => {
    expect(t.otherData.command).toBe("irqlab scenario run 000");
    expect(t.otherData.scenarios).toEqual([
      { scenario: "vsfile-exhaustion", id: "000", seed: 5, sizes: { ...findScenario("000")!.sizes, ...SMALL_000 }, remedies: report.rows.map((r) => r.remedy) },
    ]);
    const runs = t.otherData.runs as { remedy: string; seed: number; tracks: { pid: number }[] }[];
    expect(runs.map((r) => r.remedy)).toEqual([...report.traces.keys()]);
    const pids = new Set(t.traceEvents.filter((e) => e.name === "process_name").map((e) => e.pid));
    for (const r of runs) for (const tr of r.tracks) expect(pids.has(tr.pid)).toBe(true);
  });

  test("the same run gives the same bytes", () => {
    const again = runScenario(findScenario("000")!, { seed: 5, trace: true, sizes: SMALL_000 });
    expect(reportsToChromeTraceJson([again])).toBe(reportsToChromeTraceJson([report]));
  });
});

test("seed 002 (vCPU hotplug): QMP, vgic and vCPU tracks pass the checks; trapped sysreg accesses are instants", () => {
  const t = reportsToChromeTrace([runScenario(findScenario("002")!, { seed: 0, trace: true })]);
  expect(checkChromeTrace(t)).toEqual([]);
  expect(t.traceEvents.some((e) => e.name === "kvm_sys_access" && e.ph === "i")).toBe(true);
  expect(threadsNamed(t, /^vgic-v3$/).length).toBeGreaterThan(0);
});
