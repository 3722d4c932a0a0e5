import { describe, expect, test } from "vitest";
import { IDLE_TX_LINE, idleImage } from "../../src/images/idle.js";
import { runOnRiscvMachine } from "./machine-run.js";

describe("idle on the riscv64 virt machine under KVM", () => {
  test("the UART's APLIC source reaches CPU0's IMSIC as an MSI; the line goes out by interrupts; IPIs wake the idle CPUs", () => {
    const r = runOnRiscvMachine(idleImage(), ["-M", "virt,aia=aplic-imsic", "-accel", "kvm,riscv-aia=hwaccel", "-smp", "4"]);
    expect(r.end).toBe("shutdown");
    const n = IDLE_TX_LINE.length;
    expect(r.lines.slice(7)).toEqual([
      "riscv-aplic interrupt-controller@d000000: 96 interrupts forwarded to MSI base 0x0000000028000000",
      "idle: ttyS0 irq 10 (level high) -> IMSIC identity 2 on CPU0",
      IDLE_TX_LINE.trimEnd(),
      `idle: ${n} bytes from ${n + 1} UART interrupts, 1 wakeup of CPU0 from WFI`,
      "CPU1: 1 IPI, 1 wakeup from WFI",
      "CPU2: 1 IPI, 1 wakeup from WFI",
      "CPU3: 1 IPI, 1 wakeup from WFI",
      "reboot: Power down",
    ]);
  });
});
