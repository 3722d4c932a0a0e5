/**
 * Seed 000's occupancy heat maps, one per remedy side by side: time across,
 * one line per hart × guest interrupt file (HGEI line) down, each cell
 * coloured by the VM that owned the file at that sample (grey: free).
 * Refused entries (no free VS-file on a hart) are red marks on that hart's
 * block; the first one is drawn larger: the failing entry of the thread.
 * The grid is OccupancySeries from @irqlab/scenarios, measured from the HGEI
 * allocator during the run.
 */

import type { OccupancySeries } from "@irqlab/scenarios";
import { scaleLinear } from "d3-scale";
import { el } from "../dom.js";
import type { RemedyOccupancy } from "../worker/protocol.js";
import { formatUs } from "./timeline-draw.js";

const CELL_H = 4;
const HART_GAP = 2;
const PLOT_W = 360;
const LEFT = 52;
const BOTTOM = 18;
const FREE = "#e6e9ee";

/** Owner colours (Tableau 10 without its red, which marks refused entries), then hues far apart. */
const PALETTE = ["#4e79a7", "#f28e2b", "#59a14f", "#b07aa1", "#edc948", "#76b7b2", "#9c755f", "#bab0ac", "#86bcb6", "#8cd17d", "#f1ce63", "#a0cbe8"];

function ownerColor(i: number): string {
  return PALETTE[i] ?? `hsl(${(60 + i * 137.5) % 300} 45% 55%)`;
}

/** Renders one heat map per remedy into `host` (replacing it), with a shared legend. */
export function renderOccupancy(host: HTMLElement, occupancy: readonly RemedyOccupancy[]): void {
  const owners = [...new Set(occupancy.flatMap((o) => o.series.owners))].sort((a, b) => a.localeCompare(b, "en", { numeric: true }));
  const figures = occupancy.map((o) => heatmap(o.remedy, o.series, owners));
  const legend = el("div", { class: "legend" }, ...owners.map((name, i) => el("span", { style: `--c: ${ownerColor(i)}` }, name)), el("span", { style: `--c: ${FREE}` }, "free"), el("span", { style: "--c: #d92d20" }, "refused entry (no free VS-file)"));
  host.replaceChildren(el("div", { class: "heatmaps" }, ...figures), legend);
}

function heatmap(remedy: string, s: OccupancySeries, owners: readonly string[]): HTMLElement {
  const rowsH = s.rows * (s.columns * CELL_H + HART_GAP);
  const width = LEFT + PLOT_W + 4;
  const height = rowsH + BOTTOM;
  const canvas = el("canvas", { role: "img", "aria-label": `${s.title}: ${remedy}` });
  const dpr = window.devicePixelRatio || 1;
  canvas.width = Math.round(width * dpr);
  canvas.height = Math.round(height * dpr);
  canvas.style.width = `${width}px`;
  canvas.style.height = `${height}px`;
  const ctx = canvas.getContext("2d")!;
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  const end = s.times[s.times.length - 1] ?? 0;
  const x = scaleLinear().domain([0, end || 1]).range([LEFT, LEFT + PLOT_W]);
  const colorOf = s.owners.map((name) => ownerColor(owners.indexOf(name)));
  const size = s.rows * s.columns;
  let peak = 0;
  for (let k = 0; k < s.times.length; k++) {
    const x0 = x(s.times[k]!);
    const x1 = k + 1 < s.times.length ? x(s.times[k + 1]!) : LEFT + PLOT_W;
    let used = 0;
    for (let h = 0; h < s.rows; h++) {
      for (let g = 0; g < s.columns; g++) {
        const v = s.cells[k * size + h * s.columns + g]!;
        if (v >= 0) used++;
        ctx.fillStyle = v < 0 ? FREE : colorOf[v]!;
        ctx.fillRect(x0, h * (s.columns * CELL_H + HART_GAP) + g * CELL_H, Math.max(1, x1 - x0), CELL_H - 0.5);
      }
    }
    peak = Math.max(peak, used);
  }
  ctx.font = "10px system-ui, sans-serif";
  ctx.textBaseline = "middle";
  ctx.fillStyle = "#1d2430";
  for (let h = 0; h < s.rows; h++) ctx.fillText(`${s.rowLabel} ${h}`, 2, h * (s.columns * CELL_H + HART_GAP) + (s.columns * CELL_H) / 2);
  // Refused entries: a red tick over the hart's block; the first is the failing entry, drawn larger.
  s.marks.forEach((m, i) => {
    const top = m.row * (s.columns * CELL_H + HART_GAP);
    const px = x(m.time);
    ctx.fillStyle = "#d92d20";
    if (i === 0) {
      ctx.fillRect(px - 1, top - 1, 3, s.columns * CELL_H + 2);
      ctx.beginPath();
      ctx.moveTo(px - 6, Math.max(0, top - 1));
      ctx.lineTo(px + 6, Math.max(0, top - 1));
      ctx.lineTo(px, top + 7);
      ctx.closePath();
      ctx.fill();
      ctx.strokeStyle = "#1d2430";
      ctx.stroke();
    } else ctx.fillRect(px, top, 1, s.columns * CELL_H);
  });
  ctx.fillStyle = "#4a5568";
  ctx.fillText(formatUs(0, end / 1000), LEFT, rowsH + BOTTOM / 2);
  ctx.textAlign = "right";
  ctx.fillText(formatUs(end / 1000, end / 1000), LEFT + PLOT_W, rowsH + BOTTOM / 2);
  const first = s.marks[0];
  const caption = `${remedy}: ${s.rows} ${s.rowLabel}s × ${s.columns} ${s.columnLabel}s, at most ${peak} in use; ${s.marks.length} refused ${s.marks.length === 1 ? "entry" : "entries"}${first === undefined ? "" : ` (first at ${formatUs(first.time / 1000, end / 1000)}: ${first.label})`}`;
  return el(
    "figure",
    { class: "heatmap", "data-remedy": remedy, "data-marks": String(s.marks.length), "data-peak": String(peak) },
    el("figcaption", {}, caption),
    canvas,
  );
}
