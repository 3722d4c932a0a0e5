/**
 * What a scenario is: a story from one of the seed threads (or a user's
 * file), told by running real machines, guests and QMP timelines once per
 * remedy on the same inputs, and reported as one row of measured values per
 * remedy under columns that say what they mean.
 *
 * Every value in a row is measured from the run (counters, exits, the trace,
 * the guest's console), never written down in advance.
 */

import type { Tracer } from "@irqlab/sim";
import type { DetailTable } from "./framework/detail-table.js";
import type { OccupancySeries } from "./framework/occupancy-series.js";
import type { StepSchedule } from "./framework/step-schedule.js";

/** One measured quantity a scenario reports, as a table column. */
export interface ScenarioColumn {
  /** Key in {@link RemedyRow.values} and in the JSON output. */
  readonly key: string;
  /** Column heading in the table. */
  readonly title: string;
  /** What the value means and how it is measured (`irqlab scenario explain`). */
  readonly description: string;
  /** Unit of numeric values, if any ("us", "vCPUs"). */
  readonly unit?: string;
}

/** One remedy (or behaviour) argued in the thread. */
export interface ScenarioRemedy {
  /** Name used by `--remedy` ("none", "qemu-pin-next", "linux-6.16"). */
  readonly name: string;
  /** One-line title. */
  readonly title: string;
  /** Who proposed it in the thread and what it does. */
  readonly description: string;
}

/** A value in a result row: numbers are measured; null means "does not apply to this remedy". */
export type ScenarioValue = string | number | boolean | null;

/** What one remedy's run measured. */
export interface RemedyRow {
  readonly remedy: string;
  readonly values: Readonly<Record<string, ScenarioValue>>;
  /** One-line verdict, derived from the values ("the last VM fails before it runs"). */
  readonly verdict: string;
  /** Details worth reading under the table (the guest's last console lines, the error QEMU printed). */
  readonly notes: readonly string[];
  /** The run's trace, when {@link ScenarioRunOptions.trace} asked for one (not part of the JSON output). */
  readonly tracer?: Tracer;
  /** Several traces of one remedy, by part ("edge", "level"), when the remedy runs several hosts. */
  readonly traces?: Readonly<Record<string, Tracer>>;
  /** A host resource grid sampled over the run (seed 000: harts × VS-files), when the scenario measures one (not part of the JSON output). */
  readonly occupancy?: OccupancySeries;
  /** Measured tables of state that is a grid (seed 001: vLPI ↔ host irq mappings over time; seed 002: CPU slots and their GICR_TYPER), when the scenario has any (not part of the JSON output). */
  readonly tables?: readonly DetailTable[];
  /** Step-by-step schedules (seed 004's counterexamples with the model's state after each step; seed 003's interrupt paths, when traced) (not part of the JSON output). */
  readonly schedules?: readonly StepSchedule[];
}

/** Options every scenario run takes. */
export interface ScenarioRunOptions {
  /** Seed of the deterministic random streams. */
  readonly seed: number;
  /** Record a trace into this tracer (one tracer per remedy run), for scenarios that run on a clock the caller owns. */
  readonly tracer?: Tracer;
  /**
   * Record a trace on the run's own clock and return it in {@link RemedyRow.tracer}
   * (scenarios whose machines create their own host and tracer).
   */
  readonly trace?: boolean;
  /** Scenario-specific sizes ("harts", "geilen", "vms"), validated by the scenario. */
  readonly sizes?: Readonly<Record<string, number>>;
  /**
   * Boot every guest in its loop form (`loopFormImage`): each repeat,
   * sequence, poll and call the guest yields runs as the loop of yields it
   * stands for, op by op, instead of through the run loop's fast paths. The
   * row is the same (the fast paths change no virtual time, exit or trace),
   * only slower to get; a check of that claim on the scenario's own machines.
   * Scenarios whose runs boot no guest program ignore it.
   */
  readonly loopForm?: boolean;
}

/** A runnable scenario. */
export interface Scenario {
  /** Short name (`vsfile-exhaustion`); seeds are also found by number ("000"). */
  readonly name: string;
  /** The seed thread's number, for the five seeds. */
  readonly seed?: string;
  /** One-line title. */
  readonly title: string;
  /** What the thread argued, the command lines used, what the columns mean: the text of `irqlab scenario explain`. */
  readonly explain: string;
  /** The remedies, in the order the table lists them; the first is the baseline. */
  readonly remedies: readonly ScenarioRemedy[];
  readonly columns: readonly ScenarioColumn[];
  /** Sizes the scenario accepts, with defaults. */
  readonly sizes?: Readonly<Record<string, number>>;
  /** Runs one remedy. Deterministic: same options, same row (and same trace). */
  run(remedy: string, options: ScenarioRunOptions): RemedyRow;
}
