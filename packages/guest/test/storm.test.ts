// The storm image under the arm64 machine: every vector of every test
// function, every round, taken and counted.
import { describe, expect, test } from "vitest";
import { STORM_ROUNDS, stormImage } from "../src/index.js";
import { runOnMachine } from "./machine-run.js";

describe("storm", () => {
  test("-smp 2, three functions of 8, 16 and 8 vectors: every MSI taken, split by collection", () => {
    const dev = (n: number): string[] => ["-device", `x-irqlab-msix-test,vectors=${n}`];
    const r = runOnMachine(["-M", "virt", "-accel", "kvm", "-smp", "2", "-nographic", ...dev(8), ...dev(16), ...dev(8)], stormImage());
    const total = 32 * STORM_ROUNDS;
    expect(r.lines.at(-3)).toBe(`storm: 3 functions, 32 vectors, ${STORM_ROUNDS} rounds: ${total} MSIs`);
    expect(r.lines.at(-2)).toMatch(new RegExp(`^storm: ${total} interrupts taken \\(CPU0 ${total / 2}, CPU1 ${total / 2}\\), 0 missing, in \\d+ us$`));
    expect(r.lines.at(-1)).toBe("reboot: Power down");
    expect(r.end).toBe("shutdown");
    const msis = r.machine.calls.lines().filter((l) => l.startsWith("KVM_SIGNAL_MSI"));
    expect(msis).toHaveLength(total);
  });

  test("no test function: a panic that says what to add", () => {
    const r = runOnMachine(["-M", "virt", "-accel", "kvm", "-nographic"], stormImage());
    expect(r.lines).toContain("Kernel panic - not syncing: storm: no x-irqlab-msix-test function on bus 0 (-device x-irqlab-msix-test)");
  });
});
