/**
 * The GIC workload images (gicv3-ipi, gicv3-active, micro-bench) on the bare
 * GICv3 model with the test executor: the lines kvm-unit-tests prints, the
 * EXIT status, and the failure paths (too few CPUs, an IPI that never
 * arrives).
 */

import { Gicv3, ICC_PMR_EL1 } from "@irqlab/gic";
import { describe, expect, test } from "vitest";
import { guestImages, MICRO_BENCH_HEADER, microBenchImage, microBenchRow, ticksToNsTime } from "../src/index.js";
import { runGicGuest } from "./gic-executor.js";
import { lines } from "./guest-executor.js";
import { armVirtTree } from "./trees.js";

const run = (name: string, cpus: number, gic?: Gicv3) =>
  runGicGuest({ image: guestImages[name]!.create(), blob: armVirtTree({ cpus, its: false }), cpus, maxOps: 2_000_000, ...(gic === undefined ? {} : { gic }) });

describe("gicv3-ipi", () => {
  test.each([2, 3, 4])("%i CPUs: self, target-list and broadcast pass; SUMMARY: 3 tests; EXIT: STATUS=1; SYSTEM_OFF", (n) => {
    const r = run("gicv3-ipi", n);
    expect(r.faults).toEqual([]);
    expect(r.stop).toBe("power");
    expect(lines(r.uart)).toEqual([
      "PASS: gicv3: ipi: self: Interrupts received",
      "PASS: gicv3: ipi: target-list: Interrupts received",
      "PASS: gicv3: ipi: broadcast: Interrupts received",
      "SUMMARY: 3 tests",
      "",
      "EXIT: STATUS=1",
    ]);
    // self: CPU 1; target-list: the CPUs of even number; broadcast: all but CPU 1.
    const expected = Array.from({ length: n }, (_, c) => (c === 1 ? 1 : 0) + (c % 2 === 0 ? 1 : 0) + (c !== 1 ? 1 : 0));
    expect(r.taken).toEqual(expected);
    expect(r.calls.at(-1)).toBe("hvc 0x84000008");
  });

  test("one CPU: ABORT, SUMMARY: 0 tests, EXIT: STATUS=127 (abort)", () => {
    const r = run("gicv3-ipi", 1);
    expect(lines(r.uart)).toEqual(["ABORT: gicv3: ipi: At least 2 cpus required", "SUMMARY: 0 tests", "", "EXIT: STATUS=127"]);
  });

  test("CPU 0 with SGIs kept at the lowest priority (masked by PMR) never acknowledges: FAIL with the missing count", () => {
    const gic = new Gicv3({ cpus: 2 });
    // A GIC whose PE 0 ignores the driver's PMR write: every interrupt stays masked there.
    const write = gic.writeSysReg.bind(gic);
    gic.writeSysReg = (pe, reg, value, hi) => write(pe, reg, pe === 0 && reg === ICC_PMR_EL1 ? 0 : value, hi);
    const r = run("gicv3-ipi", 2, gic);
    expect(lines(r.uart)).toEqual([
      "PASS: gicv3: ipi: self: Interrupts received",
      "INFO: gicv3: ipi: target-list: interrupts timed-out (5s)",
      "INFO: gicv3: ipi: target-list: ACKS: missing=1 extra=0 unexpected=0",
      "FAIL: gicv3: ipi: target-list: Interrupts received",
      "INFO: gicv3: ipi: broadcast: interrupts timed-out (5s)",
      "INFO: gicv3: ipi: broadcast: ACKS: missing=1 extra=0 unexpected=0",
      "FAIL: gicv3: ipi: broadcast: Interrupts received",
      "SUMMARY: 3 tests, 2 unexpected failures",
      "",
      "EXIT: STATUS=3",
    ]);
  });
});

describe("gicv3-active", () => {
  test("the SGI's active state cleared through GICR_ICACTIVER0: PASS, SUMMARY: 1 tests", () => {
    const r = run("gicv3-active", 2);
    expect(lines(r.uart)).toEqual(["PASS: gicv3: active: self: Interrupts received", "SUMMARY: 1 tests", "", "EXIT: STATUS=1"]);
    // No EOI was written: the SGI is inactive (cleared by the handler) but its priority is still running.
    expect(r.gic.irqs.status(0, 1).active).toBe(false);
    expect(r.taken).toEqual([1, 0]);
  });
});

describe("micro-bench", () => {
  test("ticks_to_ns_time rounds picoseconds per tick up; rows use micro-bench.c's widths", () => {
    expect(ticksToNsTime(1, 25_000_000)).toEqual([40, 0]);
    expect(ticksToNsTime(3, 24_000_000)).toEqual([125, 0]); // 41667 ps per tick
    expect(ticksToNsTime(7, 62_500_000)).toEqual([112, 0]);
    expect(ticksToNsTime(1, 3)).toEqual([333333333, 3]);
    expect(microBenchRow("eoi", 22938, 65536, 25_000_000)).toBe(`eoi${" ".repeat(27)}${"917520".padStart(15)}.0${" ".repeat(14)}${"14".padStart(15)}.0${" ".repeat(14)}\n`);
    expect(MICRO_BENCH_HEADER.split("\n")[2]).toBe("-".repeat(92));
  });

  test("two CPUs: the table with every test that runs here, the skipped ones named, EXIT: STATUS=1", () => {
    const r = runGicGuest({ image: microBenchImage({ times: 64 }), blob: armVirtTree({ cpus: 2, its: false }), cpus: 2 });
    expect(r.stop).toBe("power");
    const out = lines(r.uart);
    expect(out.slice(0, 4)).toEqual(["Timer Frequency 25000000 Hz (Output in microseconds)", "", `${"name".padEnd(30)}${"total ns".padStart(18)}${" ".repeat(13)}${"avg ns".padStart(18)}${" ".repeat(13)}`, "-".repeat(92)]);
    expect(out.slice(4, 9).map((l) => l.slice(0, 30).trim())).toEqual(["hyp_call", "mmio_read_user", "mmio_read_vgic", "eoi", "ipi"]);
    for (const l of out.slice(4, 9)) expect(l).toMatch(/^\S+\s+\d+\.\d\s+\d+\.\d\s+$/);
    expect(out.slice(9)).toEqual(["ipi_hw test skipped", "lpi test skipped", "timer_10ms test skipped", "", "EXIT: STATUS=1"]);
    // CPU 1 took one SGI per ipi iteration; hyp_call went out 64 times with w0 = 0x4b000000.
    expect(r.taken[1]).toBe(64);
    expect(r.calls.filter((c) => c === "hvc 0x4b000000")).toHaveLength(64);
  });

  test("one CPU: \"At least two cpus required, skipping tests...\", EXIT: STATUS=3", () => {
    const r = runGicGuest({ image: microBenchImage(), blob: armVirtTree({ cpus: 1, its: false }), cpus: 1 });
    expect(lines(r.uart)).toEqual(["At least two cpus required, skipping tests...", "", "EXIT: STATUS=3"]);
  });
});
