/**
 * The step-by-step view: a scenario's schedules (seed 004's counterexamples,
 * seed 003's interrupt path per trigger) played one step at a time. A picker
 * chooses the remedy's schedule; the list shows every step, the marked one
 * (where the invariant breaks, or the interrupt is lost or taken) flagged;
 * play/pause, previous and next (or ←/→) move the current step, and the
 * state table beside it shows what the model or the trace had after that
 * step, with the values the step changed highlighted.
 */

import type { ScheduleStep, StepSchedule } from "@irqlab/scenarios";
import { el } from "../dom.js";
import type { RemedySchedules } from "../worker/protocol.js";

/** Milliseconds between steps while playing: slow enough to read a label. */
const PLAY_PERIOD_MS = 900;

const MARK_TEXT = { breaks: "invariant breaks here", lost: "lost here", taken: "taken here" } as const;

interface Entry {
  readonly remedy: string;
  readonly schedule: StepSchedule;
}

/** Owns the #steps section's body: one player over every schedule of the last run. */
export class StepView {
  readonly #host: HTMLElement;
  #entries: Entry[] = [];
  #entry: Entry | undefined;
  #current = 0;
  #timer: ReturnType<typeof setInterval> | undefined;
  readonly #pick = el("select", { class: "step-pick", "aria-label": "Schedule" });
  readonly #play = el("button", { type: "button", "data-step": "play" }, "Play");
  readonly #prev = el("button", { type: "button", "data-step": "prev", title: "Previous step (←)" }, "◀ Previous");
  readonly #next = el("button", { type: "button", "data-step": "next", title: "Next step (→)" }, "Next ▶");
  readonly #position = el("output", { class: "step-position" });
  readonly #outcome = el("p", { class: "step-outcome" });
  readonly #list = el("ol", { class: "step-list" });
  readonly #state = el("div", { class: "step-state" });

  constructor(host: HTMLElement) {
    this.#host = host;
    this.#pick.addEventListener("change", () => {
      this.#choose(Number(this.#pick.value));
    });
    this.#play.addEventListener("click", () => {
      if (this.#timer === undefined) this.#start();
      else this.#stop();
    });
    this.#prev.addEventListener("click", () => {
      this.#go(this.#current - 1);
    });
    this.#next.addEventListener("click", () => {
      this.#go(this.#current + 1);
    });
    this.#list.addEventListener("click", (e) => {
      const item = (e.target as Element).closest<HTMLLIElement>("li[data-index]");
      if (item !== null) this.#go(Number(item.dataset.index));
    });
    host.addEventListener("keydown", (e) => {
      if (e.target instanceof HTMLSelectElement) return;
      if (e.key === "ArrowRight") this.#go(this.#current + 1);
      else if (e.key === "ArrowLeft") this.#go(this.#current - 1);
      else return;
      e.preventDefault();
    });
  }

  /** Shows the run's schedules (replacing the last run's); returns how many there are. */
  show(all: readonly RemedySchedules[]): number {
    this.#stop();
    this.#entries = all.flatMap((r) => r.schedules.map((schedule) => ({ remedy: r.remedy, schedule })));
    this.#pick.replaceChildren(
      ...this.#entries.map((e, n) =>
        el("option", { value: String(n), "data-remedy": e.remedy, "data-title": e.schedule.title, "data-steps": String(e.schedule.steps.length) }, `${e.remedy} — ${e.schedule.title} (${e.schedule.steps.length} steps)`),
      ),
    );
    const controls = el("div", { class: "step-controls" }, this.#pick, this.#prev, this.#play, this.#next, this.#position);
    this.#host.replaceChildren(controls, this.#outcome, el("div", { class: "step-panes", tabindex: "0" }, this.#list, this.#state));
    if (this.#entries.length > 0) this.#choose(0);
    return this.#entries.length;
  }

  #choose(n: number): void {
    this.#stop();
    const entry = this.#entries[n];
    if (entry === undefined) return;
    this.#entry = entry;
    const s = entry.schedule;
    this.#host.dataset.remedy = entry.remedy;
    this.#host.dataset.title = s.title;
    this.#host.dataset.steps = String(s.steps.length);
    this.#host.dataset.mark = s.mark === null ? "" : String(s.mark);
    this.#outcome.textContent = `${entry.remedy}, ${s.title}: ${s.outcome}`;
    this.#list.replaceChildren(
      ...s.steps.map((step, i) => {
        const marked = i === s.mark;
        return el(
          "li",
          { "data-index": String(i), class: marked ? `marked ${s.markKind}` : "" },
          step.at === undefined ? "" : el("span", { class: "step-at" }, step.at),
          step.label,
          marked ? el("strong", { class: "step-mark" }, ` — ${MARK_TEXT[s.markKind]}`) : null,
        );
      }),
    );
    this.#go(0);
  }

  #go(i: number): void {
    const s = this.#entry?.schedule;
    if (s === undefined || s.steps.length === 0) return;
    this.#current = Math.max(0, Math.min(s.steps.length - 1, i));
    for (const li of this.#list.children) li.classList.toggle("current", Number((li as HTMLElement).dataset.index) === this.#current);
    const item = this.#list.children[this.#current] as HTMLElement | undefined;
    item?.scrollIntoView({ block: "nearest" });
    this.#host.dataset.current = String(this.#current);
    this.#host.dataset.atMark = String(this.#current === s.mark);
    this.#position.textContent = `step ${this.#current + 1} of ${s.steps.length}${this.#current === s.mark ? ` — ${MARK_TEXT[s.markKind]}` : ""}`;
    this.#prev.disabled = this.#current === 0;
    this.#next.disabled = this.#current === s.steps.length - 1;
    this.#renderState(s.steps[this.#current]!, s.steps[this.#current - 1], this.#current === s.mark);
    if (this.#timer !== undefined && this.#current === s.steps.length - 1) this.#stop();
  }

  /** The state after `step`: one column per subject, one row per field; cells the step changed are flagged. */
  #renderState(step: ScheduleStep, before: ScheduleStep | undefined, marked: boolean): void {
    const subjects = step.state;
    const names = subjects[0]?.fields.map(([name]) => name) ?? [];
    const previous = (subject: number, row: number): string | undefined => before?.state[subject]?.fields[row]?.[1];
    this.#state.replaceChildren(
      el(
        "table",
        { class: `outcome step-table${marked ? " marked" : ""}` },
        el("caption", {}, `state after step ${this.#current + 1}`),
        el("thead", {}, el("tr", {}, el("th", {}, ""), ...subjects.map((x) => el("th", { scope: "col" }, x.subject)))),
        el(
          "tbody",
          {},
          ...names.map((name, row) =>
            el(
              "tr",
              {},
              el("th", { scope: "row" }, name),
              ...subjects.map((x, k) => {
                const value = x.fields[row]?.[1] ?? "";
                const changed = before !== undefined && previous(k, row) !== value;
                return el("td", { "data-field": name, "data-subject": x.subject, class: changed ? "changed" : "" }, value);
              }),
            ),
          ),
        ),
      ),
    );
  }

  #start(): void {
    const s = this.#entry?.schedule;
    if (s === undefined) return;
    if (this.#current === s.steps.length - 1) this.#go(0);
    this.#play.textContent = "Pause";
    this.#timer = setInterval(() => {
      this.#go(this.#current + 1);
    }, PLAY_PERIOD_MS);
  }

  #stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    this.#play.textContent = "Play";
  }
}
