/**
 * The messages between the page and the scenario worker. Everything that
 * crosses is structured-cloneable data: the catalogue of scenarios, the
 * report as the CLI's `--json` prints it, the trace already read into a
 * {@link TraceModel}, seed 000's occupancy series, the detail tables and the
 * step-by-step schedules.
 */

import type { DetailTable, OccupancySeries, ScenarioReportJson, StepSchedule } from "@irqlab/scenarios";
import type { TraceModel } from "../trace/trace-model.js";

/** A remedy as the picker shows it. */
export interface CatalogueRemedy {
  readonly name: string;
  readonly title: string;
  readonly description: string;
}

/** A registered scenario as the picker shows it. */
export interface CatalogueScenario {
  readonly name: string;
  readonly seed: string | null;
  readonly title: string;
  readonly explain: string;
  readonly remedies: readonly CatalogueRemedy[];
}

/** Page → worker. */
export type WorkerRequest =
  | { readonly type: "run"; readonly scenario: string; readonly remedies: readonly string[]; readonly seed: number }
  | { readonly type: "open-trace"; readonly file: Blob; readonly label: string };

/** One remedy's occupancy grid (seed 000), in row order. */
export interface RemedyOccupancy {
  readonly remedy: string;
  readonly series: OccupancySeries;
}

/** One remedy's measured detail tables (seed 002's CPU slots), in row order. */
export interface RemedyTables {
  readonly remedy: string;
  readonly tables: readonly DetailTable[];
}

/** One remedy's step-by-step schedules (seed 004's counterexamples, seed 003's interrupt paths), in row order. */
export interface RemedySchedules {
  readonly remedy: string;
  readonly schedules: readonly StepSchedule[];
}

/** Worker → page. */
export type WorkerMessage =
  | { readonly type: "catalogue"; readonly scenarios: readonly CatalogueScenario[] }
  | { readonly type: "progress"; readonly remedy: string; readonly index: number; readonly total: number; readonly done: boolean; readonly wallMs?: number }
  | {
      readonly type: "result";
      readonly report: ScenarioReportJson;
      readonly trace: TraceModel;
      readonly occupancy: readonly RemedyOccupancy[];
      readonly tables: readonly RemedyTables[];
      readonly schedules: readonly RemedySchedules[];
      readonly wallMs: readonly number[];
    }
  | { readonly type: "trace"; readonly label: string; readonly trace: TraceModel }
  | { readonly type: "error"; readonly message: string };
