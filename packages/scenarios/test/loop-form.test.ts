/**
 * Every scenario, with each remedy, on its own machines: the row its guests
 * give as written (their repeats, sequences, polls and calls run through the
 * run loop's fast paths) is the row they give in their loop form
 * (ScenarioRunOptions.loopForm: each of those as the loop of yields it stands
 * for), values, verdict and notes alike; and so is the trace, where the
 * scenario records one. The guest images' own comparison
 * (packages/guest/test/loop-form-workloads.test.ts) runs each image on one
 * machine; these are the seeds' machines: several VMs sharing a host's
 * VS-files, QMP hot-plug, devices plugged before the vgic is initialised.
 */
import { join } from "node:path";
import type { Tracer } from "@irqlab/sim";
import { describe, expect, test, vi } from "vitest";
import { scenarios } from "../src/registry.js";
import type { RemedyRow, Scenario } from "../src/scenario.js";
import { loadUserScenarioFile } from "../src/user-file/user-file-read.js";
import { userScenario } from "../src/user-file/user-scenario.js";

// Counts the guests booted in their loop form, so that a scenario that ignored the option would fail.
const booted = vi.hoisted(() => ({ loopForm: 0 }));
vi.mock("../src/framework/guest-form.js", async (importOriginal) => {
  const real = await importOriginal<typeof import("../src/framework/guest-form.js")>();
  return {
    guestInForm: (...args: Parameters<typeof real.guestInForm>) => {
      if (args[1] === true) booted.loopForm++;
      return real.guestInForm(...args);
    },
  };
});

const EXAMPLE = join(import.meta.dirname, "..", "examples", "two-vms-vsfile.yaml");
const all: readonly Scenario[] = [...scenarios, userScenario(loadUserScenarioFile(EXAMPLE))];

/** What a row says, and the text of each trace it carries. */
function outcome(row: RemedyRow): { values: unknown; verdict: string; notes: readonly string[]; traces: Record<string, string> } {
  const traces: Record<string, string> = {};
  const add = (key: string, t: Tracer | undefined): void => {
    if (t !== undefined) traces[key] = t.toText();
  };
  add("", row.tracer);
  for (const [k, t] of Object.entries(row.traces ?? {})) add(k, t);
  return { values: row.values, verdict: row.verdict, notes: row.notes, traces };
}

describe("every scenario gives the same row with its guests in their loop form", () => {
  test.each(all.flatMap((s) => s.remedies.map((r) => [`${s.name} / ${r.name}`, s, r.name] as const)))("%s", (_label, s, remedy) => {
    for (const trace of [false, true]) {
      const fast = outcome(s.run(remedy, { seed: 1, trace }));
      booted.loopForm = 0;
      const loop = outcome(s.run(remedy, { seed: 1, trace, loopForm: true }));
      expect(loop).toEqual(fast);
      // The model checker boots no guest; every other scenario boots at least one, in its loop form.
      if (s.name !== "wakeup-explorer") expect(booted.loopForm).toBeGreaterThan(0);
      if (trace && s.name !== "wakeup-explorer") expect(Object.keys(fast.traces).length).toBeGreaterThan(0);
    }
  }, 120_000);
});
