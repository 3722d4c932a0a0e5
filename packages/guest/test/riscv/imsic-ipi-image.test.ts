import { describe, expect, test } from "vitest";
import { imsicIpiImage, PING_ROUNDS } from "../../src/images/imsic-ipi.js";
import { runOnRiscvMachine } from "./machine-run.js";

const argv = (aia: string): string[] => ["-M", "virt,aia=aplic-imsic", "-accel", `kvm,riscv-aia=${aia}`, "-smp", "4"];
const RTT = /^CPU0 -> CPU(\d): 8 pings, 8 answered, round trip min (\d+\.\d) us, avg (\d+\.\d) us, max (\d+\.\d) us$/;

function avgRtt(lines: readonly string[]): number {
  const avgs = lines.map((l) => RTT.exec(l)).filter((m) => m !== null).map((m) => Number(m[3]));
  expect(avgs).toHaveLength(3);
  return avgs.reduce((a, b) => a + b, 0) / avgs.length;
}

describe("imsic-ipi on the riscv64 virt machine under KVM", () => {
  let hwaccel: ReturnType<typeof runOnRiscvMachine> | undefined;
  const hw = (): ReturnType<typeof runOnRiscvMachine> => (hwaccel ??= runOnRiscvMachine(imsicIpiImage(), argv("hwaccel")));

  test("hwaccel: Linux's IMSIC lines, every ping answered through identity 1, counts per CPU", () => {
    const r = hw();
    expect(r.end).toBe("shutdown");
    expect(r.lines.slice(0, 8)).toEqual([
      "Machine model: riscv-virtio,qemu",
      "irqlab imsic-ipi on riscv64: 4 CPUs, 128 MiB RAM",
      "riscv-imsic: interrupt-controller@28000000: providing IPIs using interrupt 1",
      "riscv-imsic: interrupt-controller@28000000:  hart-index-bits: 2,  guest-index-bits: 0",
      "riscv-imsic: interrupt-controller@28000000: group-index-bits: 0, group-index-shift: 24",
      "riscv-imsic: interrupt-controller@28000000: per-CPU IDs 255 at base address 0x0000000028000000",
      "riscv-imsic: interrupt-controller@28000000: total 1016 interrupts available",
      "imsic-ipi: 4 CPUs online, IMSIC files at 0x28000000..0x28003000",
    ]);
    for (const [i, cpu] of [1, 2, 3].entries()) expect(r.lines[8 + i]).toMatch(new RegExp(`^CPU0 -> CPU${cpu}: 8 pings, 8 answered, round trip`));
    expect(r.lines[11]).toMatch(/^broadcast to 3 CPUs: 3 answered, \d+ pongs taken by CPU0$/);
    for (const cpu of [1, 2, 3]) expect(r.lines).toContain(`CPU${cpu}: ${PING_ROUNDS + 1} pings handled, ${PING_ROUNDS + 1} IPI identities claimed`);
    expect(r.lines.at(-1)).toBe("reboot: Power down");
    expect(avgRtt(r.lines)).toBeLessThan(20);
  });

  test("emul (SW-files: stopei and the IMSIC page trap) answers too, with a longer round trip than hwaccel", () => {
    const fast = avgRtt(hw().lines);
    const emul = runOnRiscvMachine(imsicIpiImage(), argv("emul"));
    expect(emul.end).toBe("shutdown");
    expect(avgRtt(emul.lines)).toBeGreaterThan(fast);
  });
});
