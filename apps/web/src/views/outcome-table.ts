/**
 * The outcome table: the remedies side by side, one line per measured
 * quantity, as `irqlab scenario run --compare` prints it (values formatted
 * by the same formatValue, units included), then each remedy's verdict and
 * notes. Every value cell carries the raw JSON value (`data-value`) and its
 * remedy and column key, so what the page shows can be checked against
 * `--json`.
 */

import { formatValue, type ScenarioReportJson } from "@irqlab/scenarios";
import { el } from "../dom.js";

/** Renders `report` into `host`, replacing what was there. */
export function renderOutcomeTable(host: HTMLElement, report: ScenarioReportJson, wallMs: readonly number[]): void {
  const seedThread = report.seedThread === null ? "" : `seed ${report.seedThread}: `;
  const sizes = Object.entries(report.sizes)
    .map(([k, v]) => `${k}=${v}`)
    .join(" ");
  const heading = el("p", { class: "heading" }, `${seedThread}${report.title} [${report.scenario}] (seed ${report.seed}${sizes === "" ? "" : `; ${sizes}`})`);

  const head = el("tr", {}, el("th", {}, ""), ...report.rows.map((r) => el("th", { scope: "col", title: r.title, "data-remedy": r.remedy }, r.remedy)));
  const body = el("tbody");
  for (const c of report.columns) {
    const tr = el("tr", { "data-key": c.key }, el("th", { scope: "row", title: c.description }, c.title));
    for (const r of report.rows) {
      const v = r.values[c.key] ?? null;
      tr.append(el("td", { class: typeof v === "number" ? "num" : "", "data-remedy": r.remedy, "data-key": c.key, "data-value": JSON.stringify(v) }, formatValue(v, c.unit ?? undefined)));
    }
    body.append(tr);
  }
  body.append(el("tr", { class: "verdicts" }, el("th", { scope: "row" }, "verdict"), ...report.rows.map((r) => el("td", { class: "verdict", "data-remedy": r.remedy }, r.verdict))));
  if (wallMs.length === report.rows.length) {
    const cells = wallMs.map((ms) => el("td", { class: "num wall" }, `${ms.toFixed(0)} ms`));
    body.append(el("tr", { class: "wall", title: "wall time in this browser (not part of the report)" }, el("th", { scope: "row" }, "wall time"), ...cells));
  }
  const table = el("table", { class: "outcome" }, el("thead", {}, head), body);
  const notes = report.rows.flatMap((r) => r.notes.map((n) => el("li", { "data-remedy": r.remedy }, `${r.remedy}: ${n}`)));
  host.replaceChildren(heading, table, notes.length > 0 ? el("details", {}, el("summary", {}, `notes (${notes.length})`), el("ul", { class: "notes" }, ...notes)) : "");
}
