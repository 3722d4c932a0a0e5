/**
 * The public API of @irqlab/scenarios as a user compiles against it: the
 * value exports, what a scenario is, running one and rendering or serialising
 * the report, user scenario files, and misuse the types reject. Checked
 * (never run) by vitest's typecheck project against the built declarations,
 * and by this package's `tsc --noEmit` against the sources.
 */
import * as scenariosApi from "@irqlab/scenarios";
import {
  REPORT_SCHEMA_ID,
  ScenarioError,
  findScenario,
  parseUserScenario,
  renderCompare,
  reportToJson,
  reportsToJsonText,
  runScenario,
  scenarios,
  userScenario,
  type RemedyRow,
  type RunScenarioOptions,
  type Scenario,
  type ScenarioErrorCode,
  type ScenarioReport,
  type ScenarioReportJson,
  type ScenarioRunOptions,
  type ScenarioValue,
  type UserScenarioFile,
} from "@irqlab/scenarios";
import type { IrqlabError, Tracer } from "@irqlab/sim";
import { describe, expectTypeOf, test } from "vitest";

/** Every value export: adding or removing one fails here until this list is updated. */
type ValueExports =
  | "CASE_BUDGET" | "CASE_EVENT_AT" | "DEFAULT_MODEL_CONFIG" | "HOTPLUG_SLOT" | "LatencySamples" | "MEASURES"
  | "REPORT_SCHEMA_ID" | "RUNNABLE_CASES" | "SHARED_VLPI_CONFIG" | "SHARED_VLPI_DEVID"
  | "SHARED_VLPI_MACHINE_BUDGET_NS" | "SHARED_VLPI_QUEUE" | "SHARED_VLPI_VECTORS" | "ScenarioError"
  | "ScenarioOutputJsonSchema" | "ScenarioReportJsonSchema" | "USER_RUN_LIMIT_NS" | "UserScenarioSchema"
  | "WAKEUP_CONDITIONS" | "armVcpuHotplug" | "exploreWakeups" | "findScenario" | "formatExplorerReport"
  | "formatValue" | "irqfdBeforeVgicInit" | "parseUserScenario" | "renderCompare" | "renderRow"
  | "reportHeading" | "reportToJson" | "reportsToChromeTrace" | "reportsToChromeTraceJson"
  | "reportsToJsonText" | "resolveRemedies" | "resolveSizes" | "runBounded" | "runRunnableCase"
  | "runScenario" | "runSharedVlpi" | "runSharedVlpiMachine" | "runVcpuHotplug" | "runnableScenario"
  | "scenarios" | "sharedVlpiCommandLine" | "sharedVlpiScenario" | "userScenario" | "validateUserScenario"
  | "vcpuHotplugCommandLine" | "vcpuHotplugValues" | "vsFileExhaustion" | "wakeupExplorerScenario";

describe("@irqlab/scenarios public API", () => {
  test("the value exports are exactly the pinned list", () => {
    expectTypeOf<Exclude<keyof typeof scenariosApi, ValueExports>>().toBeNever(); // exported, not pinned
    expectTypeOf<Exclude<ValueExports, keyof typeof scenariosApi>>().toBeNever(); // pinned, not exported
  });

  test("a scenario: remedies and columns, run once per remedy to a row", () => {
    expectTypeOf(scenarios).toEqualTypeOf<readonly Scenario[]>();
    expectTypeOf(findScenario).toEqualTypeOf<(nameOrSeed: string) => Scenario | undefined>();
    expectTypeOf<Scenario["run"]>().toEqualTypeOf<(remedy: string, options: ScenarioRunOptions) => RemedyRow>();
    expectTypeOf<ScenarioRunOptions["seed"]>().toEqualTypeOf<number>();
    expectTypeOf<ScenarioRunOptions["loopForm"]>().toEqualTypeOf<boolean | undefined>();
    expectTypeOf<RemedyRow["values"]>().toEqualTypeOf<Readonly<Record<string, ScenarioValue>>>();
    expectTypeOf<ScenarioValue>().toEqualTypeOf<string | number | boolean | null>();
    expectTypeOf<RemedyRow["tracer"]>().toEqualTypeOf<Tracer | undefined>();
  });

  test("runScenario and what a report becomes: a table, JSON, a schema id", () => {
    expectTypeOf(runScenario).toEqualTypeOf<(scenario: Scenario, options?: RunScenarioOptions) => ScenarioReport>();
    expectTypeOf<RunScenarioOptions["remedies"]>().toEqualTypeOf<readonly string[] | undefined>();
    expectTypeOf<RunScenarioOptions["sizes"]>().toEqualTypeOf<Readonly<Record<string, number>> | undefined>();
    expectTypeOf<RunScenarioOptions["loopForm"]>().toEqualTypeOf<boolean | undefined>();
    expectTypeOf<ScenarioReport["rows"]>().toEqualTypeOf<readonly RemedyRow[]>();
    expectTypeOf(renderCompare).toEqualTypeOf<(r: ScenarioReport) => string>();
    expectTypeOf(reportToJson).toEqualTypeOf<(r: ScenarioReport) => ScenarioReportJson>();
    expectTypeOf(reportsToJsonText).toEqualTypeOf<(reports: readonly ScenarioReport[]) => string>();
    expectTypeOf<typeof REPORT_SCHEMA_ID>().toEqualTypeOf<"irqlab-scenario-report/1">();
    const s = findScenario("003");
    // @ts-expect-error -- findScenario answers undefined for an unknown name: check before running
    runScenario(s);
    // @ts-expect-error -- the seed is a number
    if (s !== undefined) runScenario(s, { seed: "0" });
    // @ts-expect-error -- the option is remedies (names), not remedy
    if (s !== undefined) runScenario(s, { remedy: "lazy-init" });
  });

  test("ScenarioError names what was wrong; user files parse to a scenario", () => {
    expectTypeOf<ScenarioError>().toExtend<IrqlabError>();
    expectTypeOf<ScenarioError["code"]>().toEqualTypeOf<ScenarioErrorCode>();
    expectTypeOf<ScenarioErrorCode>().toEqualTypeOf<"unknown-scenario" | "unknown-remedy" | "bad-size" | "bad-file">();
    expectTypeOf(parseUserScenario).toEqualTypeOf<(text: string, file: string) => UserScenarioFile>();
    expectTypeOf(userScenario).toEqualTypeOf<(f: UserScenarioFile) => Scenario>();
    // @ts-expect-error -- the codes are unknown-scenario, unknown-remedy, bad-size and bad-file
    new ScenarioError("bad-seed", "seed 5 is not a seed thread");
  });
});
