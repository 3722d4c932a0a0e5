// The storm image on the riscv64 virt machine under KVM: every MSI-X vector of
// every test function, every round, lands in its hart's IMSIC file and is
// claimed through stopei.
import { describe, expect, test } from "vitest";
import { STORM_ROUNDS, stormImage } from "../../src/index.js";
import { runOnRiscvMachine } from "./machine-run.js";

const AIA = ["-M", "virt,aia=aplic-imsic", "-accel", "kvm,riscv-aia=hwaccel"];
const dev = (n: number): string[] => ["-device", `x-irqlab-msix-test,vectors=${n}`];

/** Interrupts per CPU when vector v of each function goes to CPU v mod `cpus`. */
function perCpu(functions: readonly number[], cpus: number): number[] {
  const out = new Array<number>(cpus).fill(0);
  for (const n of functions) for (let v = 0; v < n; v++) out[v % cpus]! += STORM_ROUNDS;
  return out;
}

describe("storm on the riscv64 virt machine under KVM", () => {
  test("-smp 3, functions of 8 and 16 vectors: every MSI is a KVM_SIGNAL_MSI without devid, taken on its vector's hart", () => {
    const fns = [8, 16];
    const r = runOnRiscvMachine(stormImage(), [...AIA, "-smp", "3", ...fns.flatMap(dev)]);
    const vectors = fns.reduce((a, b) => a + b, 0);
    const total = vectors * STORM_ROUNDS;
    const per = perCpu(fns, 3)
      .map((n, c) => `CPU${c} ${n}`)
      .join(", ");
    expect(r.lines.at(-3)).toBe(`storm: 2 functions, ${vectors} vectors, ${STORM_ROUNDS} rounds: ${total} MSIs`);
    expect(r.lines.at(-2)).toMatch(new RegExp(`^storm: ${total} interrupts taken \\(${per}\\), 0 missing, in \\d+ us$`));
    expect(r.lines.at(-1)).toBe("reboot: Power down");
    expect(r.end).toBe("shutdown");
    const msis = r.machine.calls.lines().filter((l) => l.startsWith("KVM_SIGNAL_MSI"));
    expect(msis).toHaveLength(total);
    // The address is a hart's S-level file page (riscv virt: 0x28000000 + hart × 4 KiB), the data an identity.
    const pages = new Set(msis.map((l) => /addr=(0x[0-9a-f]+)/.exec(l)![1]));
    expect([...pages].sort()).toEqual(["0x28000000", "0x28001000", "0x28002000"]);
    expect(msis.every((l) => l.endsWith(" devid=0"))).toBe(true);
  });

  test("no test function: a panic that says what to add", () => {
    const r = runOnRiscvMachine(stormImage(), [...AIA]);
    expect(r.lines).toContain("Kernel panic - not syncing: storm: no x-irqlab-msix-test function on bus 0 (-device x-irqlab-msix-test)");
  });
});
