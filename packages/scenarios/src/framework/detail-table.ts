/**
 * A small measured table that a remedy row carries beside its values, for
 * state that is a grid rather than one number (seed 001: the vLPI ↔ host
 * irq mappings as they change; seed 002: each CPU slot's state and its
 * redistributor's GICR_TYPER at each step). Not part of the
 * JSON output; the web app shows it under the outcome table.
 */

/** A titled table of text cells, every cell read from the run. */
export interface DetailTable {
  readonly title: string;
  readonly columns: readonly string[];
  readonly rows: readonly (readonly string[])[];
}
