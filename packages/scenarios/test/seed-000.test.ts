// Seed 000 (VS-file exhaustion) on machines: every remedy's row against the thread's claims, on a small host
// (2 harts × 4 files, vm0 with 4 vCPUs then two busy 3-vCPU VMs: 10 files wanted, 8 exist; vm0's last two
// vCPUs come up 1 ms after boot), a control size where everything fits, and determinism.
import { describe, expect, test } from "vitest";
import { runScenario, type ScenarioReport } from "../src/framework/run-scenario.js";
import { reportsToJsonText } from "../src/framework/report-json.js";
import { vsFileExhaustion } from "../src/seed-000/vsfile-exhaustion.js";
import type { RemedyRow } from "../src/scenario.js";

const SMALL = { harts: 2, geilen: 4, vms: 3, vcpus: 3, us: 1500 };
const report: ScenarioReport = runScenario(vsFileExhaustion, { sizes: SMALL });
const row = (remedy: string): RemedyRow => report.rows.find((r) => r.remedy === remedy)!;

describe("seed 000 with more vCPUs than VS-files", () => {
  test("none: no handler, VMs stop in internal-error with all their vCPUs; the first to stop is not the first launched", () => {
    const r = row("none").values;
    expect(r.vms_running).toBe(1);
    expect(r.died).toBe("vm2 (last), vm0 (first)");
    expect([r.repins, r.migrations, r.livelock]).toEqual([0, 0, false]);
    expect(row("none").notes.some((n) => n.includes("un-handled exit reason 9 (KVM_EXIT_FAIL_ENTRY, hardware_entry_failure_reason 0x1"))).toBe(true);
  });

  test("qemu-pin-next under linux-6.18 (CSR_HSTATUS): re-pins around every hart without end — livelock, no VM stops", () => {
    const r = row("qemu-pin-next-6.18").values;
    expect(r.livelock).toBe(true);
    expect(r.repins as number).toBeGreaterThanOrEqual(SMALL.harts * 100);
    expect([r.vms_running, r.died]).toEqual([3, "none"]);
    expect(r.vcpus_running).toBe(8); // every file taken, two vCPUs of vm0 spin in the re-pin loop
    expect(row("qemu-pin-next-6.18").verdict).toMatch(/livelock/);
  });

  test("qemu-pin-next under linux-6.19 (NO_VSFILE): the patch does not recognise the reason, same row as no handler", () => {
    const a = { ...row("qemu-pin-next-6.19").values };
    expect(a).toEqual(row("none").values);
    expect(a.repins).toBe(0);
  });

  test("kvm-migrate: migrations find free files until none is left; then the VM launched first is killed", () => {
    const r = row("kvm-migrate").values;
    expect(r.migrations as number).toBeGreaterThan(0);
    expect(r.died).toBe("vm0 (first)");
    expect([r.vms_running, r.vcpus_running, r.livelock]).toEqual([2, 6, false]);
  });

  test("mgmt-pinning: the manager refuses the last VM before it runs; every admitted vCPU runs", () => {
    const r = row("mgmt-pinning").values;
    expect(r.died).toBe("vm2 (last)");
    expect([r.vms_running, r.vcpus_running, r.repins, r.migrations]).toEqual([2, 7, 0, 0]);
    expect(row("mgmt-pinning").verdict).toMatch(/last VM \(vm2\) is refused before it runs/);
  });

  test("auto: all VMs and vCPUs run; the vCPUs on the SW-file take interrupts more slowly", () => {
    const r = row("auto").values;
    expect([r.vms_running, r.vcpus_running, r.died]).toEqual([3, 10, "none"]);
    expect(r.sw_p50 as number).toBeGreaterThan(r.vs_p50 as number);
    expect(r.sw_p99 as number).toBeGreaterThan(r.vs_p99 as number);
    for (const remedy of ["none", "kvm-migrate", "mgmt-pinning"]) expect(row(remedy).values.sw_p50).toBeNull();
  });

  test("latency is measured from taken interrupts in every remedy", () => {
    for (const r of report.rows) {
      expect(r.values.interrupts as number, r.remedy).toBeGreaterThan(100);
      expect(r.values.vs_p50 as number, r.remedy).toBeGreaterThan(0);
      expect(r.values.vs_p99 as number, r.remedy).toBeGreaterThanOrEqual(r.values.vs_p50 as number);
    }
  });
});

test("when every vCPU has a file no remedy changes the outcome (control)", () => {
  const r = runScenario(vsFileExhaustion, { sizes: { harts: 4, geilen: 2, vms: 3, vcpus: 2, us: 1200 }, remedies: ["none", "kvm-migrate", "mgmt-pinning"] });
  for (const x of r.rows) expect([x.values.vms_running, x.values.vcpus_running, x.values.died], x.remedy).toEqual([3, 7, "none"]);
});

test("same seed, byte-identical JSON; another seed moves the device's timing", () => {
  const opts = { sizes: { ...SMALL, us: 1200 }, remedies: ["none", "auto"] };
  const a = reportsToJsonText([runScenario(vsFileExhaustion, { ...opts, seed: 7 })]);
  expect(reportsToJsonText([runScenario(vsFileExhaustion, { ...opts, seed: 7 })])).toBe(a);
  expect(reportsToJsonText([runScenario(vsFileExhaustion, { ...opts, seed: 8 })])).not.toBe(a);
});

test("sizes outside the models' limits are refused by name", () => {
  expect(() => runScenario(vsFileExhaustion, { sizes: { harts: 0 } })).toThrow("size 'harts' must be between 1 and 64, not 0");
  expect(() => runScenario(vsFileExhaustion, { sizes: { cores: 2 } })).toThrow(/has no size 'cores' \(sizes: harts, geilen, vms, vcpus, us\)/);
});
