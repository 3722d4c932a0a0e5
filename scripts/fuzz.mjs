#!/usr/bin/env node
// `npm run fuzz`: bundles fuzz/main.ts with esbuild from the TypeScript
// sources (the "@irqlab/source" condition), as scripts/bench.mjs bundles the
// bench files, and runs it with the given arguments (--seed, --ops,
// --minutes, --cases, --target, --list; see fuzz/main.ts).
//
// With --against REV it checks that the work tree's models behave as REV's:
// the work tree's fuzz targets are bundled twice, once with the work tree's
// packages and once with REV's (exported from git), each bundle prints every
// case's outcome digest (fuzz/main.ts --outcomes: --cases N cases from
// --seed, for the targets that have an outcome), and the two lists must be
// the same. At the first case that differs, both sides print that case's
// whole outcome and the first line where they part is shown. Exits 1 when a
// case differs. For a change meant to make the models faster or clearer
// without changing what they model.
import { spawnSync } from "node:child_process";
import { cpSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { build } from "esbuild";
import { exportRevision } from "./export-revision.mjs";
import { SOURCE_BUNDLE } from "./source-bundle.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const out = join(root, ".bench-raw", "fuzz-main.mjs");
const args = process.argv.slice(2);
const at = args.indexOf("--against");

/** What --against cannot do, said on stderr with exit status 2 (after its scratch tree is gone). */
class Refusal extends Error {}

await build({ ...SOURCE_BUNDLE, entryPoints: [join(root, "fuzz", "main.ts")], outfile: out });
if (at < 0) await import(pathToFileURL(out).href);
else {
  try {
    await against(args[at + 1], [...args.slice(0, at), ...args.slice(at + 2)]);
  } catch (e) {
    if (!(e instanceof Refusal)) throw e;
    console.error(`fuzz: ${e.message}`);
    process.exitCode = 2;
  }
}

/** --against: the outcome of every case at `revision` and in the work tree. */
async function against(revision, rest) {
  if (revision === undefined || revision.startsWith("--")) fail("--against needs a revision");
  const { values } = parseArgs({ args: rest, options: { seed: { type: "string" }, ops: { type: "string" }, cases: { type: "string" }, target: { type: "string" }, minutes: { type: "string" } }, strict: false });
  if (values.minutes !== undefined) fail("--against compares a fixed set of cases: use --cases N, not --minutes");
  const scratch = mkdtempSync(join(tmpdir(), "irqlab-fuzz-against-"));
  try {
    let base;
    try {
      base = exportRevision(root, revision, scratch);
    } catch (e) {
      fail(`--against ${revision}: ${e instanceof Error ? e.message : String(e)}`);
    }
    // The work tree's targets, built against the revision's packages: the same cases on both sides.
    rmSync(join(base.dir, "fuzz"), { recursive: true, force: true });
    cpSync(join(root, "fuzz"), join(base.dir, "fuzz"), { recursive: true });
    const baseOut = join(root, ".bench-raw", `fuzz-main-${base.sha.slice(0, 12)}.mjs`);
    try {
      await build({ ...SOURCE_BUNDLE, absWorkingDir: base.dir, entryPoints: [join(base.dir, "fuzz", "main.ts")], outfile: baseOut });
    } catch (e) {
      fail(`the work tree's fuzz targets do not build against ${revision}'s packages:\n${e instanceof Error ? e.message : String(e)}`);
    }
    const sides = [
      { name: base.sha.slice(0, 12), bundle: baseOut },
      { name: "work tree", bundle: out },
    ];
    const [b, w] = sides.map((s) => lines(s, [...rest, "--outcomes"]));
    const n = Math.max(b.length, w.length);
    for (let i = 0; i < n; i++) {
      if (b[i] === w[i]) continue;
      const [target, seed] = (b[i] ?? w[i]).split(" ");
      const one = ["--target", target, "--seed", seed, ...(values.ops === undefined ? [] : ["--ops", values.ops]), "--outcome"];
      const [bt, wt] = sides.map((s) => lines(s, one));
      console.log(`fuzz --against ${revision}: target '${target}' seed ${seed} ends differently at ${sides[0].name} and in the work tree`);
      console.log(firstDifference(bt, wt, sides[0].name));
      console.log(`replay: npm run fuzz -- --target ${target} --seed ${seed}${values.ops === undefined ? "" : ` --ops ${values.ops}`} --outcome`);
      process.exitCode = 1;
      return;
    }
    console.log(`fuzz --against ${revision}: ${n} case(s), the same outcome at ${sides[0].name} and in the work tree`);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

/** The lines a side's bundle prints with `argv`; exits if it fails. */
function lines(side, argv) {
  const r = spawnSync(process.execPath, [side.bundle, ...argv], { encoding: "utf8", maxBuffer: 1 << 30 });
  if (r.status !== 0) fail(`the ${side.name} side failed (exit ${r.status}):\n${r.stderr}`);
  return r.stdout.split("\n").filter((l) => l !== "");
}

/** The first line where the base's outcome `a` and the work tree's `b` differ, with the lines around it. */
function firstDifference(a, b, baseName) {
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  const around = (x) => x.slice(Math.max(0, i - 2), i + 3).map((l, k) => `${k + Math.max(0, i - 2) === i ? ">" : " "} ${l}`).join("\n");
  return `first difference at line ${i + 1} of the outcome:\n${baseName}:\n${around(a)}\nwork tree:\n${around(b)}`;
}

function fail(msg) {
  throw new Refusal(msg);
}
