/**
 * `npm run fuzz`: runs every target (or `--target a,b`) for `--ops N`
 * operations per case from `--seed S`; with `--minutes M` it keeps drawing
 * cases (seeds S, S+1, ...) round-robin over the targets until the time is up,
 * with `--cases N` it draws N of them. Prints ops/s per target; on a failure
 * prints the target, seed, op index and a shrunk reproduction, and exits with
 * status 1. The wall clock is used here only, for the time budget and the
 * rates; the models never see it.
 *
 * For comparing two versions of the models (scripts/fuzz.mjs --against):
 * `--outcomes` prints, instead of checking, one line per case — target, seed
 * and a SHA-256 of the target's outcome text (FuzzTarget.outcome) — and
 * `--outcome` prints the whole text of the one case `--seed` names.
 */

import { createHash } from "node:crypto";
import { parseArgs } from "node:util";
import { caseOutcome, formatFailure, runCase } from "./runner.js";
import { TARGETS } from "./targets/index.js";
import { DEFAULT_OPS } from "./defaults.js";

const USAGE = "usage: npm run fuzz -- [--target a,b] [--seed N] [--ops N] [--minutes M | --cases N] [--against REV] [--list]";

const HELP = `${USAGE}

  --target a,b   the targets to run (default: all; --list names them)
  --seed N       the first case's seed (default 1); case k uses N + k
  --ops N        operations per case (default: each target's own)
  --minutes M    draw cases round-robin over the targets for M minutes
  --cases N      draw N cases
  --against REV  run the same cases on git revision REV too: every case must end the same
  --outcomes     print target, seed and a hash of each case's outcome instead of checking
  --outcome      print the whole outcome of the case --seed names
  --list         list the targets
  -h, --help     this text

A failure prints the target, seed, operation and a shrunk reproduction, and exits with status 1.`;

/** The options; parseArgs' own errors (an unknown option, a missing value) are usage errors. */
function parseOptions() {
  try {
    return parseArgs({
      options: {
        seed: { type: "string", default: "1" },
        ops: { type: "string" },
        minutes: { type: "string" },
        cases: { type: "string" },
        target: { type: "string" },
        outcomes: { type: "boolean", default: false },
        outcome: { type: "boolean", default: false },
        list: { type: "boolean", default: false },
        help: { type: "boolean", short: "h", default: false },
      },
      strict: true,
    });
  } catch (e) {
    return usage((e as Error).message);
  }
}

const { values } = parseOptions();

if (values.help) {
  console.log(HELP);
  process.exit(0);
}

if (values.list) {
  for (const t of TARGETS) console.log(`${t.name.padEnd(20)} ${t.about}`);
  process.exit(0);
}

const seed = Number(values.seed);
if (!Number.isSafeInteger(seed) || seed < 0) usage(`--seed ${values.seed} is not a non-negative integer`);
const opsArg = values.ops === undefined ? undefined : Number(values.ops);
if (opsArg !== undefined && (!Number.isSafeInteger(opsArg) || opsArg < 1)) usage(`--ops ${values.ops} is not a positive integer`);
const minutes = values.minutes === undefined ? undefined : Number(values.minutes);
if (minutes !== undefined && !(minutes > 0)) usage(`--minutes ${values.minutes} is not a positive number`);
const names = values.target?.split(",").map((s) => s.trim()) ?? TARGETS.map((t) => t.name);
const targets = names.map((n) => TARGETS.find((t) => t.name === n) ?? usage(`unknown target '${n}' (valid: ${TARGETS.map((t) => t.name).join(", ")})`));

const cases = values.cases === undefined ? undefined : Number(values.cases);
if (cases !== undefined && (!Number.isSafeInteger(cases) || cases < 1)) usage(`--cases ${values.cases} is not a positive integer`);
if (cases !== undefined && minutes !== undefined) usage("--cases and --minutes do not go together");
const opsOf = (t: (typeof targets)[number]): number => opsArg ?? DEFAULT_OPS[t.name] ?? 10_000;

if (values.outcomes || values.outcome) printOutcomes();
else campaign();

/** --outcomes / --outcome: what the cases did, printed rather than checked. */
function printOutcomes(): void {
  const none = targets.find((t) => t.outcome === undefined);
  if (none !== undefined) usage(`target '${none.name}' has no outcome to compare`);
  if (values.outcome) {
    if (targets.length !== 1) usage("--outcome needs one --target");
    process.stdout.write(`${caseOutcome(targets[0]!, seed, opsOf(targets[0]!))!}\n`);
    return;
  }
  for (let n = 0; n < (cases ?? 1); n++) {
    for (const t of targets) {
      const text = caseOutcome(t, seed + n, opsOf(t))!;
      console.log(`${t.name} ${seed + n} ${createHash("sha256").update(text).digest("hex")}`);
    }
  }
}

/** The cases, checked: ops/s per target, and the first failure shrunk. */
function campaign(): void {
  const stats = new Map(targets.map((t) => [t.name, { cases: 0, ops: 0, ms: 0 }]));
  const deadline = minutes === undefined ? 0 : Date.now() + minutes * 60_000;
  let caseNo = 0;
  let failed = false;
  do {
    for (const t of targets) {
      if (minutes !== undefined && caseNo > 0 && Date.now() >= deadline) break;
      const s = stats.get(t.name)!;
      const t0 = performance.now();
      const r = runCase(t, seed + caseNo, opsOf(t));
      s.ms += performance.now() - t0;
      s.cases++;
      s.ops += r.executed;
      if (r.failure) {
        console.error(formatFailure(r.failure));
        failed = true;
      }
    }
    caseNo++;
  } while (!failed && (minutes !== undefined ? Date.now() < deadline : caseNo < (cases ?? 1)));

  console.log(`\n${"target".padEnd(20)} ${"cases".padStart(6)} ${"ops".padStart(12)} ${"ops/s".padStart(12)}`);
  for (const [name, s] of stats) {
    console.log(`${name.padEnd(20)} ${String(s.cases).padStart(6)} ${String(s.ops).padStart(12)} ${fmt(s.ms > 0 ? (s.ops * 1000) / s.ms : 0).padStart(12)}`);
  }
  console.log(failed ? "\nfuzz: FAILED" : `\nfuzz: ok (seed ${seed}, ${caseNo} round(s))`);
  process.exitCode = failed ? 1 : 0;
}

function fmt(n: number): string {
  return n.toLocaleString("en-US", { maximumFractionDigits: 0 });
}

function usage(msg: string): never {
  console.error(`fuzz: ${msg}\n${USAGE}`);
  process.exit(2);
}
