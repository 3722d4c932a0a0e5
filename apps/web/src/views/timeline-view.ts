/**
 * The timeline: one row per host CPU, vCPU, device and counter track of a
 * trace, grouped by process (one group of processes per remedy), with the
 * toolbar's filters. Zoom and pan come from d3-zoom (drag to pan,
 * Ctrl/⌘ + wheel or the buttons to zoom; the plain wheel scrolls the
 * tracks) on a d3-scale time axis; painting is timeline-draw.ts.
 */

import { scaleLinear } from "d3-scale";
import { select } from "d3-selection";
import { zoom, zoomIdentity, type D3ZoomEvent, type ZoomBehavior, type ZoomTransform } from "d3-zoom";
import { el } from "../dom.js";
import { firstSpanEndingAfter, lowerBound, sparseText, type TraceModel, type TraceTrack } from "../trace/trace-model.js";
import { AXIS_H, LABEL_W, formatUs, nameColors, paintTimeline } from "./timeline-draw.js";
import { MAX_LEVELS, SPAN_H, groupsOf, kindsOf, layoutRows, type TimelineFilter, type TimelineRow } from "./timeline-layout.js";

const FRAME_H = 560;

/** A timeline bound to a host element; {@link show} replaces the trace it draws. */
export class TimelineView {
  readonly #host: HTMLElement;
  readonly #frame: HTMLDivElement;
  readonly #canvas: HTMLCanvasElement;
  readonly #spacer: HTMLDivElement;
  readonly #toolbar: HTMLDivElement;
  readonly #tip: HTMLDivElement;
  readonly #zoom: ZoomBehavior<HTMLCanvasElement, unknown>;
  #model: TraceModel | undefined;
  #colors: string[] = [];
  #filter: TimelineFilter = { group: null, kinds: new Set(), showEmpty: false };
  #rows: TimelineRow[] = [];
  #transform: ZoomTransform = zoomIdentity;
  #width = 800;
  #pending = false;

  constructor(host: HTMLElement) {
    this.#host = host;
    this.#toolbar = el("div", { class: "timeline-toolbar" });
    this.#canvas = el("canvas", { "aria-label": "timeline", role: "img" });
    this.#spacer = el("div");
    this.#frame = el("div", { class: "timeline-frame" }, this.#canvas, this.#spacer);
    this.#tip = el("div", { class: "timeline-tip", hidden: "" });
    host.replaceChildren(el("p", {}, "Run a scenario or open a trace file."));
    this.#zoom = zoom<HTMLCanvasElement, unknown>()
      // The plain wheel scrolls the track list; Ctrl/⌘ + wheel zooms time; drags pan.
      .filter((e: Event) => (e.type === "wheel" ? (e as WheelEvent).ctrlKey || (e as WheelEvent).metaKey : !(e as MouseEvent).button))
      .on("zoom", (e: D3ZoomEvent<HTMLCanvasElement, unknown>) => {
        this.#transform = e.transform;
        this.#schedule();
      });
    this.#frame.addEventListener("scroll", () => {
      this.#schedule();
    });
    this.#canvas.addEventListener("mousemove", (e) => {
      this.#hover(e);
    });
    this.#canvas.addEventListener("mouseleave", () => {
      this.#tip.hidden = true;
    });
    new ResizeObserver(() => {
      this.#resize();
    }).observe(this.#frame);
  }

  /** Shows `model` (titled `label`): all track kinds, the first track group, empty tracks hidden, zoomed out. */
  show(model: TraceModel, label: string): void {
    if (model.drawn === 0) {
      this.#model = undefined;
      this.#host.replaceChildren(el("p", { class: "empty" }, `${label}: no trace events to draw (this run records none).`));
      return;
    }
    this.#model = model;
    this.#colors = nameColors(model.names);
    const groups = groupsOf(model);
    this.#filter = { group: groups.length > 1 ? groups[0]! : null, kinds: new Set(kindsOf(model)), showEmpty: false };
    this.#buildToolbar(model, label, groups);
    this.#host.replaceChildren(this.#toolbar, this.#frame, this.#tip);
    this.#relayout();
    this.#resize();
    this.#zoom.transform(select(this.#canvas), zoomIdentity);
  }

  #buildToolbar(model: TraceModel, label: string, groups: readonly string[]): void {
    const group = el("select", { id: "timeline-group", "aria-label": "track group" }, el("option", { value: "" }, "all groups"), ...groups.map((g) => el("option", { value: g }, g)));
    group.value = this.#filter.group ?? "";
    group.addEventListener("change", () => {
      this.#filter = { ...this.#filter, group: group.value === "" ? null : group.value };
      this.#relayout();
    });
    const kinds = kindsOf(model).map((k) => {
      const box = el("input", { type: "checkbox", "data-kind": k });
      box.checked = true;
      box.addEventListener("change", () => {
        const next = new Set(this.#filter.kinds);
        if (box.checked) next.add(k);
        else next.delete(k);
        this.#filter = { ...this.#filter, kinds: next };
        this.#relayout();
      });
      return el("label", {}, box, ` ${k}`);
    });
    const empty = el("input", { type: "checkbox", id: "timeline-empty" });
    empty.addEventListener("change", () => {
      this.#filter = { ...this.#filter, showEmpty: empty.checked };
      this.#relayout();
    });
    const button = (text: string, title: string, act: () => void): HTMLButtonElement => {
      const b = el("button", { type: "button", title, "data-zoom": text }, text);
      b.addEventListener("click", act);
      return b;
    };
    const sel = select(this.#canvas);
    const ignored = Object.entries(model.ignored).map(([ph, n]) => `${n} ${ph === "bad" ? "malformed" : `'${ph}'`}`);
    this.#toolbar.replaceChildren(
      el("strong", {}, label),
      el("span", {}, `${model.drawn} events, ${model.tracks.length} tracks${model.flows.length > 0 ? `, ${model.flows.length} flow arrows` : ""}${ignored.length > 0 ? ` (not drawn: ${ignored.join(", ")})` : ""}`),
      group,
      ...kinds,
      el("label", {}, empty, " empty tracks"),
      button("+", "zoom in", () => {
        this.#zoom.scaleBy(sel, 2);
      }),
      button("−", "zoom out", () => {
        this.#zoom.scaleBy(sel, 0.5);
      }),
      button("reset", "show everything", () => {
        this.#zoom.transform(sel, zoomIdentity);
      }),
      el("span", { class: "hint" }, "drag: pan · Ctrl+wheel: zoom · wheel: scroll tracks"),
    );
  }

  #relayout(): void {
    if (this.#model === undefined) return;
    const { rows, height } = layoutRows(this.#model, this.#filter);
    this.#rows = rows;
    this.#spacer.style.height = `${Math.max(0, AXIS_H + height - FRAME_H)}px`;
    this.#canvas.dataset.tracks = String(rows.filter((r) => r.kind === "track").length);
    this.#schedule();
  }

  #resize(): void {
    this.#width = Math.max(LABEL_W + 100, this.#frame.clientWidth);
    const dpr = window.devicePixelRatio || 1;
    this.#canvas.width = Math.round(this.#width * dpr);
    this.#canvas.height = Math.round(FRAME_H * dpr);
    this.#canvas.style.width = `${this.#width}px`;
    this.#canvas.style.height = `${FRAME_H}px`;
    const extent: [[number, number], [number, number]] = [
      [LABEL_W, 0],
      [this.#width, FRAME_H],
    ];
    const model = this.#model;
    // Deepest zoom: about one nanosecond per pixel.
    const maxK = model === undefined ? 1 : Math.max(1, ((model.endUs - model.startUs) * 1000) / (this.#width - LABEL_W));
    this.#zoom.extent(extent).translateExtent(extent).scaleExtent([1, maxK]);
    this.#schedule();
  }

  #scale() {
    const m = this.#model!;
    const base = scaleLinear()
      .domain([m.startUs, m.endUs > m.startUs ? m.endUs : m.startUs + 1])
      .range([LABEL_W, this.#width]);
    return this.#transform.rescaleX(base);
  }

  #schedule(): void {
    if (this.#pending || this.#model === undefined) return;
    this.#pending = true;
    requestAnimationFrame(() => {
      this.#pending = false;
      this.#paint();
    });
  }

  #paint(): void {
    const model = this.#model;
    const ctx = this.#canvas.getContext("2d");
    if (model === undefined || ctx === null) return;
    const dpr = window.devicePixelRatio || 1;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    const x = this.#scale();
    const painted = paintTimeline({ ctx, width: this.#width, height: FRAME_H, scrollTop: this.#frame.scrollTop, x, model, rows: this.#rows, colors: this.#colors });
    const [d0, d1] = x.domain() as [number, number];
    // Read by the browser test (and handy in devtools): what the last frame showed.
    Object.assign(this.#canvas.dataset, { painted: String(painted), domainStart: String(d0), domainEnd: String(d1) });
  }

  #hover(e: MouseEvent): void {
    const model = this.#model;
    if (model === undefined) return;
    const rect = this.#canvas.getBoundingClientRect();
    const px = e.clientX - rect.left;
    const py = e.clientY - rect.top;
    const y = py - AXIS_H + this.#frame.scrollTop;
    const row = this.#rows.find((r) => y >= r.y && y < r.y + r.h);
    const text = row?.kind !== "track" || px < LABEL_W || py < AXIS_H ? undefined : describeAt(model, row.track, this.#scale(), px, y - row.y);
    this.#tip.hidden = text === undefined;
    if (text !== undefined) {
      this.#tip.textContent = text;
      this.#tip.style.left = `${e.clientX + 12}px`;
      this.#tip.style.top = `${e.clientY + 12}px`;
    }
  }
}

/** The span or instant under a point of a track's row (x in px, y from the row's top), as tooltip text. */
function describeAt(model: TraceModel, t: TraceTrack, x: ReturnType<typeof scaleLinear<number, number>>, px: number, y: number): string | undefined {
  const us = x.invert(px);
  const slop = x.invert(px + 3) - us;
  const level = Math.floor((y - 1) / SPAN_H);
  const head = `${t.process} · ${t.name}\n`;
  if (level < Math.min(t.maxDepth + 1, MAX_LEVELS) && t.spanStart.length > 0) {
    for (let i = firstSpanEndingAfter(t, us - slop); i < t.spanStart.length && t.spanStart[i]! <= us + slop; i++) {
      if (t.spanDepth[i] !== level || t.spanStart[i]! + t.spanDur[i]! < us - slop) continue;
      const args = sparseText(t.spanArgs, i);
      return `${head}${model.names[t.spanName[i]!]!}  at ${formatUs(t.spanStart[i]!, 1000)}  for ${formatUs(t.spanDur[i]!, t.spanDur[i]!)}${args === "" ? "" : `\n${args}`}`;
    }
  }
  const i = lowerBound(t.instantTs, us - slop);
  if (i < t.instantTs.length && t.instantTs[i]! <= us + slop) {
    const args = sparseText(t.instantArgs, i);
    return `${head}${model.names[t.instantName[i]!]!}  at ${formatUs(t.instantTs[i]!, 1000)}${args === "" ? "" : `\n${args}`}`;
  }
  return undefined;
}
