/**
 * Runs a scenario's remedies on the same inputs (seed, sizes) and collects
 * one row per remedy into a {@link ScenarioReport}: what `irqlab scenario
 * run` prints as a table or as JSON and writes as a trace.
 */

import type { Tracer } from "@irqlab/sim";
import type { RemedyRow, Scenario, ScenarioColumn } from "../scenario.js";
import { ScenarioError } from "./scenario-error.js";

/** Options of {@link runScenario}. */
export interface RunScenarioOptions {
  /** Remedies to run, in this order (default: all, in the scenario's order). */
  readonly remedies?: readonly string[];
  /** Seed of the random streams (default 0). */
  readonly seed?: number;
  /** Sizes overriding the scenario's defaults. */
  readonly sizes?: Readonly<Record<string, number>>;
  /** Record a trace of each remedy's run. */
  readonly trace?: boolean;
  /** Boot the guests in their loop form (ScenarioRunOptions.loopForm): the same rows, op by op. */
  readonly loopForm?: boolean;
  /**
   * A wall clock in milliseconds (such as `performance.now`). When given,
   * the report says how long each remedy took to run in {@link ScenarioReport.wallMs};
   * the rows, the JSON and the traces never depend on it.
   */
  readonly clock?: () => number;
}

/** The result of running a scenario: its columns and one row per remedy. */
export interface ScenarioReport {
  readonly scenario: Scenario;
  readonly seed: number;
  /** The sizes used (defaults merged with the overrides). */
  readonly sizes: Readonly<Record<string, number>>;
  readonly columns: readonly ScenarioColumn[];
  readonly rows: readonly RemedyRow[];
  /** The traces, when asked for: remedy (or "remedy/part") → tracer, in row order. */
  readonly traces: ReadonlyMap<string, Tracer>;
  /** Wall time each row took, in milliseconds and row order, when a clock was given. */
  readonly wallMs?: readonly number[];
  /** The guests ran in their loop form (RunScenarioOptions.loopForm). */
  readonly loopForm?: true;
}

/** Checks remedy names against the scenario; throws a ScenarioError naming the bad one. */
export function resolveRemedies(scenario: Scenario, names: readonly string[] | undefined): string[] {
  const known = scenario.remedies.map((r) => r.name);
  if (names === undefined || names.length === 0) return known;
  for (const n of names) {
    if (!known.includes(n)) throw new ScenarioError("unknown-remedy", `scenario '${scenario.name}' has no remedy '${n}' (remedies: ${known.join(", ")})`);
  }
  return [...new Set(names)];
}

/** Merges size overrides into the scenario's defaults; unknown names and non-integers are errors. */
export function resolveSizes(scenario: Scenario, overrides: Readonly<Record<string, number>> | undefined): Record<string, number> {
  const sizes: Record<string, number> = { ...(scenario.sizes ?? {}) };
  for (const [k, v] of Object.entries(overrides ?? {})) {
    if (!(k in sizes)) {
      const names = Object.keys(sizes);
      throw new ScenarioError("bad-size", `scenario '${scenario.name}' has no size '${k}'${names.length > 0 ? ` (sizes: ${names.join(", ")})` : " (it takes no sizes)"}`);
    }
    if (!Number.isInteger(v) || v < 0) throw new ScenarioError("bad-size", `size '${k}' must be a non-negative integer, not ${String(v)}`);
    sizes[k] = v;
  }
  return sizes;
}

/** Runs every requested remedy of `scenario` with the same seed and sizes. Deterministic. */
export function runScenario(scenario: Scenario, options: RunScenarioOptions = {}): ScenarioReport {
  const remedies = resolveRemedies(scenario, options.remedies);
  const sizes = resolveSizes(scenario, options.sizes);
  const seed = options.seed ?? 0;
  const rows: RemedyRow[] = [];
  const traces = new Map<string, Tracer>();
  const clock = options.clock;
  const wallMs: number[] = [];
  for (const remedy of remedies) {
    const t0 = clock?.() ?? 0;
    const row = scenario.run(remedy, { seed, sizes, trace: options.trace === true, ...(options.loopForm === true ? { loopForm: true } : {}) });
    if (clock !== undefined) wallMs.push(clock() - t0);
    rows.push(row);
    if (row.tracer !== undefined) traces.set(remedy, row.tracer);
    for (const [part, t] of Object.entries(row.traces ?? {})) traces.set(`${remedy}/${part}`, t);
  }
  return { scenario, seed, sizes, columns: scenario.columns, rows, traces, ...(clock === undefined ? {} : { wallMs }), ...(options.loopForm === true ? { loopForm: true } : {}) };
}
