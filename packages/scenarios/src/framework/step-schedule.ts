/**
 * A schedule a remedy row carries beside its values, for a story told one
 * step at a time: the missed-wake-up explorer's counterexamples (seed 004,
 * the model's state after each step) and an interrupt's path from its raise
 * to the vCPU (seed 003, read from the run's trace). Every step and every
 * state cell comes from the run or the search. Not part of the JSON output;
 * the web app animates it.
 */

/** One subject's state after a step (a vCPU, the interrupt's path): named fields, in display order. */
export interface StepSubjectState {
  readonly subject: string;
  readonly fields: readonly (readonly [name: string, value: string])[];
}

/** One step of a schedule and the state after it. */
export interface ScheduleStep {
  /** What happened (which thread did what, or the trace event and its track). */
  readonly label: string;
  /** When, if the schedule has a clock ("12.35 us"); the explorer's steps are untimed. */
  readonly at?: string;
  readonly state: readonly StepSubjectState[];
}

/** Why a step is marked: the invariant breaks there, the interrupt is lost there, or it is taken there. */
export type ScheduleMarkKind = "breaks" | "lost" | "taken";

/** A titled schedule with one marked step (or none). */
export interface StepSchedule {
  readonly title: string;
  /** One line: what the schedule shows and how it ends. */
  readonly outcome: string;
  readonly steps: readonly ScheduleStep[];
  /** Index in {@link steps} of the marked step, or null when no step is marked. */
  readonly mark: number | null;
  readonly markKind: ScheduleMarkKind;
}
