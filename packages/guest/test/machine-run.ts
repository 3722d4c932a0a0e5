/**
 * Runs a guest image under the arm64 machine built from a QEMU command line
 * (@irqlab/machine's parser and Machine), collecting the console. Test
 * scaffolding: the guest package itself never imports the machine.
 */
import { Machine, parseSystemCommandLine } from "@irqlab/machine";
import type { GuestImage } from "../src/index.js";

/** What a run printed and how it ended. */
export interface MachineRun {
  readonly machine: Machine;
  /** Console lines without "\r". */
  readonly lines: string[];
  readonly end: string;
}

/** `irqlab-system-aarch64 ARGV` with `image` as -kernel, run for at most `ns` of virtual time. */
export function runOnMachine(argv: readonly string[], image: GuestImage, ns = 60_000_000_000): MachineRun {
  const parsed = parseSystemCommandLine("aarch64", argv);
  if (parsed.kind !== "run") throw new Error(`command line did not parse: ${parsed.kind}`);
  let text = "";
  const machine = Machine.create({ config: parsed.config, kernel: image, console: (t) => (text += t) });
  const end = machine.run(ns);
  machine.flushConsole();
  const lines = text.replaceAll("\r\n", "\n").split("\n");
  if (lines.at(-1) === "") lines.pop();
  return { machine, lines, end };
}
