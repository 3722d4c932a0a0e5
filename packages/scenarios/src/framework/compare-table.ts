/**
 * `--compare`: the remedies side by side as a plain-text table, one column
 * per remedy and one line per measured quantity (with its unit), then one
 * verdict line per remedy and the notes. Columns are padded with spaces so
 * the table lines up in any monospace terminal; no colours, no box drawing.
 */

import type { ScenarioValue } from "../scenario.js";
import type { ScenarioReport } from "./run-scenario.js";

/** A value as the table shows it: numbers as measured, booleans yes/no, null "n/a". */
export function formatValue(v: ScenarioValue | undefined, unit?: string): string {
  if (v === null || v === undefined) return "n/a";
  if (typeof v === "boolean") return v ? "yes" : "no";
  if (typeof v === "number") {
    const s = Number.isInteger(v) ? String(v) : v.toFixed(2);
    return unit === undefined || unit === "" ? s : `${s} ${unit}`;
  }
  return v;
}

/** The heading line of a report: scenario, seed and sizes. */
export function reportHeading(r: ScenarioReport): string {
  const s = r.scenario;
  const sizes = Object.entries(r.sizes)
    .map(([k, v]) => `${k}=${v}`)
    .join(" ");
  return `${s.seed === undefined ? "" : `seed ${s.seed}: `}${s.title} [${s.name}] (seed ${r.seed}${sizes === "" ? "" : `; ${sizes}`})`;
}

/** Widest cell of the table; longer values are cut (the JSON output has them whole). */
export const MAX_CELL = 60;

function cell(s: string): string {
  return s.length <= MAX_CELL ? s : `${s.slice(0, MAX_CELL - 3)}...`;
}

function pad(s: string, w: number): string {
  return s + " ".repeat(Math.max(0, w - s.length));
}

/** Renders the side-by-side comparison of every row of `r`. Lines end in "\n". */
export function renderCompare(r: ScenarioReport): string {
  const head = ["", ...r.rows.map((row) => row.remedy)];
  const lines: string[][] = [head];
  for (const c of r.columns) lines.push([c.title, ...r.rows.map((row) => cell(formatValue(row.values[c.key], c.unit)))]);
  const widths = head.map((_, i) => Math.max(...lines.map((l) => l[i]!.length)));
  let out = reportHeading(r) + "\n\n";
  for (const l of lines) out += l.map((cell, i) => pad(cell, widths[i]!)).join("  ").trimEnd() + "\n";
  out += "\n";
  const w = Math.max(...r.rows.map((row) => row.remedy.length));
  for (const row of r.rows) out += `${pad(row.remedy, w)}  ${row.verdict}\n`;
  const notes = r.rows.flatMap((row) => row.notes.map((n) => `  ${row.remedy}: ${n}`));
  if (notes.length > 0) out += "\nnotes:\n" + notes.join("\n") + "\n";
  return out;
}

/** Renders one row on its own (without --compare): the values one per line, then the verdict and notes. */
export function renderRow(r: ScenarioReport, remedy: string): string {
  const row = r.rows.find((x) => x.remedy === remedy);
  if (row === undefined) return "";
  const w = Math.max(...r.columns.map((c) => c.title.length));
  let out = `${reportHeading(r)}\nremedy ${row.remedy}: ${r.scenario.remedies.find((x) => x.name === remedy)?.title ?? ""}\n`;
  for (const c of r.columns) out += `  ${pad(c.title, w)}  ${formatValue(row.values[c.key], c.unit)}\n`;
  out += `  verdict: ${row.verdict}\n`;
  for (const n of row.notes) out += `  note: ${n}\n`;
  return out;
}
