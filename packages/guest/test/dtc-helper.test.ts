// The dtc helper's contract: without dtc a test fails in CI and skips elsewhere.
import { describe, expect, test } from "vitest";
import { isCi, requireDtc } from "./dtc.js";

class Skipped extends Error {}
const skip = (note: string): never => {
  throw new Skipped(note);
};
const NO_DTC = { IRQLAB_DTC: "/nonexistent/irqlab/dtc" };

describe("requireDtc", () => {
  test("fails when dtc is missing and CI is set", () => {
    expect(() => requireDtc(skip, { ...NO_DTC, CI: "true" })).toThrow(
      "dtc not found (ran '/nonexistent/irqlab/dtc --version'); install device-tree-compiler to run this test (CI is set, so this is a failure, not a skip)",
    );
  });

  test("skips with the reason when dtc is missing outside CI", () => {
    for (const env of [NO_DTC, { ...NO_DTC, CI: "" }, { ...NO_DTC, CI: "0" }, { ...NO_DTC, CI: "false" }]) {
      expect(() => requireDtc(skip, env)).toThrow(Skipped);
    }
  });

  test("isCi", () => {
    expect([isCi({ CI: "1" }), isCi({ CI: "true" }), isCi({}), isCi({ CI: "FALSE" })]).toEqual([true, true, false, false]);
  });
});
