/**
 * The detail tables some scenarios measure beside their values (seed 001:
 * the vLPI ↔ host IRQ mappings over time; seed 002: each CPU slot's state and
 * its redistributor's GICR_TYPER at boot, after device_add and after
 * device_del): for each table, the remedies side by side.
 */

import type { DetailTable } from "@irqlab/scenarios";
import { el } from "../dom.js";
import type { RemedyTables } from "../worker/protocol.js";

/** Renders every remedy's tables into `host` (replacing it), grouped by table title. */
export function renderDetailTables(host: HTMLElement, all: readonly RemedyTables[]): void {
  const titles = [...new Set(all.flatMap((r) => r.tables.map((t) => t.title)))];
  host.replaceChildren(
    ...titles.map((title) =>
      el(
        "div",
        { class: "detail-group" },
        el("h3", {}, title),
        el("div", { class: "detail-tables" }, ...all.flatMap((r) => r.tables.filter((t) => t.title === title).map((t) => table(r.remedy, t)))),
      ),
    ),
  );
}

function table(remedy: string, t: DetailTable): HTMLElement {
  return el(
    "figure",
    { class: "detail", "data-remedy": remedy, "data-title": t.title },
    el("figcaption", {}, remedy),
    el("table", { class: "outcome" }, el("thead", {}, el("tr", {}, ...t.columns.map((c) => el("th", { scope: "col" }, c)))), el("tbody", {}, ...t.rows.map((r) => el("tr", {}, ...r.map((c) => el("td", {}, c)))))),
  );
}
