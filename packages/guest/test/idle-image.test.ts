// The idle image under the arm64 machine: the PL011's SPI wakes CPU0 while a
// line goes out by interrupt-driven transmission (amba-pl011.c), SGI 0 wakes
// each idle CPU.
import { describe, expect, test } from "vitest";
import { IDLE_TX_LINE, idleImage } from "../src/index.js";
import { runOnMachine } from "./machine-run.js";

// QEMU's pl011_id_arm has revision 1 in UARTPeriphID2: get_fifosize_arm gives 16 bytes.
const FIFO = 16;

/** What the TX path does with a line of `n` bytes: start_tx fills the FIFO, each pl011_int pass sends half of it. */
function expectedTx(n: number): { primed: number; passes: number } {
  const primed = Math.min(n, FIFO);
  return { primed, passes: Math.ceil((n - primed) / (FIFO / 2)) };
}

describe("idle on the arm64 virt machine under KVM", () => {
  test("-smp 4: the line goes out by the PL011's TX interrupt while CPU0 idles; an SGI wakes each other CPU once", () => {
    const r = runOnMachine(["-M", "virt", "-accel", "kvm", "-smp", "4", "-nographic"], idleImage());
    expect(r.end).toBe("shutdown");
    const n = IDLE_TX_LINE.length;
    const { primed, passes } = expectedTx(n);
    expect(r.lines).toEqual([
      "Machine model: linux,dummy-virt",
      "irqlab idle on aarch64: 4 CPUs, 128 MiB RAM",
      `idle: ttyAMA0 SPI 1 (level high) -> INTID 33 on CPU0, ${FIFO}-byte FIFO`,
      IDLE_TX_LINE.trimEnd(),
      `idle: start_tx wrote ${primed} bytes, the TX interrupt ${n - primed} in ${passes} passes`,
      `idle: ${n} bytes from 1 UART interrupt, 1 wakeup of CPU0 from WFI`,
      "CPU1: 1 IPI, 1 wakeup from WFI",
      "CPU2: 1 IPI, 1 wakeup from WFI",
      "CPU3: 1 IPI, 1 wakeup from WFI",
      "reboot: Power down",
    ]);
  });

  test("-smp 1: no other CPU to wake; the line still goes out by interrupts", () => {
    const r = runOnMachine(["-M", "virt", "-accel", "kvm", "-nographic"], idleImage());
    expect(r.end).toBe("shutdown");
    const n = IDLE_TX_LINE.length;
    const { primed, passes } = expectedTx(n);
    expect(r.lines.slice(2)).toEqual([
      `idle: ttyAMA0 SPI 1 (level high) -> INTID 33 on CPU0, ${FIFO}-byte FIFO`,
      IDLE_TX_LINE.trimEnd(),
      `idle: start_tx wrote ${primed} bytes, the TX interrupt ${n - primed} in ${passes} passes`,
      `idle: ${n} bytes from 1 UART interrupt, 1 wakeup of CPU0 from WFI`,
      "reboot: Power down",
    ]);
  });
});
