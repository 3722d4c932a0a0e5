/**
 * Which tracks the timeline shows and where: the filters (track group,
 * track kinds, empty tracks) applied to a TraceModel, laid out as rows —
 * a header per process, then its tracks, each as tall as its span nesting
 * (plus a lane for instants) or a fixed height for counters.
 */

import { trackIsEmpty, type TraceModel, type TraceTrack } from "../trace/trace-model.js";

/** Height of one span level, of the instant lane, of a counter track and of a process header (CSS px). */
export const SPAN_H = 14;
export const INSTANT_H = 7;
export const COUNTER_H = 30;
export const HEADER_H = 18;
/** Span levels drawn per track; deeper spans are left out (the tooltip still finds their parents). */
export const MAX_LEVELS = 4;

/** One row of the layout: a process header or a track. */
export type TimelineRow =
  | { readonly kind: "header"; readonly y: number; readonly h: number; readonly process: string }
  | { readonly kind: "track"; readonly y: number; readonly h: number; readonly track: TraceTrack };

/** The filters of the toolbar. */
export interface TimelineFilter {
  /** Track group (the part of a process name before ": ", one per remedy) or null for all. */
  readonly group: string | null;
  readonly kinds: ReadonlySet<string>;
  readonly showEmpty: boolean;
}

/** The group a process belongs to: "vsfile-exhaustion/none" of "vsfile-exhaustion/none: host". */
export function groupOf(process: string): string {
  const i = process.lastIndexOf(": ");
  return i < 0 ? process : process.slice(0, i);
}

/** The groups of a model, in track order. */
export function groupsOf(model: TraceModel): string[] {
  return [...new Set(model.tracks.map((t) => groupOf(t.process)))];
}

/** The track kinds of a model, in track order. */
export function kindsOf(model: TraceModel): string[] {
  return [...new Set(model.tracks.map((t) => t.kind))];
}

/** Height of a track's row. */
export function trackHeight(t: TraceTrack): number {
  if (t.series.length > 0) return COUNTER_H;
  const levels = t.spanStart.length === 0 ? 0 : Math.min(t.maxDepth + 1, MAX_LEVELS);
  return Math.max(levels * SPAN_H + (t.instantTs.length > 0 ? INSTANT_H : 0), INSTANT_H * 2) + 2;
}

/** Lays out the tracks that pass `filter`; returns the rows and the total height. */
export function layoutRows(model: TraceModel, filter: TimelineFilter): { rows: TimelineRow[]; height: number } {
  const rows: TimelineRow[] = [];
  let y = 0;
  let process: string | undefined;
  for (const t of model.tracks) {
    if (filter.group !== null && groupOf(t.process) !== filter.group) continue;
    if (!filter.kinds.has(t.kind)) continue;
    if (!filter.showEmpty && trackIsEmpty(t)) continue;
    if (t.process !== process) {
      process = t.process;
      rows.push({ kind: "header", y, h: HEADER_H, process });
      y += HEADER_H;
    }
    const h = trackHeight(t);
    rows.push({ kind: "track", y, h, track: t });
    y += h;
  }
  return { rows, height: y };
}
