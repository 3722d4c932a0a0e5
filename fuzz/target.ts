/**
 * What a fuzz target is: a generator of plain-data operations from a seeded
 * stream, and an executor that replays a list of them on fresh models and
 * throws at the first broken invariant. Operations are plain data so that a
 * failing list can be printed, replayed and shrunk without the generator.
 */

import type { Rng } from "@irqlab/sim";

/** One generated case: a configuration (fixed while shrinking) and the operations. */
export interface FuzzCase<Setup, Op> {
  readonly setup: Setup;
  readonly ops: Op[];
}

/** A fuzz target. */
export interface FuzzTarget<Setup = unknown, Op = unknown> {
  /** Name for `--target`. */
  readonly name: string;
  /** One line for the listing. */
  readonly about: string;
  /** Draws a case of `count` operations. Must use `rng` only (reproducibility). */
  generate(rng: Rng, count: number): FuzzCase<Setup, Op>;
  /**
   * Runs `ops` on models built from `setup`, calling `step(i)` before op `i`
   * (the runner uses it to know where a failure happened), then any
   * end-of-case check. Throws {@link InvariantError} when an invariant breaks.
   */
  execute(setup: Setup, ops: readonly Op[], step: (index: number) => void): void;
  /**
   * Optional: what the last {@link execute} exercised, by name (for example
   * raises per injection path), so a smoke test can check a path is covered.
   */
  coverage?(): Readonly<Record<string, number>>;
  /**
   * Optional: a deterministic text of what running `ops` on models built
   * from `setup` did (virtual time, exits, trace), the same on every run of
   * the same models. Two versions of the models compare it case by case
   * (`npm run fuzz -- --against REV`): a change meant to keep the behaviour
   * must give every case the same text.
   */
  outcome?(setup: Setup, ops: readonly Op[]): string;
}

/** A broken invariant. `kind` groups failures for shrinking (same kind = same bug). */
export class InvariantError extends Error {
  constructor(
    readonly kind: string,
    message: string,
  ) {
    super(message);
    this.name = "InvariantError";
  }
}

/** Throws an {@link InvariantError} of `kind` unless `ok`. */
export function check(ok: boolean, kind: string, message: () => string): asserts ok {
  if (!ok) throw new InvariantError(kind, message());
}

/** Whether `v` is what a load of `size` bytes may return: an unsigned integer below 2^(8·min(size, 4)). */
export function fitsWidth(v: unknown, size: number): boolean {
  return typeof v === "number" && Number.isInteger(v) && v >= 0 && v < 2 ** (8 * Math.min(size, 4));
}

/** Erases the type of a target for the registry. */
export function anyTarget<S, O>(t: FuzzTarget<S, O>): FuzzTarget {
  return t;
}
