/**
 * What a trace file written by `irqlab` says about the run that made it
 * (its `otherData`): the irqlab version, the command line as a shell would
 * take it back, and every input that decides the run (seed, sizes, options),
 * so that the file says how to reproduce itself.
 */

import { shellQuote } from "./system/trace-file.js";
import { VERSION } from "./version.js";

/** The run's inputs for a trace's `otherData`: `argv` is what followed `irqlab` on the command line. */
export function traceInputs(argv: readonly string[], inputs: Record<string, unknown>): Record<string, unknown> {
  const full = ["irqlab", ...argv];
  return { irqlab: VERSION, command: shellQuote(full), argv: full, ...inputs };
}
