// Seed 000 on a modelled 8 × 5 host (Linux arch/riscv/kvm/aia_imsic.c kvm_riscv_vcpu_aia_imsic_update): FAIL_ENTRY under ordinary scheduling,
// the kernel-migrate remedy with and without spare files, AUTO fallback, determinism.
import { describe, expect, it } from "vitest";
import { KVM_DEV_RISCV_AIA_MODE_AUTO } from "@irqlab/kvm";
import { BUSY_HOST, OVERCOMMIT, SEED_STAGGERED, SEED_TOGETHER, describeVsFileResult, runVsFileScenario } from "./vsfile-kvm-rig.js";

describe("VS-file exhaustion on 8 harts × 5 guest files", () => {
  it("ordinary scheduling puts a 6th vCPU on a full hart: KVM_EXIT_FAIL_ENTRY with the hart, the VM stops", () => {
    const r = runVsFileScenario(SEED_STAGGERED, "none");
    expect(r.failEntries).toEqual([{ vm: "vm0", vcpu: 5, cpu: 0, reason: 1 }]);
    expect(r.stoppedVms).toEqual(["vm0"]);
    expect(r.filesPerHart).toEqual([5, 0, 0, 0, 0, 0, 0, 0]);
    // linux-6.18 reports CSR_HSTATUS instead of KVM_EXIT_FAIL_ENTRY_NO_VSFILE.
    expect(runVsFileScenario(SEED_STAGGERED, "none", { profile: "linux-6.18" }).failEntries[0]!.reason).toBe(0x600);
  });

  it("started together the same VM spreads over idle harts and runs (the failure depends on timing)", () => {
    const r = runVsFileScenario(SEED_TOGETHER, "none");
    expect(r.failEntries).toEqual([]);
    expect(r.vcpusRunning).toBe(6);
  });

  it("kernel-migrate with spare files: no exit reaches the VMM", () => {
    for (const s of [SEED_STAGGERED, BUSY_HOST]) {
      const r = runVsFileScenario(s, "kernel-migrate");
      expect(r.failEntries).toEqual([]);
      expect(r.remedyMigrations).toBeGreaterThan(0);
      expect(r.filesPerHart.every((n) => n <= 5)).toBe(true);
    }
    const busy = runVsFileScenario(BUSY_HOST, "none");
    expect(busy.failEntries).toEqual([{ vm: "vm6", vcpu: 2, cpu: 6, reason: 1 }]);
    expect(40 - busy.filesPerHart.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(6); // files were free elsewhere
  });

  it("kernel-migrate without spare files fails the vCPU that asks last — here of the VM launched first", () => {
    const r = runVsFileScenario(OVERCOMMIT, "kernel-migrate");
    expect(r.vcpusRunning).toBe(40);
    expect(r.filesPerHart).toEqual([5, 5, 5, 5, 5, 5, 5, 5]);
    expect(r.failEntries.map((f) => `${f.vm}/${f.vcpu}`)).toEqual(["vm0/5"]);
    expect(r.stoppedVms).toEqual(["vm0"]);
  });

  it("AUTO never fails: vCPUs without a free file run on the SW-file", () => {
    const r = runVsFileScenario(SEED_STAGGERED, "none", { mode: KVM_DEV_RISCV_AIA_MODE_AUTO });
    expect(r.failEntries).toEqual([]);
    expect(r.vcpusRunning).toBe(6);
    expect(r.swFileVcpus).toBe(1);
  });

  it("is deterministic: the same scenario gives the same result and placement", () => {
    for (const s of [OVERCOMMIT, BUSY_HOST]) {
      for (const remedy of ["none", "kernel-migrate"] as const) {
        const a = runVsFileScenario(s, remedy);
        const b = runVsFileScenario(s, remedy);
        expect(JSON.stringify(b)).toBe(JSON.stringify(a));
        expect(describeVsFileResult(a)).toContain(s.name);
      }
    }
  });

  it("the seed's QEMU pin-next handler: converges with spare files but pins threads for good; livelocks when all 40 are taken", () => {
    const ok = runVsFileScenario(SEED_STAGGERED, "qemu-pin-next", { profile: "linux-6.18" });
    expect([ok.failEntries.length, ok.vcpusRunning, ok.repins, ok.pinnedThreads]).toEqual([0, 6, 1, 1]);
    const over = runVsFileScenario(OVERCOMMIT, "qemu-pin-next", { profile: "linux-6.18" });
    expect(over.livelocked).toEqual(["vm0/vcpu5"]);
    expect(over.repins).toBeGreaterThanOrEqual(64);
    // The patch tests reason == CSR_HSTATUS: under 6.19 (NO_VSFILE = 1) it falls through and the VM stops.
    const new6 = runVsFileScenario(SEED_STAGGERED, "qemu-pin-next", { profile: "linux-6.19" });
    expect([new6.repins, new6.stoppedVms]).toEqual([0, ["vm0"]]);
    expect(new6.swFileVcpus).toBe(0);
  });
});
