/**
 * The supervisor CSRs a RISC-V guest kernel touches for interrupts and time
 * (RISC-V Privileged Specification v1.12, §4.1 "Supervisor CSRs"; Zicntr for
 * `time`), spelled as Linux's arch/riscv/include/asm/csr.h spells them, and
 * the few helpers every riscv64 driver and workload uses:
 *
 * - `sie` / `sip` bits per interrupt cause (IE_SSIE, IE_STIE, IE_SEIE);
 * - {@link rdtime}: the 64-bit `time` CSR, which counts at the device tree's
 *   /cpus/timebase-frequency (QEMU virt: 10 MHz);
 * - the per-CPU pointer: like Linux's `tp`, a guest keeps the address of its
 *   per-CPU data where the interrupt vector can find it. A JavaScript image
 *   has no general registers, so this one lives in `sscratch`, which each
 *   hart writes once at boot ({@link setThisCpu}) and reads in its vector
 *   ({@link thisCpu}).
 */

import { op } from "@irqlab/sim";
import type { GuestCode } from "../guest-image.js";

/** sstatus. */
export const CSR_SSTATUS = 0x100;
/** sie: supervisor interrupt enable. */
export const CSR_SIE = 0x104;
/** sscratch. */
export const CSR_SSCRATCH = 0x140;
/** scause. */
export const CSR_SCAUSE = 0x142;
/** sip: supervisor interrupt pending. */
export const CSR_SIP = 0x144;
/** time (rdtime). */
export const CSR_TIME = 0xc01;

/** Interrupt cause: supervisor software interrupt (IPI). */
export const IRQ_S_SOFT = 1;
/** Interrupt cause: supervisor timer interrupt. */
export const IRQ_S_TIMER = 5;

/** sie/sip bit of the software interrupt (IE_SIE in Linux's csr.h). */
export const IE_SSIE = 1 << IRQ_S_SOFT;
/** sie/sip bit of the timer interrupt. */
export const IE_STIE = 1 << IRQ_S_TIMER;
/** sie/sip bit of the external interrupt. */
export const IE_SEIE = 1 << 9;

/** The largest unsigned long, as a number: SBI set_timer(ULONG_MAX) stops the timer. */
export const ULONG_MAX = 2 ** 64 - 1;

/** `csrr time`: the 64-bit counter as a number (exact below 2^53 ticks). */
export function* rdtime(): GuestCode<number> {
  const r = yield op.csrRead(CSR_TIME);
  return r.hi * 2 ** 32 + r.value;
}

/** Microseconds to timebase ticks (kvm-unit-tests usec_to_cycles). */
export function usecToCycles(usec: number, timebaseHz: number): number {
  return Math.floor((usec * timebaseHz) / 1_000_000);
}

/** Writes the per-CPU pointer of this hart (its logical CPU number or per-CPU data address). */
export function* setThisCpu(value: number): GuestCode {
  yield op.csrWrite(CSR_SSCRATCH, value);
}

/** Reads the per-CPU pointer {@link setThisCpu} left. */
export function* thisCpu(): GuestCode<number> {
  return (yield op.csrRead(CSR_SSCRATCH)).value;
}
