/**
 * The vcpu-handoff bench's workload does what its rows say: per store of
 * vCPU 0, 1 ns of virtual time, and a KVM_RUN continuation of vCPU 1 (one
 * queue event) in lockstep only, where the two vCPUs take turns at every
 * store; beside a spinning vCPU 1 the queue asks its continuation and never
 * runs it.
 */
import { describe, expect, test } from "vitest";
import { HANDOFF_MODES, STORES_PER_SEQ, perStore, runHandoff } from "../bench/vcpu-handoff-run.js";

const SEQS = 20;

describe("vcpu-handoff workload", () => {
  test.each(HANDOFF_MODES)("%s: the model's work per store of vCPU 0", (mode) => {
    const w = perStore(runHandoff(mode, SEQS), runHandoff(mode, 0), SEQS);
    expect(w.virtualNs).toBe(1);
    const turns = mode === "lockstep" ? 1 : 0;
    expect(w.continuations).toBe(turns);
    expect(w.events).toBe(turns);
  });

  test("a run of no sequences still spans the console output around them, and a run of some spans their stores besides", () => {
    const none = runHandoff("alone", 0);
    const some = runHandoff("alone", SEQS);
    expect(none.virtualNs).toBeGreaterThan(0);
    expect(some.virtualNs - none.virtualNs).toBe(SEQS * STORES_PER_SEQ);
  });
});
