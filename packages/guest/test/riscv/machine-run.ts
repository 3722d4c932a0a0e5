/**
 * Runs a guest image on irqlab's riscv64 virt machine under KVM, built from a
 * QEMU command line as `irqlab-system-riscv64` builds it, and returns the
 * console text (lines without "\r") and how the run ended. Test scaffolding.
 */
import { Machine, parseSystemCommandLine } from "@irqlab/machine";
import type { GuestImage } from "../../src/index.js";

/** What a run printed and how it ended. */
export interface MachineRun {
  readonly lines: string[];
  readonly end: string;
  readonly machine: Machine;
}

/** Boots `image` with `argv` (QEMU options without -kernel) until it stops or `untilNs`. */
export function runOnRiscvMachine(image: GuestImage, argv: readonly string[], untilNs = 10_000_000_000): MachineRun {
  const parsed = parseSystemCommandLine("riscv64", [...argv, "-nographic"]);
  if (parsed.kind !== "run") throw new Error(`command line did not parse to a run: ${parsed.kind}`);
  let text = "";
  const machine = Machine.create({ config: parsed.config, kernel: image, console: (t: string) => (text += t) });
  const end = machine.run(untilNs);
  machine.flushConsole();
  const lines = text.replaceAll("\r\n", "\n").split("\n");
  if (lines.at(-1) === "") lines.pop();
  return { lines, end, machine };
}
