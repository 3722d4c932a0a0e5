/**
 * @irqlab/scenarios — the seed threads as runnable scenarios: real irqlab
 * machines, guests and timelines run once per remedy on the same inputs,
 * compared in measured tables, written as JSON or Chrome traces; and user
 * scenario files (YAML or JSON).
 *
 * @packageDocumentation
 */

/** What a scenario is: its remedies, columns, sizes and run(). */
export type { Scenario, ScenarioRemedy, ScenarioColumn, ScenarioValue, RemedyRow, ScenarioRunOptions } from "./scenario.js";

/** The registered scenarios (by seed) and lookup by name or seed number. */
export { scenarios, findScenario } from "./registry.js";

/** Runs a scenario's remedies on the same seed and sizes; checks remedy and size names. */
export { runScenario, resolveRemedies, resolveSizes, type RunScenarioOptions, type ScenarioReport } from "./framework/run-scenario.js";
/** The error of a bad scenario name, remedy, size or file (one line; the CLI exits 2). */
export { ScenarioError, type ScenarioErrorCode } from "./framework/scenario-error.js";
/** `--compare`: the side-by-side table; one remedy's values; value formatting. */
export { renderCompare, renderRow, reportHeading, formatValue } from "./framework/compare-table.js";
/** `--json`: the output and its valibot schema (README "JSON output"). */
export {
  reportToJson,
  reportsToJsonText,
  REPORT_SCHEMA_ID,
  ScenarioOutputJsonSchema,
  ScenarioReportJsonSchema,
  type ScenarioOutputJson,
  type ScenarioReportJson,
} from "./framework/report-json.js";
/** `--trace FILE`: every remedy's trace in one Chrome Trace Event file, one process group per remedy. */
export { reportsToChromeTrace, reportsToChromeTraceJson } from "./framework/scenario-trace.js";
/** Run bounds: a virtual-time limit and a stall verdict for scenarios built on a MachineHost. */
export { runBounded, type BoundedClock, type RunBoundsOptions, type RunBoundsEnd } from "./framework/run-bounds.js";
/** A host resource grid sampled over a run (seed 000's harts × VS-files), carried in a remedy row. */
export type { OccupancySeries, OccupancyMark } from "./framework/occupancy-series.js";
/** A measured table carried in a remedy row (seed 001's vLPI ↔ host irq mappings over time, seed 002's CPU slots and GICR_TYPER per slot). */
export type { DetailTable } from "./framework/detail-table.js";
/** A step-by-step schedule carried in a remedy row (seed 004's counterexamples, seed 003's interrupt paths). */
export type { StepSchedule, ScheduleStep, StepSubjectState, ScheduleMarkKind } from "./framework/step-schedule.js";
/** Latency samples with nearest-rank percentiles. */
export { LatencySamples } from "./framework/latency-stats.js";

/** Seed 000: VS-file exhaustion (RISC-V). */
export { vsFileExhaustion } from "./seed-000/vsfile-exhaustion.js";
/** Seed 001: shared vLPI under GICv4 (arm64), and the run behind it. */
export { sharedVlpiScenario } from "./seed-001/scenario.js";
export {
  runSharedVlpi,
  SHARED_VLPI_DEVID,
  SHARED_VLPI_CONFIG,
  SHARED_VLPI_QUEUE,
  SHARED_VLPI_VECTORS,
  type SharedVlpiReport,
  type SharedVlpiClock,
} from "./seed-001/shared-vlpi.js";
export { runSharedVlpiMachine, sharedVlpiCommandLine, SHARED_VLPI_MACHINE_BUDGET_NS, type SharedVlpiMachineReport } from "./seed-001/shared-vlpi-machine.js";
/** Seed 003: irqfd before the vgic is ready (arm64). */
/** Seed 002: Arm vCPU hotplug (pre-create and park vs create at plug), and the run behind it. */
export { armVcpuHotplug, vcpuHotplugValues } from "./seed-002/vcpu-hotplug.js";
export { runVcpuHotplug, vcpuHotplugCommandLine, HOTPLUG_SLOT, type HotplugMode, type VcpuHotplugResult } from "./seed-002/vcpu-hotplug-run.js";
export { irqfdBeforeVgicInit } from "./seed-003/irqfd-before-vgic-init.js";
/** Seed 004: kvm_arch_vcpu_runnable() on the kvm model, and the run behind it. */
export { runnableScenario } from "./seed-004/scenario.js";
export { runRunnableCase, RUNNABLE_CASES, CASE_BUDGET, CASE_EVENT_AT, type RunnableCase, type RunnableCaseResult, type CaseTracer } from "./seed-004/runnable-cases.js";
/** The missed-wake-up explorer (seed 004): the protocol model, the search, its scenario. */
export { wakeupExplorerScenario } from "./seed-004/explorer-scenario.js";
export {
  exploreWakeups,
  formatExplorerReport,
  type ExploreOptions,
  type WakeupExplorerReport,
  type WakeupViolation,
  type ViolationKind,
} from "./seed-004/wakeup-explorer.js";
export {
  WAKEUP_CONDITIONS,
  DEFAULT_MODEL_CONFIG,
  type WakeupCondition,
  type ModelConfig,
  type ModelVcpuConfig,
} from "./seed-004/wakeup-model.js";

/** User scenario files: the schema, loading with path-named errors, and the scenario of a file. */
export { UserScenarioSchema, MEASURES, type UserScenarioFile, type UserMeasure } from "./user-file/user-file-schema.js";
/** Reading a file from disk is in `@irqlab/scenarios/node` (node:fs), so that this entry runs in a browser. */
export { parseUserScenario, validateUserScenario, USER_RUN_LIMIT_NS } from "./user-file/user-file-load.js";
export { userScenario } from "./user-file/user-scenario.js";
