/**
 * `npm run fuzz -- --against REV`, briefly: the work tree against its own
 * HEAD on a few cases of run-loop-forms, so that the script keeps exporting a
 * revision, building the work tree's targets against its packages and
 * comparing outcomes; and the fuzzer's --outcomes / --outcome output it
 * compares.
 */
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { describe, expect, test } from "vitest";

const root = join(import.meta.dirname, "..");
const script = join(root, "scripts", "fuzz.mjs");

function fuzz(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [script, ...args], { cwd: root, encoding: "utf8" });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe("scripts/fuzz.mjs --against", () => {
  test("the work tree against HEAD: every case ends the same", () => {
    const r = fuzz("--target", "run-loop-forms", "--seed", "3", "--cases", "2", "--ops", "30", "--against", "HEAD");
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^fuzz --against HEAD: 2 case\(s\), the same outcome at [0-9a-f]{12} and in the work tree\n$/);
  }, 120_000);

  test("--outcomes prints a digest per case, the same on every run; --outcome the whole text", () => {
    const digests = fuzz("--target", "run-loop-forms", "--seed", "3", "--cases", "2", "--ops", "30", "--outcomes");
    expect(digests.status).toBe(0);
    expect(digests.stdout).toMatch(/^run-loop-forms 3 [0-9a-f]{64}\nrun-loop-forms 4 [0-9a-f]{64}\n$/);
    expect(fuzz("--target", "run-loop-forms", "--seed", "3", "--cases", "2", "--ops", "30", "--outcomes").stdout).toBe(digests.stdout);
    const text = fuzz("--target", "run-loop-forms", "--seed", "3", "--ops", "30", "--outcome");
    expect(text.status).toBe(0);
    expect(text.stdout).toMatch(/^untraced:\nend \S+\nnow \d+\nthreads /);
    expect(text.stdout).toContain("\ntraced:\n");
  }, 120_000);

  test("a target without an outcome, --minutes, and a missing or unknown revision are refused", () => {
    expect(fuzz("--target", "gic-registers", "--outcomes").stderr).toContain("target 'gic-registers' has no outcome to compare");
    expect(fuzz("--target", "run-loop-forms", "--minutes", "1", "--against", "HEAD").stderr).toContain("use --cases N, not --minutes");
    const none = fuzz("--target", "run-loop-forms", "--against");
    expect(none.status).toBe(2);
    expect(none.stderr).toContain("--against needs a revision");
    const unknown = fuzz("--target", "run-loop-forms", "--against", "no-such-revision-here");
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toBe("fuzz: --against no-such-revision-here: git knows no commit 'no-such-revision-here'\n");
  }, 120_000);
});

describe("scripts/fuzz.mjs options", () => {
  test("--help prints the options and exits 0; an unknown option or a missing value is a usage error, status 2", () => {
    const help = fuzz("--help");
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/^usage: npm run fuzz -- /);
    for (const option of ["--target", "--seed", "--ops", "--minutes", "--cases", "--against", "--outcomes", "--outcome", "--list"]) expect(help.stdout).toContain(`\n  ${option} `);
    expect(fuzz("-h").stdout).toBe(help.stdout);
    const unknown = fuzz("--bogus");
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toMatch(/^fuzz: Unknown option '--bogus'/);
    expect(unknown.stderr).toContain("\nusage: npm run fuzz -- ");
    const missing = fuzz("--seed");
    expect(missing.status).toBe(2);
    expect(missing.stderr).toMatch(/^fuzz: Option '--seed <value>' argument missing/);
  }, 120_000);
});
