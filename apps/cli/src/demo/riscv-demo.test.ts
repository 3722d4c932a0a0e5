import { describe, expect, test } from "vitest";
import { runRiscvDemo } from "./riscv-demo.js";

describe("riscv demo", () => {
  test("the wired (APLIC), the KVM_SIGNAL_MSI and the irqfd interrupt are all claimed through stopei", () => {
    const r = runRiscvDemo({ seed: 7, trace: false });
    expect(r.summary).toMatch(/claimed 3\/3, pending left: none, guest errors: 0/);
    expect(r.summary).toMatch(/EIID 10 via APLIC source 3/);
    expect(r.summary).toMatch(/EIID 11 via KVM_SIGNAL_MSI/);
    expect(r.summary).toMatch(/VS-file hgei 1 on hart 0/); // auto mode with free files: hardware path
  });

  test("hwaccel works the same; the same seed gives the same trace, another seed other times", () => {
    const a = runRiscvDemo({ seed: 1, trace: true, mode: "hwaccel" });
    const b = runRiscvDemo({ seed: 1, trace: true, mode: "hwaccel" });
    expect(a.summary).toMatch(/claimed 3\/3/);
    expect(a.tracer.toText()).toBe(b.tracer.toText());
    expect(a.tracer.toText().length).toBeGreaterThan(0);
    expect(runRiscvDemo({ seed: 2, trace: false, mode: "hwaccel" }).summary).not.toBe(a.summary);
  });

  test("emul: the same interrupts through the SW-file, each claim a trapped stopei (slower)", () => {
    const hw = runRiscvDemo({ seed: 3, trace: false, mode: "hwaccel" }).summary;
    const sw = runRiscvDemo({ seed: 3, trace: false, mode: "emul" }).summary;
    expect(sw).toMatch(/SW-file \(trap-and-emulate\)/);
    expect(sw).toMatch(/claimed 3\/3/);
    const lat = (s: string): number[] => [...s.matchAll(/\(\+(\d+) ns\)/g)].map((m) => Number(m[1]));
    // sysregTrap (306 ns) instead of sysregNoTrap (14 ns) for the claiming stopei access.
    expect(lat(sw).map((x, i) => x - lat(hw)[i]!)).toEqual([292, 292, 292]);
  });
});
