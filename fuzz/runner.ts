/**
 * Runs fuzz cases and shrinks failures. A case is drawn from the stream
 * `fuzz/<target>` of `RngStreams(seed)`, so `--target T --seed S --ops N`
 * replays it exactly. A failure is shrunk by delta debugging (Zeller's ddmin,
 * complements only) over the recorded operations, keeping the failure kind.
 */

import { RngStreams } from "@irqlab/sim";
import { InvariantError, type FuzzTarget } from "./target.js";

/** A failure as found, and its shrunk reproduction. */
export interface FuzzFailure {
  readonly target: string;
  readonly seed: number;
  /** Number of operations of the case. */
  readonly ops: number;
  /** Index of the operation at which the invariant broke (= ops for an end-of-case check). */
  readonly index: number;
  readonly kind: string;
  readonly message: string;
  readonly setup: unknown;
  /** The shrunk operation list that still fails with the same kind. */
  readonly minimal: readonly unknown[];
}

/** Outcome of one case. */
export interface CaseResult {
  /** Operations executed (all of them unless a failure stopped the case). */
  readonly executed: number;
  readonly failure?: FuzzFailure;
}

interface Attempt {
  readonly index: number;
  readonly kind: string;
  readonly message: string;
}

/** Runs `ops` once; returns where and how it failed, or undefined. */
export function attempt(target: FuzzTarget, setup: unknown, ops: readonly unknown[]): Attempt | undefined {
  let index = 0;
  try {
    target.execute(setup, ops, (i) => {
      index = i;
    });
  } catch (e) {
    if (e instanceof InvariantError) return { index, kind: e.kind, message: e.message };
    // Anything else escaped the model: the first invariant of every target.
    const err = e instanceof Error ? e : new Error(String(e));
    const where = err.stack?.split("\n").slice(1, 4).join("\n") ?? "";
    return { index, kind: `escape:${err.name}`, message: `${err.name}: ${err.message}\n${where}` };
  }
  return undefined;
}

/** Generates and runs one case of `count` operations. `shrinkMs` bounds the shrinking. */
export function runCase(target: FuzzTarget, seed: number, count: number, shrinkMs = 20_000): CaseResult {
  const { setup, ops } = drawCase(target, seed, count);
  const first = attempt(target, setup, ops);
  if (!first) return { executed: ops.length };
  const minimal = shrink(target, setup, ops.slice(0, first.index + 1), first.kind, shrinkMs);
  return {
    executed: first.index + 1,
    failure: { target: target.name, seed, ops: count, index: first.index, kind: first.kind, message: first.message, setup, minimal },
  };
}

/** ddmin over complements: removes chunks while the list still fails with `kind`. */
export function shrink(target: FuzzTarget, setup: unknown, ops: readonly unknown[], kind: string, budgetMs: number): unknown[] {
  const deadline = Date.now() + budgetMs;
  const fails = (list: readonly unknown[]): boolean => attempt(target, setup, list)?.kind === kind;
  let cur = [...ops];
  let n = 2;
  while (cur.length >= 2 && Date.now() < deadline) {
    const chunk = Math.ceil(cur.length / n);
    let reduced = false;
    for (let i = 0; i < n && Date.now() < deadline; i++) {
      const complement = [...cur.slice(0, i * chunk), ...cur.slice((i + 1) * chunk)];
      if (complement.length > 0 && complement.length < cur.length && fails(complement)) {
        cur = complement;
        n = Math.max(n - 1, 2);
        reduced = true;
        break;
      }
    }
    if (!reduced) {
      if (n >= cur.length) break;
      n = Math.min(cur.length, 2 * n);
    }
  }
  return cur;
}

/** The case `seed` of `target` with `count` operations, as {@link runCase} draws it. */
export function drawCase(target: FuzzTarget, seed: number, count: number): { setup: unknown; ops: unknown[] } {
  return target.generate(new RngStreams(seed).stream(`fuzz/${target.name}`), count);
}

/** FuzzTarget.outcome of the case `seed` (as {@link runCase} draws it), or undefined if the target has none. */
export function caseOutcome(target: FuzzTarget, seed: number, count: number): string | undefined {
  if (target.outcome === undefined) return undefined;
  const { setup, ops } = drawCase(target, seed, count);
  return target.outcome(setup, ops);
}

/** The report printed for a failure: target, seed, op index, the replay command and the minimal operations. */
export function formatFailure(f: FuzzFailure): string {
  return [
    `FUZZ FAILURE in target '${f.target}' (seed ${f.seed}, op ${f.index} of ${f.ops}): ${f.kind}`,
    f.message,
    `replay: npm run fuzz -- --target ${f.target} --seed ${f.seed} --ops ${f.ops}`,
    `setup: ${JSON.stringify(f.setup)}`,
    `minimal reproduction (${f.minimal.length} ops):`,
    ...f.minimal.map((o) => `  ${JSON.stringify(o)}`),
  ].join("\n");
}
