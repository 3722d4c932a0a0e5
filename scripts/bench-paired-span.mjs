// The process `npm run bench:compare -- <revision> --paired` measures a test in: both sides' models
// loaded into one process, their spans alternating, so that the machine's slow phases (minutes long
// on a shared machine) and the process's own JIT and heap state weigh on both sides alike. Each pair
// of spans, run one right after the other, gives a ratio (work over base); the process reports every
// span and ratio.
//
//   node bench-paired-span.mjs TEST BASE_LIB WORK_LIB RUNS WARMUPS TIMES base-first|work-first
//
// TEST is a micro-bench test (its libraries are bundles of apps/cli/bench/micro-bench-run.ts, and a
// span is one boot of the micro-bench image running TEST for TIMES iterations, timed from the
// table's header to the test's row, per operation) or `scale` / `scale-hot` / `scale-1024` /
// `scale-2048` (bundles of packages/kvm/bench/riscv-scale-rig.ts: each side builds its rig once, and
// a span is PER_CALL deliveries, to every vCPU in turn, to the first HOT_VCPUS or to the first 1024
// or 2048, per delivery). The side the last argument names first is imported (and its rig built)
// first, and runs first in each of the WARMUPS untimed pairs and in each even timed pair; the other
// side runs first in the odd ones. It prints one JSON line: `base` and `work`
// (each span's wall ns per operation, in run order), `ratios` (work over base, pair by pair), each
// side's `row` (what the model computed, which must be the same for both: the guest's micro-bench
// row, or the virtual ns per delivery and the claims) and `execArgv`.
import { pathToFileURL } from "node:url";
import { scaleModeOf } from "./scale-modes.mjs";

const [test, baseLib, workLib, runsArg, warmUpsArg, timesArg, order] = process.argv.slice(2);
const runs = Number(runsArg);
const warmUps = Number(warmUpsArg);
const times = Number(timesArg);
if (test === undefined || workLib === undefined || !(runs >= 1) || !(warmUps >= 0) || !(times >= 1) || (order !== "base-first" && order !== "work-first")) {
  throw new Error("usage: bench-paired-span TEST BASE_LIB WORK_LIB RUNS WARMUPS TIMES base-first|work-first");
}

const mode = scaleModeOf(test);
/** A side: its library imported, and (for scale) its rig built. */
const side = async (file) => {
  const lib = await import(pathToFileURL(file).href);
  return mode === undefined ? microBenchSide(lib) : scaleSide(lib, mode);
};
const sides = [];
if (order === "base-first") {
  sides[0] = await side(baseLib);
  sides[1] = await side(workLib);
} else {
  sides[1] = await side(workLib);
  sides[0] = await side(baseLib);
}

/** A micro-bench side: a span is one boot running `test`, per operation; its row the guest's. */
function microBenchSide(lib) {
  let row = "";
  return {
    span() {
      const r = lib.runMicroBench([test], times, true);
      row = r.out.split("\n").find((l) => l.startsWith(`${test} `))?.trimEnd() ?? "";
      return r.spanNs / times;
    },
    row: () => row,
  };
}

/** A scale side: its rig, built once; a span is PER_CALL deliveries, per delivery; its row the virtual ns and claims over the timed spans. */
function scaleSide(lib, how) {
  const rig = lib.buildScaleRig();
  const d = lib.scaleDeliveries(rig);
  const one = how === "hot" ? d.deliverHot : how === "cold" ? d.deliver : d.deliverAmong(Number(how));
  const perCall = lib.PER_CALL;
  let from;
  let spans = 0;
  return {
    span() {
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < perCall; i++) one();
      const ns = Number(process.hrtime.bigint() - t0);
      spans++;
      return ns / perCall;
    },
    startTimed() {
      from = { now: rig.queue.now, claims: rig.count.n };
      spans = 0;
    },
    row() {
      const delivered = spans * perCall;
      return `${how}: ${((rig.queue.now - from.now) / delivered).toFixed(1)} virtual ns per delivery, ${rig.count.n - from.claims} claims of ${delivered} MSIs`;
    },
  };
}

// `first` runs first in every warm-up pair and in the even timed pairs, as it was loaded first: which side
// does is a bias of its own (code and heap placed first, the optimising compiler's order), which the
// comparing script cancels by giving each side that place in half the processes.
const first = order === "base-first" ? 0 : 1;
const spans = [[], []];
for (let i = 0; i < warmUps; i++) {
  sides[first].span();
  sides[1 - first].span();
}
for (const s of sides) s.startTimed?.();
for (let i = 0; i < runs; i++) {
  const a = i % 2 === 0 ? first : 1 - first;
  spans[a][i] = sides[a].span();
  spans[1 - a][i] = sides[1 - a].span();
}
const [base, work] = spans;
const ratios = base.map((b, i) => work[i] / b);
process.stdout.write(`${JSON.stringify({ base, work, ratios, baseRow: sides[0].row(), workRow: sides[1].row(), execArgv: process.execArgv })}\n`);
