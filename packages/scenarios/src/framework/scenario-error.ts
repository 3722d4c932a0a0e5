/**
 * The error every bad scenario input throws: an unknown scenario or remedy,
 * a size out of range, a bad scenario file. Its message is one line that
 * names the bad part; the CLI prints it and exits with code 2. It is an
 * IrqlabError, so `IrqlabError.isInstance` recognises it like every other
 * error the packages throw.
 */

import { IrqlabError } from "@irqlab/sim";

/** What was wrong. */
export type ScenarioErrorCode = "unknown-scenario" | "unknown-remedy" | "bad-size" | "bad-file";

/** A bad scenario name, remedy, size or file. */
export class ScenarioError extends IrqlabError {
  /** What was wrong. */
  declare readonly code: ScenarioErrorCode;

  constructor(code: ScenarioErrorCode, message: string) {
    super(code, message);
    this.name = "ScenarioError";
  }
}
