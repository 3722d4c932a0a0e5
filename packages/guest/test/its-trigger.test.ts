// The its-trigger image under the arm64 machine (KVM's vITS), as
// kvm-unit-tests' [its-trigger] prints it.
import { describe, expect, test } from "vitest";
import { itsTriggerImage } from "../src/index.js";
import { runOnMachine } from "./machine-run.js";

const PASSES = [
  "PASS: gicv3: its-trigger: int: dev=2, eventid=20  -> lpi= 8195, col=3",
  "PASS: gicv3: its-trigger: int: dev=7, eventid=255 -> lpi= 8196, col=2",
  "PASS: gicv3: its-trigger: inv/invall: dev2/eventid=20 does not trigger any LPI",
  "PASS: gicv3: its-trigger: inv/invall: dev2/eventid=20 pending LPI is received",
  "PASS: gicv3: its-trigger: inv/invall: dev2/eventid=20 now triggers an LPI",
  "PASS: gicv3: its-trigger: mapd valid=false: no LPI after device unmap",
  "SUMMARY: 6 tests",
  "",
  "EXIT: STATUS=1",
];

describe("its-trigger", () => {
  test.each([2, 4])("-smp %i: six PASS lines, SUMMARY: 6 tests, SYSTEM_OFF", (n) => {
    const r = runOnMachine(["-M", "virt", "-accel", "kvm", "-smp", String(n), "-nographic"], itsTriggerImage());
    expect(r.lines.slice(-PASSES.length)).toEqual(PASSES);
    expect(r.end).toBe("shutdown");
  });

  test("without an ITS (-M virt,its=off): SKIP", () => {
    const r = runOnMachine(["-M", "virt,its=off", "-accel", "kvm", "-smp", "2", "-nographic"], itsTriggerImage());
    expect(r.lines.slice(-4)).toEqual(["SKIP: gicv3: its-trigger: No ITS, skip ...", "SUMMARY: 1 tests, 1 skipped", "", "EXIT: STATUS=77"]);
  });
});
