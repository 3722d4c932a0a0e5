/**
 * irqlab's own run options: --until durations, --seed (QEMU's -seed
 * syntax), --host.
 */

import { describe, expect, test } from "vitest";
import { parseDuration, parseSeed } from "./run-options.js";
import { parseSystemCommandLine } from "./system-command-line.js";

describe("--until DURATION", () => {
  test.each<[string, number]>([
    ["10ms", 10_000_000],
    ["2s", 2_000_000_000],
    ["500us", 500_000],
    ["1000ns", 1000],
    ["1.5ms", 1_500_000],
    ["0.000000001s", 1],
    ["0s", 0],
  ])("%s is %i ns", (arg, ns) => {
    expect(parseDuration(arg)).toBe(ns);
  });

  test.each(["5", "10 ms", "ms", "-1ms", "1.5ns", "1e3ns", "10min", "99999999999s"])("%s is refused", (arg) => {
    expect(() => parseDuration(arg)).toThrow(/Parameter 'until'/);
  });
});

describe("--seed N", () => {
  test("decimal, hex and octal, as parse_uint_full with base 0", () => {
    expect(parseSeed("42")).toBe(42);
    expect(parseSeed("0x2a")).toBe(42);
    expect(parseSeed("052")).toBe(42);
  });

  test("refused: negative, junk, above 2^53 - 1", () => {
    expect(() => parseSeed("-1")).toThrow("Invalid seed number: -1");
    expect(() => parseSeed("1x")).toThrow("Invalid seed number: 1x");
    expect(() => parseSeed("9007199254740992")).toThrow("irqlab seeds are at most 2^53 - 1");
  });
});

describe("--host", () => {
  const host = (spec: string): unknown => {
    const r = parseSystemCommandLine("riscv64", ["-M", "virt", "--host", spec]);
    return r.kind === "run" ? r.config.host : r.kind;
  };

  test("defaults, an implied harts=, merging like QemuOpts merge_lists", () => {
    expect(host("harts=4")).toEqual({ harts: 4, guestFiles: 7, kernel: "linux-6.19" });
    expect(host("16,guest-files=0")).toEqual({ harts: 16, guestFiles: 0, kernel: "linux-6.19" });
    const r = parseSystemCommandLine("riscv64", ["-M", "virt", "-host", "8", "--host", "kernel=linux-6.18"]);
    expect(r.kind === "run" && r.config.host).toEqual({ harts: 8, guestFiles: 7, kernel: "linux-6.18" });
  });

  test("range and value checks, at the option's location", () => {
    expect(() => host("guest-files=64")).toThrow("--host guest-files=64: Parameter 'guest-files' expects a number between 0 and 63");
    expect(() => host("harts=x")).toThrow("--host harts=x: Parameter 'harts' expects a number");
    expect(() => host("cpus=2")).toThrow("--host cpus=2: Invalid parameter 'cpus'");
  });
});
