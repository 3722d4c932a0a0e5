/**
 * `--trace FILE`: the run's trace as Chrome Trace Event JSON (Perfetto UI,
 * chrome://tracing, speedscope). The file is opened for writing before the
 * machine runs, as QEMU opens its log files while it parses the command
 * line, so a bad path costs nothing; it is written when the run ends, however
 * it ends, with the command line that made it in the file's `otherData`.
 */

import { closeSync, openSync, writeFileSync } from "node:fs";
import { IRQLAB_VERSION, QEMU_VERSION, type Machine, type MachineArch, type MachineRunEnd } from "@irqlab/machine";
import { toChromeTraceJson } from "@irqlab/sim";
import { strerror } from "./host-errors.js";

/** Opens `file` for writing (creating it, keeping what it holds); the error text, or undefined if it can be written. */
export function checkWritable(file: string): string | undefined {
  try {
    closeSync(openSync(file, "a"));
    return undefined;
  } catch (e) {
    return strerror(e);
  }
}

/** A command line as a POSIX shell would take it back (single quotes where needed). */
export function shellQuote(argv: readonly string[]): string {
  return argv.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replaceAll("'", `'\\''`)}'`)).join(" ");
}

/** What the trace file says about the run that made it. */
export interface TraceMetadata {
  readonly prog: string;
  readonly argv: readonly string[];
  readonly arch: MachineArch;
  readonly seed: number;
  readonly end: MachineRunEnd;
}

/** Writes the machine's trace to `file`; returns the error text if that fails. */
export function writeTrace(file: string, machine: Machine, meta: TraceMetadata): string | undefined {
  const json = toChromeTraceJson(machine.tracer, {
    command: shellQuote([meta.prog, ...meta.argv]),
    argv: [meta.prog, ...meta.argv],
    arch: meta.arch,
    seed: meta.seed,
    end: meta.end,
    runState: machine.runState,
    virtualTimeNs: machine.queue.now,
    irqlab: IRQLAB_VERSION,
    qemuCommandLine: QEMU_VERSION,
  });
  try {
    writeFileSync(file, json);
    return undefined;
  } catch (e) {
    return strerror(e);
  }
}
