/**
 * The QEMU side of the bench that measures irqlab beside QEMU's TCG
 * (bench/qemu-tcg-run.ts): how it finds QEMU and a kvm-unit-tests build, the
 * command line it gives QEMU, and how it tells a passing test's exit. QEMU
 * itself is stood in for by a shell script, so these run without it.
 */
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { guestRow } from "../bench/micro-bench-run.js";
import { findQemuTcgSetup, qemuTcgArgs, runQemuTcg, testdevExitStatus } from "../bench/qemu-tcg-run.js";

const dir = mkdtempSync(join(tmpdir(), "irqlab-qemu-tcg-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A kvm-unit-tests tree with the two images (empty files: the stand-in QEMU never reads them). */
function builtTree(): string {
  const tree = join(dir, "kut");
  mkdirSync(join(tree, "arm"), { recursive: true });
  for (const image of ["micro-bench.flat", "gic.flat"]) writeFileSync(join(tree, "arm", image), "");
  return tree;
}

/** A stand-in for QEMU: prints its version, or `out` and exits with `status`. */
function fakeQemu(name: string, out: string, status: number): string {
  const path = join(dir, name);
  writeFileSync(path, `#!/bin/sh\nif [ "$1" = --version ]; then echo "QEMU emulator version 7.2.22"; exit 0; fi\nprintf '%s' '${out}'\nexit ${status}\n`);
  chmodSync(path, 0o755);
  return path;
}

// What kvm-unit-tests' arm/micro-bench.flat printed under QEMU 7.2's TCG here (the lines the bench reads).
const MICRO_BENCH_OUT = [
  "Timer Frequency 62500000 Hz (Output in microseconds)",
  "",
  `name${" ".repeat(36)}total ns${" ".repeat(25)}avg ns${" ".repeat(13)}`,
  "-".repeat(92),
  `hyp_call${" ".repeat(22)}${"6415936.0".padStart(17)}${" ".repeat(14)}${"97.0".padStart(17)}${" ".repeat(14)}`,
  `ipi${" ".repeat(27)}${"153367280.0".padStart(17)}${" ".repeat(14)}${"2340.0".padStart(17)}${" ".repeat(14)}`,
  "ipi_hw test skipped",
  `lpi${" ".repeat(27)}${"1119153360.0".padStart(17)}${" ".repeat(14)}${"17076.0".padStart(17)}${" ".repeat(14)}`,
  "",
  "EXIT: STATUS=1",
  "",
].join("\n");

describe("irqlab against QEMU's TCG: the QEMU side", () => {
  test("a test's exit(code) through chr-testdev ends QEMU with (code << 1) | 1 (chardev/testdev.c): a pass is 1, never QEMU's own 0", () => {
    expect(testdevExitStatus(0)).toBe(1);
    expect(testdevExitStatus(1)).toBe(3);
    expect(testdevExitStatus(3)).toBe(7);
  });

  test("QEMU's command line: arm/run's for TCG (chr-testdev, pci-testdev, cortex-a57, stdio), with GICv3 and one TCG thread", () => {
    expect(qemuTcgArgs("arm/gic.flat", 4, "its-trigger").join(" ")).toBe(
      "-nodefaults -machine virt,gic-version=3 -accel tcg,thread=single -cpu cortex-a57 -smp 4 -device virtio-serial-device " +
        "-device virtconsole,chardev=ctd -chardev testdev,id=ctd -device pci-testdev -display none -serial stdio " +
        "-kernel arm/gic.flat -append its-trigger",
    );
    expect(qemuTcgArgs("arm/micro-bench.flat", 2)).not.toContain("-append");
  });

  test("without a kvm-unit-tests build, or without QEMU, it says what is missing", () => {
    expect(findQemuTcgSetup({})).toMatch(/IRQLAB_KVM_UNIT_TESTS is not set/);
    const empty = join(dir, "empty");
    mkdirSync(empty, { recursive: true });
    expect(findQemuTcgSetup({ IRQLAB_KVM_UNIT_TESTS: empty })).toBe(`${join(empty, "arm", "micro-bench.flat")} does not exist: kvm-unit-tests is not built there for arm64`);
    expect(findQemuTcgSetup({ IRQLAB_KVM_UNIT_TESTS: builtTree(), QEMU: join(dir, "no-such-qemu") })).toMatch(/no-such-qemu --version failed: .*ENOENT/);
  });

  test("with both, the images, QEMU (named by QEMU as kvm-unit-tests' runner takes it) and its version", () => {
    const tree = builtTree();
    const qemu = fakeQemu("qemu-version", "", 0);
    expect(findQemuTcgSetup({ IRQLAB_KVM_UNIT_TESTS: tree, QEMU: qemu })).toEqual({
      qemu,
      version: "QEMU emulator version 7.2.22",
      microBench: join(tree, "arm", "micro-bench.flat"),
      gic: join(tree, "arm", "gic.flat"),
    });
  });

  test("a passing run gives its output and the rows' averages; an exit other than a pass's throws", () => {
    const tree = builtTree();
    const setup = findQemuTcgSetup({ IRQLAB_KVM_UNIT_TESTS: tree, QEMU: fakeQemu("qemu-pass", MICRO_BENCH_OUT, 1) });
    if (typeof setup === "string") throw new Error(setup);
    const r = runQemuTcg(setup, setup.microBench, 2);
    expect(r.out).toBe(MICRO_BENCH_OUT);
    expect(r.wallNs).toBeGreaterThan(0);
    expect([guestRow(r.out, "hyp_call").avg, guestRow(r.out, "ipi").avg, guestRow(r.out, "lpi").avg]).toEqual([97, 2340, 17076]);
    expect(() => guestRow(r.out, "ipi_hw")).toThrow(/no row for ipi_hw/);
    // QEMU's own exit with 0 (no test exit), and a test that failed (exit(1): 3).
    for (const [name, status] of [["qemu-zero", 0], ["qemu-failed", 3]] as const) {
      const failed = findQemuTcgSetup({ IRQLAB_KVM_UNIT_TESTS: tree, QEMU: fakeQemu(name, MICRO_BENCH_OUT.replace("STATUS=1", `STATUS=${status}`), status) });
      if (typeof failed === "string") throw new Error(failed);
      expect(() => runQemuTcg(failed, failed.microBench, 2)).toThrow(`exit ${status}, not a passing test's 1`);
    }
  });
});
