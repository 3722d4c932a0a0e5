/**
 * scripts/helper-threads.mjs, preloaded into the processes the benches pin to one CPU: every thread
 * of the process but the main one goes to the CPUs named in IRQLAB_HELPER_CPUS, so that V8's
 * compiles and concurrent marking run beside the measured thread rather than on its CPU. Without
 * the variable nothing moves.
 */
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { helperThreadsPreload } from "../scripts/micro-bench-process.mjs";

const preload = join(import.meta.dirname, "..", "scripts", "helper-threads.mjs");
// Another CPU to move them to, and taskset to move them with.
const canMove = helperThreadsPreload(0).length > 0;

/** Prints, as JSON, each thread of the process: whether it is the main one and the CPUs it may run on. */
const REPORT = `
const { readdirSync, readFileSync } = require("node:fs");
const threads = readdirSync("/proc/self/task").map((tid) => ({
  main: Number(tid) === process.pid,
  cpus: /Cpus_allowed_list:\\s*(\\S+)/.exec(readFileSync("/proc/self/task/" + tid + "/status", "latin1"))[1],
}));
process.stdout.write(JSON.stringify(threads));
`;

/** The threads of a node process pinned to CPU 0 with the preload, `helpers` in its environment. */
function threadsOf(helpers: string | undefined): { main: boolean; cpus: string }[] {
  const env = { ...process.env };
  delete env.IRQLAB_HELPER_CPUS;
  if (helpers !== undefined) env.IRQLAB_HELPER_CPUS = helpers;
  const r = spawnSync("taskset", ["-c", "0", process.execPath, "--import", preload, "-e", REPORT], { env, encoding: "utf8" });
  expect(r.stderr).toBe("");
  expect(r.status).toBe(0);
  return JSON.parse(r.stdout) as { main: boolean; cpus: string }[];
}

describe.skipIf(!canMove)("scripts/helper-threads.mjs", () => {
  test("moves every thread but the main one to the CPUs named, the main one staying where it was pinned", () => {
    const threads = threadsOf("1");
    expect(threads.filter((t) => t.main)).toEqual([{ main: true, cpus: "0" }]);
    const helpers = threads.filter((t) => !t.main);
    // V8's platform workers at least (node starts four).
    expect(helpers.length).toBeGreaterThanOrEqual(4);
    for (const t of helpers) expect(t.cpus).toBe("1");
  });

  test("moves nothing without IRQLAB_HELPER_CPUS", () => {
    for (const t of threadsOf(undefined)) expect(t.cpus).toBe("0");
  });
});
