/**
 * Painting the timeline on a 2D canvas: the time axis, the visible rows
 * (spans by nesting level, instants as ticks, counters as step lines), and
 * flow arrows. Only what falls in the visible window is visited (binary
 * search into each track's sorted arrays), and marks narrower than a pixel
 * are painted once per pixel, so a trace of 100k events redraws at
 * interactive rates.
 */

import type { ScaleLinear } from "d3-scale";
import { firstSpanEndingAfter, lowerBound, type TraceModel, type TraceTrack } from "../trace/trace-model.js";
import { COUNTER_H, INSTANT_H, MAX_LEVELS, SPAN_H, type TimelineRow } from "./timeline-layout.js";

/** Width of the track-name column and height of the time axis (CSS px). */
export const LABEL_W = 200;
export const AXIS_H = 22;

/** What one paint needs. */
export interface PaintFrame {
  readonly ctx: CanvasRenderingContext2D;
  readonly width: number;
  readonly height: number;
  readonly scrollTop: number;
  readonly x: ScaleLinear<number, number>;
  readonly model: TraceModel;
  readonly rows: readonly TimelineRow[];
  readonly colors: readonly string[];
}

/** A colour per event name, stable across runs (hue from a string hash). */
export function nameColors(names: readonly string[]): string[] {
  return names.map((n) => {
    let h = 2166136261;
    for (let i = 0; i < n.length; i++) h = Math.imul(h ^ n.charCodeAt(i), 16777619);
    return `hsl(${(h >>> 0) % 360} 55% 62%)`;
  });
}

/** A time in µs as a short label in the unit that suits `span` (the visible width in µs). */
export function formatUs(us: number, span: number): string {
  if (span < 5) return `${(us * 1000).toFixed(span < 0.5 ? 1 : 0)} ns`;
  if (span < 5_000) return `${us.toFixed(span < 50 ? 2 : span < 500 ? 1 : 0)} µs`;
  if (span < 5_000_000) return `${(us / 1000).toFixed(span < 50_000 ? 3 : 1)} ms`;
  return `${(us / 1_000_000).toFixed(3)} s`;
}

/** Paints one frame; returns how many marks (spans, instants, counter steps) were painted. */
export function paintTimeline(f: PaintFrame): number {
  const { ctx, width, height, scrollTop, x, rows } = f;
  ctx.clearRect(0, 0, width, height);
  ctx.font = "11px system-ui, sans-serif";
  ctx.textBaseline = "middle";
  const [d0, d1] = x.domain() as [number, number];
  let painted = 0;
  const rowY = new Map<number, number>();
  for (const r of rows) {
    const top = AXIS_H + r.y - scrollTop;
    if (r.kind === "track") rowY.set(r.track.id, top + r.h / 2);
    if (top + r.h < AXIS_H || top > height) continue;
    if (r.kind === "header") {
      ctx.fillStyle = "#eef1f5";
      ctx.fillRect(0, top, width, r.h);
      ctx.fillStyle = "#1d2430";
      ctx.font = "bold 11px system-ui, sans-serif";
      ctx.fillText(r.process, 4, top + r.h / 2, width - 8);
      ctx.font = "11px system-ui, sans-serif";
      continue;
    }
    ctx.save();
    ctx.beginPath();
    ctx.rect(LABEL_W, Math.max(top, AXIS_H), width - LABEL_W, r.h);
    ctx.clip();
    painted += r.track.series.length > 0 ? paintCounter(f, r.track, top, d0, d1) : paintTrack(f, r.track, top, d0, d1);
    ctx.restore();
    ctx.strokeStyle = "#edf0f4";
    ctx.beginPath();
    ctx.moveTo(0, top + r.h - 0.5);
    ctx.lineTo(width, top + r.h - 0.5);
    ctx.stroke();
    ctx.fillStyle = "#fff";
    ctx.fillRect(0, top, LABEL_W, r.h - 1);
    ctx.fillStyle = "#1d2430";
    ctx.fillText(r.track.name, 8, top + Math.min(r.h / 2, 9), LABEL_W - 12);
  }
  painted += paintFlows(f, rowY, d0, d1);
  paintAxis(f, d0, d1);
  return painted;
}

function paintTrack(f: PaintFrame, t: TraceTrack, top: number, d0: number, d1: number): number {
  const { ctx, x, colors, model } = f;
  let painted = 0;
  const lastPx = [-1, -1, -1, -1];
  for (let i = firstSpanEndingAfter(t, d0); i < t.spanStart.length; i++) {
    const s = t.spanStart[i]!;
    if (s > d1) break;
    const depth = t.spanDepth[i]!;
    if (depth >= MAX_LEVELS) continue;
    const x0 = Math.max(LABEL_W, x(s));
    const x1 = Math.min(f.width, x(s + t.spanDur[i]!));
    if (x1 - x0 < 1 && Math.floor(x0) <= lastPx[depth]!) continue;
    const w = Math.max(1, x1 - x0);
    const y = top + 1 + depth * SPAN_H;
    ctx.fillStyle = colors[t.spanName[i]!]!;
    ctx.fillRect(x0, y, w, SPAN_H - 1);
    lastPx[depth] = Math.floor(x0 + w);
    painted++;
    if (w > 40) {
      ctx.fillStyle = "#1d2430";
      ctx.fillText(model.names[t.spanName[i]!]!, x0 + 3, y + SPAN_H / 2, w - 6);
    }
  }
  if (t.instantTs.length > 0) {
    const levels = t.spanStart.length === 0 ? 0 : Math.min(t.maxDepth + 1, MAX_LEVELS);
    const y = top + 1 + levels * SPAN_H;
    let last = -1;
    for (let i = lowerBound(t.instantTs, d0); i < t.instantTs.length; i++) {
      const ts = t.instantTs[i]!;
      if (ts > d1) break;
      const px = Math.round(x(ts));
      if (px === last) continue;
      last = px;
      ctx.fillStyle = colors[t.instantName[i]!]!;
      ctx.fillRect(px - 1, y, 2, INSTANT_H * (levels === 0 ? 2 : 1) - 1);
      painted++;
    }
  }
  return painted;
}

function paintCounter(f: PaintFrame, t: TraceTrack, top: number, d0: number, d1: number): number {
  const { ctx, x } = f;
  let painted = 0;
  const h = COUNTER_H - 6;
  t.series.forEach((s, k) => {
    const span = s.max - s.min || 1;
    const yOf = (v: number): number => top + 3 + h - ((v - s.min) / span) * h;
    ctx.strokeStyle = `hsl(${(210 + k * 67) % 360} 60% 42%)`;
    ctx.beginPath();
    const i0 = Math.max(0, lowerBound(s.ts, d0) - 1);
    let first = true;
    let y = 0;
    for (let i = i0; i < s.ts.length; i++) {
      const px = Math.max(LABEL_W, x(s.ts[i]!));
      const ny = yOf(s.value[i]!);
      if (first) ctx.moveTo(px, ny);
      else {
        ctx.lineTo(px, y);
        ctx.lineTo(px, ny);
      }
      first = false;
      y = ny;
      painted++;
      if (s.ts[i]! > d1) break;
    }
    if (!first) ctx.lineTo(f.width, y);
    ctx.stroke();
    ctx.fillStyle = ctx.strokeStyle;
    ctx.fillText(`${s.name} ${s.min}…${s.max}`, LABEL_W - 90, top + 8 + k * 10, 86);
  });
  return painted;
}

function paintFlows(f: PaintFrame, rowY: ReadonlyMap<number, number>, d0: number, d1: number): number {
  const { ctx, x } = f;
  let painted = 0;
  ctx.save();
  ctx.beginPath();
  ctx.rect(LABEL_W, AXIS_H, f.width - LABEL_W, f.height - AXIS_H);
  ctx.clip();
  ctx.strokeStyle = "rgba(29, 36, 48, 0.7)";
  ctx.fillStyle = ctx.strokeStyle;
  for (const fl of f.model.flows) {
    if (Math.max(fl.fromTs, fl.toTs) < d0 || Math.min(fl.fromTs, fl.toTs) > d1) continue;
    const y0 = rowY.get(fl.fromTrack);
    const y1 = rowY.get(fl.toTrack);
    if (y0 === undefined || y1 === undefined) continue;
    const x0 = x(fl.fromTs);
    const x1 = x(fl.toTs);
    ctx.beginPath();
    ctx.moveTo(x0, y0);
    ctx.bezierCurveTo(x0 + 20, y0, x1 - 20, y1, x1, y1);
    ctx.stroke();
    ctx.beginPath();
    ctx.moveTo(x1, y1);
    ctx.lineTo(x1 - 6, y1 - 3);
    ctx.lineTo(x1 - 6, y1 + 3);
    ctx.fill();
    painted++;
  }
  ctx.restore();
  return painted;
}

function paintAxis(f: PaintFrame, d0: number, d1: number): void {
  const { ctx, x, width, height } = f;
  ctx.fillStyle = "#f7f8fa";
  ctx.fillRect(0, 0, width, AXIS_H);
  ctx.strokeStyle = "#d8dce3";
  ctx.fillStyle = "#4a5568";
  ctx.textAlign = "center";
  for (const tick of x.ticks(Math.max(2, Math.floor((width - LABEL_W) / 110)))) {
    const px = Math.round(x(tick)) + 0.5;
    if (px < LABEL_W) continue;
    ctx.beginPath();
    ctx.moveTo(px, AXIS_H - 5);
    ctx.lineTo(px, height);
    ctx.globalAlpha = 0.35;
    ctx.stroke();
    ctx.globalAlpha = 1;
    ctx.fillText(formatUs(tick, d1 - d0), px, AXIS_H / 2);
  }
  ctx.textAlign = "left";
  ctx.fillText(`${formatUs(d1 - d0, d1 - d0)} shown`, 6, AXIS_H / 2);
}
