/**
 * The missed-wake-up explorer of seed 004: a breadth-first search over every
 * interleaving of the wake-up protocol model (wakeup-model.ts), with state
 * hashing, up to a depth bound, checking in every state the invariant
 *
 *   no vCPU sleeps while it has a deliverable interrupt and no wake-up is
 *   pending.
 *
 * Breadth-first order makes the first trace that reaches a violation of each
 * kind a shortest one, so each counterexample is printed minimal. Kinds:
 * `missed-vpmu-overflow` (the vCPU sleeps with a vPMU overflow that no flush has
 * turned into a vgic interrupt — the ode's item 5), `masked-pending` (its guest
 * runs masked and the hardware was given the interrupt at the last entry
 * before the WFI), `other`.
 *
 * The report counts states and transitions ("virtual steps"); it carries no
 * wall-clock time, so it is the same on every run.
 */

import { KeySet } from "./key-set.js";
import {
  DEFAULT_MODEL_CONFIG,
  MODEL_VCPUS,
  VCPU_FIELDS,
  asleep,
  deliverable,
  initialState,
  stateKey,
  maskedWithLoadedInterrupt,
  pendingSources,
  successors,
  wakeupPending,
  type ModelConfig,
  type ModelState,
  type WakeupCondition,
} from "./wakeup-model.js";

/** Bytes of one state. */
const STATE_BYTES = MODEL_VCPUS * VCPU_FIELDS;

/** What kind of invariant violation a counterexample shows. */
export type ViolationKind = "missed-vpmu-overflow" | "masked-pending" | "other";

/** One minimal counterexample. */
export interface WakeupViolation {
  readonly kind: ViolationKind;
  /** The vCPU that sleeps. */
  readonly vcpu: number;
  /** What is pending for it. */
  readonly pending: readonly string[];
  /** The schedule from the initial state, one step per line; its length is the shortest for this kind and vCPU. */
  readonly trace: readonly string[];
  /** The model's state after each step of {@link trace} (same length), as the search reached it. */
  readonly states: readonly ModelState[];
  /** Index in {@link trace} of the first step after which this vCPU breaks the invariant. */
  readonly breaksAt: number;
}

/** Options of {@link exploreWakeups}. */
export interface ExploreOptions {
  /** Longest schedule explored (default 40 steps). */
  readonly maxDepth?: number;
  /** The environment (default {@link DEFAULT_MODEL_CONFIG}). */
  readonly config?: ModelConfig;
}

/** What one exploration found. */
export interface WakeupExplorerReport {
  readonly condition: WakeupCondition;
  readonly maxDepth: number;
  /** Distinct states reached. */
  readonly states: number;
  /** Transitions taken from explored states ("virtual steps"). */
  readonly transitions: number;
  /** Depth of the deepest state reached. */
  readonly deepest: number;
  /** True when no state was left unexplored at the depth bound: the search covered every interleaving. */
  readonly exhaustive: boolean;
  /** States in which the invariant fails (every one, not only the first of each kind). */
  readonly violatingStates: number;
  /** One shortest counterexample per (kind, vCPU), in the order found. */
  readonly violations: readonly WakeupViolation[];
}

/** Explores every interleaving under `condition`. Deterministic. */
export function exploreWakeups(condition: WakeupCondition, options: ExploreOptions = {}): WakeupExplorerReport {
  const maxDepth = options.maxDepth ?? 40;
  const config = options.config ?? DEFAULT_MODEL_CONFIG;
  const seen = new KeySet(1 << 16);
  const parent: number[] = [];
  const label: string[] = [];
  const depth: number[] = [];
  // The states reached, in the order found, back to back in one growing array: a typed array each
  // would be that many objects for every collection to trace.
  let states = new Uint8Array(STATE_BYTES * 4096);
  let count = 0;
  const add = (s: ModelState, from: number, how: string, d: number): boolean => {
    if (!seen.add(stateKey(s))) return false;
    if ((count + 1) * STATE_BYTES > states.length) {
      const more = new Uint8Array(states.length * 2);
      more.set(states);
      states = more;
    }
    states.set(s, count * STATE_BYTES);
    count++;
    parent.push(from);
    label.push(how);
    depth.push(d);
    return true;
  };
  /** State `n` as a state of its own (for a report). */
  const stateAt = (n: number): ModelState => states.slice(n * STATE_BYTES, (n + 1) * STATE_BYTES);
  add(initialState(), -1, "", 0);
  const violations: WakeupViolation[] = [];
  const found = new Set<string>();
  let transitions = 0;
  let violatingStates = 0;
  let exhaustive = true;
  const s: ModelState = initialState();
  for (let at = 0; at < count; at++) {
    for (let j = 0, from = at * STATE_BYTES; j < STATE_BYTES; j++) s[j] = states[from + j]!;
    for (let i = 0; i < MODEL_VCPUS; i++) {
      if (!violates(s, i)) continue;
      violatingStates++;
      const kind = classify(config, s, i);
      const id = `${kind}/${i}`;
      if (found.has(id)) continue;
      found.add(id);
      const path = pathTo(at, parent);
      const pathStates = path.map(stateAt);
      violations.push({
        kind,
        vcpu: i,
        pending: pendingSources(s, i),
        trace: path.map((n) => label[n]!),
        states: pathStates,
        breaksAt: pathStates.findIndex((p) => violates(p, i)),
      });
    }
    const next = successors(condition, config, s);
    if (depth[at]! >= maxDepth) {
      if (next.length > 0) exhaustive = false;
      continue;
    }
    for (const st of next) {
      transitions++;
      add(st.next, at, st.label, depth[at]! + 1);
    }
  }
  return {
    condition,
    maxDepth,
    states: count,
    transitions,
    deepest: depth.reduce((a, b) => Math.max(a, b), 0),
    exhaustive,
    violatingStates,
    violations,
  };
}

/** The report as text: counts, then each counterexample as a numbered schedule. */
export function formatExplorerReport(r: WakeupExplorerReport): string {
  const lines = [
    `condition ${r.condition}: ${r.states} states, ${r.transitions} steps, depth ${r.deepest}/${r.maxDepth}${r.exhaustive ? " (exhaustive)" : " (bounded)"}`,
    r.violations.length === 0
      ? "  invariant holds: no vCPU sleeps with a deliverable interrupt and no wake-up pending"
      : `  ${r.violatingStates} violating states; shortest counterexample per kind:`,
  ];
  for (const v of r.violations) {
    lines.push(`  ${v.kind}: vcpu${v.vcpu} sleeps with ${v.pending.join(", ")} pending (${v.trace.length} steps)`);
    v.trace.forEach((t, n) => lines.push(`    ${String(n + 1).padStart(2)}. ${t}`));
  }
  return lines.join("\n");
}

function classify(config: ModelConfig, s: ModelState, i: number): ViolationKind {
  if (pendingSources(s, i).includes("vPMU overflow not yet flushed")) return "missed-vpmu-overflow";
  if (maskedWithLoadedInterrupt(config, s, i)) return "masked-pending";
  return "other";
}

/** The invariant, broken: vCPU `i` sleeps with a deliverable interrupt and no wake-up pending. */
function violates(s: ModelState, i: number): boolean {
  return asleep(s, i) && deliverable(s, i) && !wakeupPending(s, i);
}

/** The states from the initial one (excluded) to `at`, in order, by index. */
function pathTo(at: number, parent: readonly number[]): number[] {
  const out: number[] = [];
  for (let n = at; parent[n]! >= 0; n = parent[n]!) out.push(n);
  return out.reverse();
}
