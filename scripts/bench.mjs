#!/usr/bin/env node
// `npm run bench`: runs every packages/*/bench/*.bench.ts, apps/*/bench/*.bench.ts and fuzz/bench/*.bench.ts
// and writes bench-results.json at the repository root:
//   [{ "package": "@irqlab/sim", "name": "...", "hz": <operations per second>,
//      "wallNsPerOp", "opsPerCall", "spreadPercent", plus any `meta` the bench declares }]
//
// Each bench file is bundled with esbuild from the TypeScript sources (the
// "@irqlab/source" condition) into one scope-hoisted module, as tsup ships the
// packages, and run in a child process of its own so that one file's JIT
// feedback cannot slow another's. vitest's `bench`/`describe` are replaced by
// a small shim; tasks run for a fixed wall-clock budget after a warm-up, and
// the median of the samples is reported. A bench whose name ends in "[xN]"
// does N operations per call; its hz is multiplied by N. A bench that
// measures its figure itself, in processes of its own beside another program
// (qemu-tcg.bench.ts), passes it as `options.measured` ({ wallNsPerOp,
// spreadPercent }): it is recorded as it is, and the task is not timed.
//
// Before the first bench file and after the last, scripts/machine-probe.mjs measures the machine
// itself in a process of its own: ns per step of a compute loop and of a pointer chase through
// memory, and the same chase through buffers of 4 to 32 MiB (how much of the last-level cache the
// process has). Its results (package "(machine)", "before" and "after") tell figures taken in one
// of a shared machine's slow phases from a change in the model.
//
// Options: --filter <substring> (bench file path), --time <ms per sample> (default 250).
import { spawnSync } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, existsSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { SOURCE_BUNDLE } from "./source-bundle.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const outDir = join(root, ".bench-raw");
const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1] : dflt;
};

if (args[0] === "--child") {
  await runChild(args[1], args[2], Number(args[3]));
} else {
  await main(opt("--filter", ""), Number(opt("--time", "250")));
}

async function main(filter, sampleMs) {
  const files = [];
  // The fuzz targets' rates (fuzz/bench) are recorded under the name "irqlab-fuzz".
  const fuzzBench = join(root, "fuzz", "bench");
  for (const f of existsSync(fuzzBench) ? readdirSync(fuzzBench).sort() : []) {
    if (f.endsWith(".bench.ts") && join("fuzz", "bench", f).includes(filter)) files.push({ pkg: "irqlab-fuzz", file: join(fuzzBench, f) });
  }
  for (const top of ["packages", "apps"]) {
    const dir = join(root, top);
    if (!existsSync(dir)) continue;
    for (const pkg of readdirSync(dir)) {
      const benchDir = join(dir, pkg, "bench");
      if (!existsSync(benchDir)) continue;
      const name = JSON.parse(readFileSync(join(dir, pkg, "package.json"), "utf8")).name;
      for (const f of readdirSync(benchDir).sort()) {
        if (f.endsWith(".bench.ts") && join(top, pkg, "bench", f).includes(filter)) {
          files.push({ pkg: name, file: join(benchDir, f) });
        }
      }
    }
  }
  mkdirSync(outDir, { recursive: true });
  const results = [];
  report(results, probeResults("before"));
  for (const { pkg, file } of files) {
    const out = join(outDir, relative(root, file).replace(/[\\/]/g, "__").replace(/\.ts$/, ".mjs"));
    await build({
      ...SOURCE_BUNDLE,
      entryPoints: [file],
      outfile: out,
      alias: { vitest: join(root, "scripts", "bench-shim.mjs") },
      // A bench that bundles a command itself (its-trigger-process) loads esbuild as it is installed.
      external: ["esbuild"],
    });
    process.stdout.write(`\n${pkg}  ${relative(root, file)}\n`);
    // --expose-gc lets a bench that reports heap use collect first (global.gc); it changes nothing else.
    const child = spawnSync(process.execPath, ["--expose-gc", fileURLToPath(import.meta.url), "--child", out, pkg, String(sampleMs)], {
      stdio: ["ignore", "pipe", "inherit"],
      encoding: "utf8",
      maxBuffer: 64 * 1024 * 1024,
    });
    if (child.status !== 0) {
      console.error(`bench file failed: ${relative(root, file)}`);
      process.exitCode = 1;
      continue;
    }
    const line = child.stdout.split("\n").find((l) => l.startsWith("@@RESULTS@@"));
    report(results, JSON.parse(line.slice("@@RESULTS@@".length)));
  }
  report(results, probeResults("after"));
  writeFileSync(join(root, "bench-results.json"), JSON.stringify(results, null, 2) + "\n");
  console.log(`\nwrote bench-results.json (${results.length} results)`);
}

/** Adds `more` to `results` and prints them. */
function report(results, more) {
  for (const r of more) {
    results.push(r);
    console.log(`  ${fmt(r.hz).padStart(14)} ops/s   ${r.name}`);
  }
}

/** The machine probe's figures as results, `when` the benches ("before", "after"); none if it failed. */
function probeResults(when) {
  process.stdout.write(`\n(machine)  scripts/machine-probe.mjs, ${when} the benches\n`);
  const child = spawnSync(process.execPath, [join(root, "scripts", "machine-probe.mjs")], { stdio: ["ignore", "pipe", "inherit"], encoding: "utf8" });
  if (child.status !== 0) {
    console.error("machine probe failed");
    process.exitCode = 1;
    return [];
  }
  const p = JSON.parse(child.stdout);
  const result = (what, ns, spread, meta = {}) => ({
    package: "(machine)",
    name: `machine probe ${when} the benches > ${what}`,
    hz: Math.round(1e9 / ns),
    wallNsPerOp: Math.round(ns * 100) / 100,
    opsPerCall: 1,
    spreadPercent: Math.round(spread * 1000) / 10,
    ...meta,
  });
  return [
    result("one step of a xorshift32 loop (compute)", p.computeNs, p.computeSpread),
    result(`one load of a pointer chase through ${p.memoryMiB} MiB (memory latency)`, p.memoryNs, p.memorySpread, { memoryMiB: p.memoryMiB }),
    ...p.cacheCurve.map((c) => result(`one load of a pointer chase through ${c.mib} MiB (last-level cache share)`, c.ns, c.spread, { memoryMiB: c.mib })),
  ];
}

async function runChild(modulePath, pkg, sampleMs) {
  await import(modulePath); // registers its tasks through the bundled shim
  const tasks = globalThis.__irqlabBenchTasks ?? [];
  const results = [];
  for (const t of tasks) {
    const name = t.group ? `${t.group} > ${t.name}` : t.name;
    const measured = t.options?.measured;
    if (measured !== undefined) {
      // Measured by the bench itself (in processes of its own, beside another program): recorded as it is.
      results.push({
        package: pkg,
        name,
        hz: Math.round(1e9 / measured.wallNsPerOp),
        wallNsPerOp: Math.round(measured.wallNsPerOp * 100) / 100,
        opsPerCall: 1,
        spreadPercent: Math.round(measured.spreadPercent * 10) / 10,
        ...(t.options.meta ?? {}),
      });
      continue;
    }
    const ops = Number(/\[x(\d+)\]\s*$/.exec(t.name)?.[1] ?? 1);
    const samples = [];
    const deadline = (ms) => process.hrtime.bigint() + BigInt(ms) * 1_000_000n;
    // A synchronous bench is called without await: an await per call would
    // cost more than many of the operations measured.
    const isAsync = t.fn() instanceof Promise;
    // Warm-up, then timed samples.
    for (const [ms, keep] of [[sampleMs, false], [sampleMs, true], [sampleMs, true], [sampleMs, true], [sampleMs, true], [sampleMs, true]]) {
      const end = deadline(ms);
      let calls = 0;
      const t0 = process.hrtime.bigint();
      let now = t0;
      while (now < end) {
        if (isAsync) for (let i = 0; i < 8; i++) await t.fn();
        else for (let i = 0; i < 8; i++) t.fn();
        calls += 8;
        now = process.hrtime.bigint();
      }
      if (keep) samples.push((calls * 1e9) / Number(now - t0));
    }
    samples.sort((a, b) => a - b);
    const hz = samples[samples.length >> 1] * ops;
    const spread = ((samples.at(-1) - samples[0]) / samples[samples.length >> 1]) * 100;
    results.push({
      package: pkg,
      name,
      hz: Math.round(hz),
      wallNsPerOp: Math.round((1e9 / hz) * 100) / 100,
      opsPerCall: ops,
      spreadPercent: Math.round(spread * 10) / 10,
      ...(t.options?.meta ?? {}),
    });
  }
  console.log("@@RESULTS@@" + JSON.stringify(results));
}

function fmt(n) {
  return n.toLocaleString("en-US", { maximumFractionDigits: 0 });
}
