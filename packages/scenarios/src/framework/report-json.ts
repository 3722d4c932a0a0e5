/**
 * `--json`: a report as JSON, and the valibot schema of that JSON (documented
 * in the package README, "JSON output"). The output of one command is one
 * object `{ schema, reports: [...] }`; keys are written in a fixed order, so
 * the same run gives byte-identical text.
 */

import * as v from "valibot";
import type { ScenarioReport } from "./run-scenario.js";

/** The value of the `schema` key. */
export const REPORT_SCHEMA_ID = "irqlab-scenario-report/1";

const ValueSchema = v.union([v.string(), v.number(), v.boolean(), v.null()]);

/** One report (one scenario) in the JSON output. */
export const ScenarioReportJsonSchema = v.strictObject({
  scenario: v.string(),
  seedThread: v.nullable(v.pipe(v.string(), v.regex(/^\d{3}$/))),
  title: v.string(),
  seed: v.pipe(v.number(), v.integer(), v.minValue(0)),
  sizes: v.record(v.string(), v.pipe(v.number(), v.integer())),
  columns: v.array(
    v.strictObject({
      key: v.string(),
      title: v.string(),
      unit: v.nullable(v.string()),
      description: v.string(),
    }),
  ),
  rows: v.array(
    v.strictObject({
      remedy: v.string(),
      title: v.string(),
      values: v.record(v.string(), ValueSchema),
      verdict: v.string(),
      notes: v.array(v.string()),
    }),
  ),
});

/** The whole JSON output of `irqlab scenario run --json`. */
export const ScenarioOutputJsonSchema = v.strictObject({
  schema: v.literal(REPORT_SCHEMA_ID),
  reports: v.array(ScenarioReportJsonSchema),
});

/** One report as JSON data. */
export type ScenarioReportJson = v.InferOutput<typeof ScenarioReportJsonSchema>;
/** The JSON output. */
export type ScenarioOutputJson = v.InferOutput<typeof ScenarioOutputJsonSchema>;

/** A report as JSON data (traces are not part of it). Every column key is present in every row's values. */
export function reportToJson(r: ScenarioReport): ScenarioReportJson {
  return {
    scenario: r.scenario.name,
    seedThread: r.scenario.seed ?? null,
    title: r.scenario.title,
    seed: r.seed,
    sizes: { ...r.sizes },
    columns: r.columns.map((c) => ({ key: c.key, title: c.title, unit: c.unit ?? null, description: c.description })),
    rows: r.rows.map((row) => {
      const values: Record<string, string | number | boolean | null> = {};
      for (const c of r.columns) values[c.key] = row.values[c.key] ?? null;
      return {
        remedy: row.remedy,
        title: r.scenario.remedies.find((x) => x.name === row.remedy)?.title ?? row.remedy,
        values,
        verdict: row.verdict,
        notes: [...row.notes],
      };
    }),
  };
}

/** The text of `--json` for some reports (two-space indented, ending in a newline). */
export function reportsToJsonText(reports: readonly ScenarioReport[]): string {
  const out: ScenarioOutputJson = { schema: REPORT_SCHEMA_ID, reports: reports.map(reportToJson) };
  return JSON.stringify(out, null, 2) + "\n";
}
