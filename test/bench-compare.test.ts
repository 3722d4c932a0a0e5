/**
 * `npm run bench:compare`, briefly: the work tree against its own HEAD with a
 * few short runs, so that the script keeps bundling a revision from its own
 * sources and keeps reading the span runner's output. The figures themselves
 * are not checked (a test must not time anything); their shape and the
 * guest's row are.
 */
import { spawnSync } from "node:child_process";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { helperThreadsPreload } from "../scripts/micro-bench-process.mjs";

const root = join(import.meta.dirname, "..");
const script = join(root, "scripts", "bench-compare.mjs");

/**
 * What a span process is started with before the flags asked for: the preload that moves V8's
 * helper threads off the measured CPU, where there is another CPU and taskset to move them with.
 */
const preload = helperThreadsPreload(0);

function compare(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [script, ...args], { cwd: root, encoding: "utf8" });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe("scripts/bench-compare.mjs", () => {
  test("measures a revision and the work tree in alternating processes and finds the same guest row", () => {
    const r = compare("HEAD", "--tests", "hyp_call,ipi", "--processes", "2", "--runs", "1", "--warmups", "0", "--times", "64", "--json");
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout) as {
      revision: string;
      processes: number;
      results: { test: string; times: number; base: { median: number; fastest: number }; work: { median: number }; ratio: number; baseRow: string; workRow: string }[];
    };
    expect(out).toMatchObject({ revision: "HEAD", processes: 2 });
    expect(out.results.map((x) => x.test)).toEqual(["hyp_call", "ipi"]);
    for (const x of out.results) {
      expect(x.times).toBe(64);
      expect(x.base.median).toBeGreaterThan(0);
      expect(x.base.fastest).toBeLessThanOrEqual(x.base.median);
      expect(x.work.median).toBeGreaterThan(0);
      expect(x.ratio).toBeGreaterThan(0);
      // micro-bench's row: the test's name, then its virtual total and average ns.
      expect(x.baseRow).toMatch(new RegExp(`^${x.test}\\s+\\d+\\.\\d\\s+\\d+\\.\\d`));
      expect(x.workRow).toBe(x.baseRow);
    }
  }, 120_000);

  test("--steady runs each process with concurrent recompilation off, pinned to the CPU asked for", () => {
    const r = compare("HEAD", "--steady", "--cpu", "0", "--tests", "hyp_call", "--processes", "1", "--runs", "1", "--warmups", "0", "--times", "64", "--json");
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout) as { steady: boolean; cpu: number; nodeFlags: string[]; results: { test: string; times: number; baseRow: string; workRow: string; execArgv: (string[] | null)[] }[] };
    expect(out).toMatchObject({ steady: true, cpu: 0, nodeFlags: ["--no-concurrent-recompilation"] });
    expect(out.results).toMatchObject([{ test: "hyp_call", times: 64 }]);
    // What the work tree's span process says it ran with (a base revision's runner may not say).
    expect(out.results[0]!.execArgv[1]).toEqual([...preload, "--no-concurrent-recompilation"]);
    expect(out.results[0]!.workRow).toBe(out.results[0]!.baseRow);
    // Without --steady the processes run with node's defaults, on the last CPU.
    const plain = compare("HEAD", "--tests", "hyp_call", "--processes", "1", "--runs", "1", "--warmups", "0", "--times", "64", "--json");
    expect(JSON.parse(plain.stdout)).toMatchObject({ steady: false, cpu: availableParallelism() - 1, nodeFlags: [], });
    expect((JSON.parse(plain.stdout) as typeof out).results[0]!.execArgv[1]).toEqual(preload);
  }, 120_000);

  test("scale and scale-hot time the RISC-V scale bench's deliveries, with the virtual ns per delivery as the row both sides must agree on", () => {
    const r = compare("HEAD", "--tests", "scale-hot,scale", "--processes", "1", "--runs", "1", "--warmups", "0", "--json");
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout) as { results: { test: string; times?: number; base: { median: number; fastest: number }; work: { median: number }; ratio: number; baseRow: string; workRow: string }[] };
    expect(out.results.map((x) => x.test)).toEqual(["scale-hot", "scale"]);
    for (const x of out.results) {
      expect(x.times).toBeUndefined();
      expect(x.base.median).toBeGreaterThan(0);
      expect(x.work.median).toBeGreaterThan(0);
      expect(x.ratio).toBeGreaterThan(0);
      // One span of 4096 deliveries: every MSI claimed by its guest.
      expect(x.baseRow).toMatch(new RegExp(`^${x.test === "scale" ? "cold" : "hot"}: \\d+\\.\\d virtual ns per delivery, 4096 claims of 4096 MSIs$`));
      expect(x.workRow).toBe(x.baseRow);
    }
  }, 120_000);

  test("--paired measures both sides in each process, alternating their spans, and reports the range of the processes' ratios", () => {
    const r = compare("HEAD", "--paired", "--tests", "hyp_call,scale-hot", "--processes", "2", "--runs", "2", "--warmups", "0", "--times", "64", "--json");
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout) as {
      paired: boolean;
      processes: number;
      results: { test: string; times: number; base: { median: number; fastest: number }; work: { median: number; fastest: number }; ratio: number; ratioRange: [number, number]; processRatios: number[]; baseRow: string; workRow: string }[];
    };
    expect(out).toMatchObject({ paired: true, processes: 2 });
    expect(out.results.map((x) => x.test)).toEqual(["hyp_call", "scale-hot"]);
    for (const x of out.results) {
      expect(x.base.fastest).toBeGreaterThan(0);
      expect(x.base.fastest).toBeLessThanOrEqual(x.base.median);
      expect(x.work.fastest).toBeLessThanOrEqual(x.work.median);
      // One ratio per process; the median (the upper of two) and the range are theirs.
      expect(x.processRatios).toHaveLength(2);
      expect(x.ratioRange).toEqual([Math.min(...x.processRatios), Math.max(...x.processRatios)]);
      expect(x.ratio).toBe(x.ratioRange[1]);
      expect(x.ratioRange[0]).toBeGreaterThan(0);
      expect(x.workRow).toBe(x.baseRow);
    }
    expect(out.results[0]!.baseRow).toMatch(/^hyp_call\s+\d+\.\d\s+\d+\.\d/);
    // Two timed spans of 4096 deliveries per side, each process's rows over its own spans.
    expect(out.results[1]!.baseRow).toMatch(/^hot: \d+\.\d virtual ns per delivery, 8192 claims of 8192 MSIs$/);
  }, 180_000);

  test("--aa measures the revision against itself first, the same way, and prints that ratio under the comparison's", () => {
    const r = compare("HEAD", "--aa", "--paired", "--tests", "hyp_call", "--processes", "2", "--runs", "1", "--warmups", "0", "--times", "64", "--json");
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout) as { aa: boolean; results: { test: string; ratio: number; aa: { ratio: number; ratioRange: [number, number] } }[] };
    expect(out.aa).toBe(true);
    const aa = out.results[0]!.aa;
    expect(aa.ratio).toBeGreaterThan(0);
    expect(aa.ratio).toBe(aa.ratioRange[1]); // the median of two processes' ratios: the upper
    const text = compare("HEAD", "--aa", "--tests", "hyp_call", "--processes", "1", "--runs", "1", "--warmups", "0", "--times", "64");
    expect(text.status).toBe(0);
    expect(text.stdout).toMatch(/\nhyp_call .* ratio \d\.\d{3}\n +HEAD against itself: ratio \d\.\d{3}\n$/);
    // Without --aa there is no such figure.
    expect(JSON.parse(compare("HEAD", "--tests", "hyp_call", "--processes", "1", "--runs", "1", "--warmups", "0", "--times", "64", "--json").stdout)).toMatchObject({ aa: false });
  }, 180_000);

  test("refuses what it cannot measure: no revision, a revision git does not know, a bad count", () => {
    const none = compare();
    expect(none.status).toBe(2);
    expect(none.stderr).toMatch(/^usage: npm run bench:compare -- <revision>/);
    const unknown = compare("no-such-revision-here", "--tests", "hyp_call");
    expect(unknown.status).not.toBe(0);
    expect(unknown.stderr).toContain("no-such-revision-here");
    const bad = compare("HEAD", "--processes", "0");
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toContain("--processes 0: not an integer of at least 1");
    const cpu = compare("HEAD", "--cpu", String(availableParallelism()));
    expect(cpu.status).not.toBe(0);
    expect(cpu.stderr).toContain(`--cpu ${availableParallelism()}: this machine's CPUs are 0..${availableParallelism() - 1}`);
  });
});
