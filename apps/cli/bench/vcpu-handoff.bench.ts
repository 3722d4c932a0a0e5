/**
 * What the run loop costs per guest operation, taken apart
 * (vcpu-handoff-run.ts): one 32-bit store of an `op.seq` on vCPU 0 of
 * `-M virt -accel kvm -smp 2`, with vCPU 1 not started ("alone"), spinning
 * in KVM_RUN ("beside-spin") or storing at the same pace ("lockstep"). Each
 * row's `meta.wallNsPerStore` is the wall ns per store of vCPU 0: the span
 * between two console lines around its stores in a run of 5000 sequences,
 * less the same span in a run of none, over the 500 000 stores (boot,
 * power-off and the console output drop out). In each of {@link PROCESSES}
 * processes pinned to one CPU (as micro-bench's are) it is the median of
 * nine timed rounds after three warm-up rounds, each round both runs of
 * every mode in turn; the figure is the median of those. `meta.modelWorkPerStore`
 * is what the model did per store, counted rather than timed: KVM_RUN
 * continuations and queue events (one each per store in lockstep: a
 * handoff), and the virtual ns.
 *
 * Two differences of those medians are recorded on the rows they describe:
 * - `askNs` (beside-spin): beside-spin − alone, what it costs that the
 *   event queue asks the spinning vCPU's continuation at each store whether
 *   continuing it to the store's end would do more than let the time pass
 *   (it would not);
 * - `handoffNs` (lockstep): lockstep − beside-spin − alone, what the turn to
 *   vCPU 1 and back adds to vCPU 0's store, its ask and vCPU 1's own store:
 *   the queue dispatching vCPU 1's thread, KVM_RUN continuing, vCPU 1's
 *   store reaching the end of vCPU 0's, KVM_RUN returning "running" and the
 *   thread waiting again.
 *
 * micro-bench's ipi and lpi pay all three in each round trip: their loads,
 * stores and register accesses, the other vCPU's continuation asked at most
 * of them, and a few handoffs (their `meta.modelWorkPerOp.continuations`).
 * These rows say what each costs on its own.
 */
import { bench, describe } from "vitest";
import { median, runPinnedJson } from "../../../scripts/micro-bench-process.mjs";
import { bundleForProcess } from "../../../scripts/source-bundle.mjs";
import { HANDOFF_MODES, STORES_PER_SEQ, runHandoff, type HandoffMode, type HandoffSpan } from "./vcpu-handoff-run.js";

const spanRunner = bundleForProcess("apps/cli/bench/vcpu-handoff-span.ts", "vcpu-handoff-span.mjs");

/** Processes the modes are measured in. */
const PROCESSES = 3;
/** Store sequences per run: 500 000 stores, a span of tens of milliseconds. */
const SEQS = 5000;
const ROUNDS = 9;
const WARM_UPS = 3;

type SpanOut = Record<HandoffMode, { wallNsPerStore: number[]; work: Omit<HandoffSpan, "wallNs"> }>;

const medians: Record<HandoffMode, number[]> = { alone: [], "beside-spin": [], lockstep: [] };
let work: SpanOut[HandoffMode]["work"][] = [];
for (let p = 0; p < PROCESSES; p++) {
  const out = runPinnedJson([spanRunner, String(SEQS), String(ROUNDS), String(WARM_UPS)], {}, "vcpu-handoff-span") as SpanOut;
  const w = HANDOFF_MODES.map((m) => out[m].work);
  // Counted, not timed: every process must have done the same work.
  if (p > 0 && JSON.stringify(w) !== JSON.stringify(work)) throw new Error(`vcpu-handoff: processes counted different work: ${JSON.stringify(w)} against ${JSON.stringify(work)}`);
  work = w;
  for (const m of HANDOFF_MODES) medians[m].push(median(out[m].wallNsPerStore));
}
const ns = (m: HandoffMode): number => median(medians[m]);
const round = (x: number): number => Math.round(x * 10) / 10;
const stores = SEQS * STORES_PER_SEQ;

const LABEL: Record<HandoffMode, string> = {
  alone: "alone (vCPU 1 not started)",
  "beside-spin": "beside vCPU 1 spinning in KVM_RUN",
  lockstep: "in lockstep with vCPU 1's stores (a handoff per store)",
};

describe("the run loop per guest operation on -M virt -accel kvm -smp 2: one store of vCPU 0's op.seq", () => {
  HANDOFF_MODES.forEach((mode, i) => {
    const w = work[i]!;
    const r = (x: number): number => Math.round(x * 1000) / 1000;
    bench(`${LABEL[mode]} [x${stores}]`, () => void runHandoff(mode, SEQS), {
      meta: {
        wallNsPerStore: round(ns(mode)),
        processes: PROCESSES,
        modelWorkPerStore: { continuations: r(w.continuations), events: r(w.events), virtualNs: r(w.virtualNs) },
        ...(mode === "beside-spin" ? { askNs: round(ns("beside-spin") - ns("alone")) } : {}),
        ...(mode === "lockstep" ? { handoffNs: round(ns("lockstep") - ns("beside-spin") - ns("alone")) } : {}),
      },
    } as object);
  });
});
