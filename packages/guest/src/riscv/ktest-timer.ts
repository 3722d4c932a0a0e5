/**
 * The supervisor timer as kvm-unit-tests drives it on riscv
 * (lib/riscv/timer.c timer_start / timer_stop, asm/delay.h usec_to_cycles):
 *
 * - start(us): deadline = rdtime + us × timebase / 10^6; with Sstc in the
 *   hart's `riscv,isa` (cpu_has_extension(ISA_SSTC)) it is written to
 *   `stimecmp`, otherwise handed to SBI set_timer (after sbi_probe(TIME));
 * - stop(): `stimecmp` = ULONG_MAX − 1 (one less than ULONG_MAX, which QEMU
 *   takes as "do not update"), or set_timer(ULONG_MAX).
 *
 * The timer interrupt (cause 5) stays pending until the deadline moves.
 */

import { op } from "@irqlab/sim";
import type { CpuInfo } from "../boot/platform-info.js";
import type { GuestCode } from "../guest-image.js";
import { sbiProbeExtension } from "../power/sbi.js";
import { rdtime, ULONG_MAX, usecToCycles } from "./hart-csr.js";
import { SBI_EXT_TIME, sbiSetTimer } from "./sbi-ipi-time.js";

/** `stimecmp` (Sstc). */
export const CSR_STIMECMP = 0x14d;

/** Whether a hart's `riscv,isa` string names Sstc. */
export function hasSstc(cpu: Pick<CpuInfo, "isa">): boolean {
  const isa = cpu.isa?.toLowerCase() ?? "";
  return isa.split("_").slice(1).includes("sstc");
}

/** Per-hart timer control. */
export class KtestTimer {
  readonly #sstc: boolean[];
  readonly #hz: number;

  /** `timebaseHz`: /cpus/timebase-frequency. */
  constructor(cpus: readonly CpuInfo[], timebaseHz: number) {
    this.#sstc = cpus.map((c) => hasSstc(c));
    this.#hz = timebaseHz;
  }

  /** timer_start(duration_us) on `cpu`. Returns false when there is no timer ("No timer to start!"). */
  *start(cpu: number, durationUs: number): GuestCode<boolean> {
    const next = (yield* rdtime()) + usecToCycles(durationUs, this.#hz);
    if (this.#sstc[cpu] === true) {
      yield op.csrWrite(CSR_STIMECMP, next % 2 ** 32, Math.floor(next / 2 ** 32));
      return true;
    }
    if (!(yield* sbiProbeExtension(SBI_EXT_TIME))) return false;
    yield* sbiSetTimer(next);
    return true;
  }

  /** timer_stop() on `cpu`. */
  *stop(cpu: number): GuestCode {
    if (this.#sstc[cpu] === true) {
      yield op.csrWrite(CSR_STIMECMP, 0xffff_fffe, 0xffff_ffff);
      return;
    }
    if (yield* sbiProbeExtension(SBI_EXT_TIME)) yield* sbiSetTimer(ULONG_MAX);
  }
}
