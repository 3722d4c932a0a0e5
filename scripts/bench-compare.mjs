#!/usr/bin/env node
// `npm run bench:compare -- <revision> [options]`: the wall time per operation of micro-bench's
// tests (the arm64 machine, `-smp 2`, the micro-bench guest) at a git revision against the working
// tree, measured in one run as ratios.
//
// On a shared machine a single figure is only good to about a factor of 1.5: the whole machine has
// slow phases minutes long, and a process may settle in a slower JIT state than the next. So each
// side runs in processes of its own (apps/cli/bench/micro-bench-span.ts, bundled from that side's
// sources), pinned to one CPU where taskset exists (V8's helper threads on the others), alternating
// base, work tree, work tree, base, ... so that a phase weighs on both alike. For each test it
// prints the median over processes of each process's median span and of its fastest span, per side,
// and the median of the ratios of the pairs of processes run one after the other: below 1 the work
// tree is faster.
//
// It also checks that both sides printed the same micro-bench row (the guest's virtual time): a
// change meant to make the model faster must not change what it models.
//
// With --steady, each process runs with V8's concurrent recompilation off, so that the optimising
// compiler works on the measured thread, at a fixed point, rather than on a background thread (its
// 20-100 ms compiles of the run loop then land beside some spans and not others); and ipi and lpi
// run micro-bench.c's 65536 iterations too, so that the per-run work of a fresh machine weighs
// little. Their spans then repeat to within a few per cent, from one process to the next too.
//
// More tests time the RISC-V scale bench's deliveries (packages/kvm/bench/riscv-scale-span.ts,
// whose rig riscv-scale-rig.ts is the bench's): `scale`, an MSI to each of 4096 vCPUs in turn,
// `scale-hot`, to the first 64 in turn, and `scale-1024` and `scale-2048`, to the first 1024 or 2048
// in turn; their figure is wall ns per delivery, over 4096-delivery spans made after --warmups of
// them (the machine is built once per process), and their row the virtual ns per delivery and the
// interrupts claimed. A revision without that runner cannot be
// measured for them.
//
// With --paired, both sides run in the same processes instead (scripts/bench-paired-span.mjs, given
// each side's model bundled as a library): in each, the two sides' spans alternate, and each pair of
// spans run one after the other gives a ratio. A slow phase of the machine then weighs on both sides
// of a pair alike, and the pairs of one process agree to a per cent or so. The processes still differ
// from each other (by up to 3-6 % for the same code on both sides: where each side's code and heap
// landed), so even processes load the base first and odd ones the work tree, and the ratio printed
// is the median over processes of each process's median pair ratio, with their range. It helps
// micro-bench's tests; the scale tests' two rigs of 4096 vCPUs in one process differ by their
// placement in memory as much as two processes do. A revision whose micro-bench-run.ts or
// riscv-scale-rig.ts does not export what the runner calls cannot be measured this way.
//
// With --aa, each test is first measured with the revision on both sides (two bundles of the same
// tree, loaded as two sides are), in the same way: the ratio a difference of nothing gets, whose lean
// and spread a change's ratio must stand out of. Two such runs of lpi, steady and paired, gave 1.014
// and 1.018 on this machine; five of the scale test gave 0.94 to 1.01.
//
// Options: --tests a,b (default ipi,lpi,mmio_read_user), --processes N per side (default 6),
// --times N iterations per run (default: 65536 for one-op tests, 4096 for ipi and lpi; 65536 for
// all with --steady), --runs N timed runs per process (default 9), --warmups N (default 10),
// --steady, --paired, --aa, --cpu N (the CPU the processes are pinned to; default the last), --json.
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { buildSync } from "esbuild";
import { DEFAULT_CPU, MICRO_BENCH_SPAN as SPAN, SOURCE_TIMES, STEADY_NODE_FLAGS, median, microBenchTimes, runPinnedJson, runSpanProcess } from "./micro-bench-process.mjs";
import { SCALE_MODES, scaleModeOf } from "./scale-modes.mjs";
import { exportRevision } from "./export-revision.mjs";
import { SOURCE_BUNDLE } from "./source-bundle.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    tests: { type: "string", default: "ipi,lpi,mmio_read_user" },
    processes: { type: "string" },
    times: { type: "string" },
    runs: { type: "string" },
    warmups: { type: "string" },
    steady: { type: "boolean", default: false },
    paired: { type: "boolean", default: false },
    aa: { type: "boolean", default: false },
    cpu: { type: "string" },
    json: { type: "boolean", default: false },
    help: { type: "boolean", short: "h", default: false },
  },
});

if (values.help || positionals.length !== 1) {
  process.stderr.write(`usage: npm run bench:compare -- <revision> [--tests a,b (micro-bench tests, ${Object.keys(SCALE_MODES).join(", ")})] [--processes N] [--times N] [--runs N] [--warmups N] [--steady] [--paired] [--aa] [--cpu N] [--json]\n`);
  process.exit(values.help ? 0 : 2);
}

const count = (name, min, dflt) => {
  if (values[name] === undefined) return dflt;
  const n = Number(values[name]);
  if (!Number.isSafeInteger(n) || n < min) throw new Error(`--${name} ${values[name]}: not an integer of at least ${min}`);
  return n;
};
const steady = values.steady;
const paired = values.paired;
const processes = count("processes", 1, 6);
const runs = count("runs", 1, 9);
const warmUps = count("warmups", 0, 10);
const cpu = count("cpu", 0, DEFAULT_CPU);
if (cpu > DEFAULT_CPU) throw new Error(`--cpu ${cpu}: this machine's CPUs are 0..${DEFAULT_CPU}`);
/** What --steady gives each span process (see above). */
const nodeFlags = steady ? STEADY_NODE_FLAGS : [];
const tests = values.tests.split(",").filter((t) => t !== "");
const revision = positionals[0];
/** The scale bench's span runner (each scale test's mode: scale-modes.mjs). */
const SCALE_SPAN = "packages/kvm/bench/riscv-scale-span.ts";
/** What --paired loads of each side: the micro-bench runner and the scale rig as libraries, and the process that alternates them. */
const MICRO_BENCH_LIB = "apps/cli/bench/micro-bench-run.ts";
const SCALE_LIB = "packages/kvm/bench/riscv-scale-rig.ts";
const PAIRED_SPAN = join(root, "scripts", "bench-paired-span.mjs");
const isScale = (test) => scaleModeOf(test) !== undefined;

const outDir = join(root, ".bench-raw");
mkdirSync(outDir, { recursive: true });
const scratch = mkdtempSync(join(tmpdir(), "irqlab-bench-compare-"));

try {
  const baseTree = exportRevision(root, revision, scratch);
  const sha = baseTree.sha.slice(0, 12);
  const base = bundles(baseTree.dir, `compare-${sha}`);
  const work = bundles(root, "compare-work-tree");
  // The revision again, as a second side of its own: what a comparison of the same code gives.
  const again = values.aa ? bundles(baseTree.dir, `compare-${sha}-again`) : undefined;
  const results = tests.map((test) => {
    const aa = again === undefined ? undefined : compare(test, base, again);
    return { ...compare(test, base, work), ...(aa !== undefined ? { aa: { ratio: aa.ratio, ...(aa.ratioRange !== undefined ? { ratioRange: aa.ratioRange } : {}) } } : {}) };
  });
  if (values.json) process.stdout.write(`${JSON.stringify({ revision, processes, runs, warmUps, steady, paired, aa: values.aa, cpu, nodeFlags, results })}\n`);
  else printTable(results);
  if (results.some((r) => r.baseRow !== r.workRow)) process.exitCode = 1;
} finally {
  rmSync(scratch, { recursive: true, force: true });
}

/**
 * The span runners the tests need, bundled from `tree` into .bench-raw/`name`[-scale].mjs; with
 * --paired, the libraries the paired runner loads instead, into `name`-lib[-scale].mjs.
 */
function bundles(tree, name) {
  const [microBench, scale, suffix] = paired ? [MICRO_BENCH_LIB, SCALE_LIB, "-lib"] : [SPAN, SCALE_SPAN, ""];
  return {
    microBench: tests.some((t) => !isScale(t)) ? bundleTree(tree, microBench, join(outDir, `${name}${suffix}.mjs`)) : undefined,
    scale: tests.some(isScale) ? bundleTree(tree, scale, join(outDir, `${name}${suffix}-scale.mjs`)) : undefined,
  };
}

/** Bundles the span runner `entry` of a source tree (its "@irqlab/source" entry points) into `outfile`. */
function bundleTree(tree, entry, outfile) {
  if (!existsSync(join(tree, entry))) throw new Error(`${entry} is not in that tree: it cannot be measured this way`);
  buildSync({ ...SOURCE_BUNDLE, absWorkingDir: tree, entryPoints: [join(tree, entry)], outfile });
  return outfile;
}

/** One process of a side's span runner measuring `test`: the median and fastest span per operation, and the row. */
function measure(side, test, times) {
  if (isScale(test)) return measureScale(side.scale, scaleModeOf(test));
  const { perOp, row, execArgv } = runSpanProcess(side.microBench, test, times, false, runs, warmUps, { cpu, nodeFlags });
  return { median: median(perOp), fastest: perOp[0], row, execArgv };
}

/** One process of the scale span runner `bundle` in `mode`, pinned as the micro-bench's are. */
function measureScale(bundle, mode) {
  const { spans, perSpan, row, execArgv } = runPinnedJson([bundle, mode, String(runs), String(warmUps)], { cpu, nodeFlags }, `riscv-scale-span ${mode} (${bundle})`);
  const perOp = spans.map((ns) => ns / perSpan).sort((a, b) => a - b);
  return { median: median(perOp), fastest: perOp[0], row, execArgv };
}

/** `processes` pairs of processes, in the order base, work, work, base, base, work, ... (with --paired, `processes` processes). */
function compare(test, base, work) {
  const times = isScale(test) ? undefined : count("times", 1, steady ? SOURCE_TIMES : microBenchTimes(test));
  if (paired) return comparePaired(test, base, work, times);
  const b = [];
  const w = [];
  for (let i = 0; i < processes; i++) {
    if (i % 2 === 0) {
      b.push(measure(base, test, times));
      w.push(measure(work, test, times));
    } else {
      w.push(measure(work, test, times));
      b.push(measure(base, test, times));
    }
  }
  return {
    test,
    times,
    base: sideFigures(b),
    work: sideFigures(w),
    ratio: roundRatio(median(b.map((x, i) => w[i].median / x.median))),
    baseRow: b[0].row,
    workRow: w[0].row,
    execArgv: [b[0].execArgv, w[0].execArgv],
  };
}

/**
 * `processes` processes of the paired runner, the base side loaded and run first in even ones and
 * the work tree in odd ones: per side the median over processes of each process's median and
 * fastest span; the median and the range of the processes' median pair ratios.
 */
function comparePaired(test, base, work, times) {
  const lib = (side) => (isScale(test) ? side.scale : side.microBench);
  const b = [];
  const w = [];
  const ratios = [];
  let rows;
  let execArgv;
  for (let i = 0; i < processes; i++) {
    const args = [PAIRED_SPAN, test, lib(base), lib(work), String(runs), String(warmUps), String(times ?? 1), i % 2 === 0 ? "base-first" : "work-first"];
    const out = runPinnedJson(args, { cpu, nodeFlags }, `bench-paired-span ${test}`);
    b.push({ median: median(out.base), fastest: Math.min(...out.base) });
    w.push({ median: median(out.work), fastest: Math.min(...out.work) });
    ratios.push(median(out.ratios));
    rows ??= [out.baseRow, out.workRow];
    execArgv ??= out.execArgv;
  }
  return {
    test,
    times,
    base: sideFigures(b),
    work: sideFigures(w),
    ratio: roundRatio(median(ratios)),
    ratioRange: [roundRatio(Math.min(...ratios)), roundRatio(Math.max(...ratios))],
    processRatios: ratios.map(roundRatio),
    baseRow: rows[0],
    workRow: rows[1],
    execArgv: [execArgv, execArgv],
  };
}

/** A side's figures over its processes: the median of their medians and of their fastest spans, to 0.1 ns. */
function sideFigures(processes) {
  const round = (x) => Math.round(x * 10) / 10;
  return { median: round(median(processes.map((x) => x.median))), fastest: round(median(processes.map((x) => x.fastest))) };
}

/** A ratio to three decimals. */
function roundRatio(x) {
  return Math.round(x * 1000) / 1000;
}

function printTable(results) {
  const how = `${steady ? `, steady (${nodeFlags.join(" ")})` : ""}${paired ? ", both sides in each process (paired)" : ""}`;
  const what = tests.every(isScale) ? "wall ns per delivery" : tests.some(isScale) ? "wall ns/op without boot (scale: per delivery)" : "wall ns/op without boot";
  process.stdout.write(`${what}, ${revision} against the work tree: median (fastest) over ${processes} processes${paired ? "" : " each"}, on CPU ${cpu}${how}\n`);
  for (const r of results) {
    const range = r.ratioRange === undefined ? "" : ` (processes ${r.ratioRange[0].toFixed(3)}-${r.ratioRange[1].toFixed(3)})`;
    const line = `${r.test.padEnd(16)} ${`${r.base.median} (${r.base.fastest})`.padStart(18)} → ${`${r.work.median} (${r.work.fastest})`.padEnd(18)} ratio ${r.ratio.toFixed(3)}${range}`;
    process.stdout.write(`${line}\n`);
    if (r.aa !== undefined) {
      const aaRange = r.aa.ratioRange === undefined ? "" : ` (processes ${r.aa.ratioRange[0].toFixed(3)}-${r.aa.ratioRange[1].toFixed(3)})`;
      process.stdout.write(`${"".padEnd(16)} ${revision} against itself: ratio ${r.aa.ratio.toFixed(3)}${aaRange}\n`);
    }
    if (r.baseRow !== r.workRow) process.stdout.write(`  the model's row differs:\n    ${r.baseRow}\n    ${r.workRow}\n`);
  }
}
