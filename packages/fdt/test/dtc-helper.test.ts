// The dtc helper's contract: without dtc, a test fails in CI and skips with
// the reason elsewhere.
import { describe, expect, test } from "vitest";
import { findDtc, isCi, requireDtc } from "./dtc.js";

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
    expect(() => requireDtc(skip, { ...NO_DTC, CI: "1" })).toThrow(/CI is set, so this is a failure/);
  });

  test("skips with the reason when dtc is missing outside CI", () => {
    for (const env of [{ ...NO_DTC }, { ...NO_DTC, CI: "" }, { ...NO_DTC, CI: "false" }, { ...NO_DTC, CI: "0" }]) {
      expect(() => requireDtc(skip, env)).toThrow(new Skipped("dtc not found (ran '/nonexistent/irqlab/dtc --version'); install device-tree-compiler to run this test"));
    }
  });

  test("isCi", () => {
    expect(isCi({ CI: "true" })).toBe(true);
    expect(isCi({ CI: "1" })).toBe(true);
    expect(isCi({ CI: "FALSE" })).toBe(false);
    expect(isCi({})).toBe(false);
  });

  test("a present dtc reports its version and string list style", (ctx) => {
    const dtc = requireDtc((note) => ctx.skip(note));
    expect(dtc.version).toMatch(/^\d+\.\d+\.\d+$/);
    const [maj, min, pat] = dtc.version.split(".").map(Number) as [number, number, number];
    const splits = maj * 10000 + min * 100 + pat >= 10701;
    expect(dtc.stringLists).toBe(splits ? "split" : "joined");
    expect(findDtc()).toEqual(dtc);
  });
});
