import { createHash } from "node:crypto";
import { describe, expect, test } from "vitest";
import { sbiIpiImage } from "../../src/images/sbi-ipi.js";
import { KtestPrng, sha256Words } from "../../src/riscv/ktest-prng.js";
import { runOnRiscvMachine } from "./machine-run.js";

const argv = (smp: number): string[] => ["-M", "virt,aia=aplic-imsic", "-accel", "kvm,riscv-aia=hwaccel", "-smp", String(smp)];

describe("kvm-unit-tests' PRNG (lib/rand.c)", () => {
  test("SHA-256 of big-endian words matches node:crypto", () => {
    for (const words of [[], [0xdeadbeef], [0, 0xdeadbeef], Array.from({ length: 13 }, (_, i) => i * 0x01010101)]) {
      const bytes = Buffer.alloc(words.length * 4);
      words.forEach((w, i) => bytes.writeUInt32BE(w >>> 0, i * 4));
      const hex = createHash("sha256").update(bytes).digest("hex");
      expect(sha256Words(words).map((w) => w.toString(16).padStart(8, "0")).join("")).toBe(hex);
    }
  });

  test("prng32 hands out the hash words, then re-hashes", () => {
    const p = new KtestPrng(0xdeadbeef);
    const first = sha256Words([0, 0xdeadbeef]);
    const got = Array.from({ length: 9 }, () => p.next32());
    expect(got.slice(0, 8)).toEqual(first);
    expect(got[8]).toBe(sha256Words(first)[0]);
  });
});

describe("sbi-ipi on the riscv64 virt machine under KVM (riscv-aia=hwaccel)", () => {
  test("-smp 4: every check_ipi test passes, as kvm-unit-tests prints it, then SBI shutdown", () => {
    const r = runOnRiscvMachine(sbiIpiImage(), argv(4));
    expect(r.lines).toEqual([
      "PASS: sbi: ipi: Bad FID: SBI_ERR_NOT_SUPPORTED",
      "PASS: sbi: ipi: random hart: ipi returned success",
      "PASS: sbi: ipi: two in hart_mask: ipi returned success",
      "PASS: sbi: ipi: broadcast: ipi returned success",
      "PASS: sbi: ipi: invalid parameters: no targets, hart_mask_base is 0: SBI_SUCCESS",
      "PASS: sbi: ipi: invalid parameters: no targets, hart_mask_base is 1: SBI_SUCCESS",
      "PASS: sbi: ipi: invalid parameters: hart_mask: SBI_ERR_INVALID_PARAM",
      "PASS: sbi: ipi: invalid parameters: hart_mask_base: SBI_ERR_INVALID_PARAM",
      "SUMMARY: 8 tests",
      "",
      "EXIT: STATUS=1",
    ]);
    expect(r.end).toBe("shutdown");
    // The receivers took their IPIs: 1 + 2 + 3 software interrupts, well before the 200 ms timeouts.
    expect(r.machine.queue.now).toBeLessThan(50_000_000);
  });

  test("-smp 2: the two-hart test is skipped", () => {
    const r = runOnRiscvMachine(sbiIpiImage(), argv(2));
    expect(r.lines).toContain("SKIP: sbi: ipi: two in hart_mask: 3 cpus required");
    expect(r.lines).toContain("SUMMARY: 8 tests, 1 skipped");
    expect(r.lines.filter((l) => l.startsWith("PASS: "))).toHaveLength(7);
  });

  test("-smp 1: the IPI tests need two CPUs", () => {
    const r = runOnRiscvMachine(sbiIpiImage(), argv(1));
    expect(r.lines).toEqual(["PASS: sbi: ipi: Bad FID: SBI_ERR_NOT_SUPPORTED", "SKIP: sbi: ipi: At least 2 cpus required", "SUMMARY: 2 tests, 1 skipped", "", "EXIT: STATUS=1"]);
  });
});
