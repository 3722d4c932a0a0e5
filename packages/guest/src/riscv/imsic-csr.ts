/**
 * Indirect access to the hart's S-level IMSIC interrupt file through
 * `siselect` / `sireg` (RISC-V AIA 1.0, IMSIC.adoc §3.8–§3.9), as Linux's
 * irq-riscv-imsic-state.c does it: imsic_csr_write / imsic_csr_read /
 * imsic_csr_set / imsic_csr_clear / imsic_csr_read_clear, and
 * __imsic_eix_update for ranges of identities.
 *
 * On RV64 the registers are 64 bits wide and only the even `eipK`/`eieK`
 * exist: identity i lives in `eip(2·⌊i/64⌋)` bit i mod 64, so the select
 * number is EIP0/EIE0 + (i / 64) · 2 (BITS_PER_LONG / IMSIC_EIPx_BITS).
 */

import { CSR_SIREG, CSR_SISELECT, ISELECT_EIE0, ISELECT_EIP0 } from "@irqlab/aia";
import { op, type CsrOp } from "@irqlab/sim";
import type { GuestCode } from "../guest-image.js";

/** A 64-bit CSR instruction on `sireg` with both halves. */
function iregOp(kind: CsrOp["op"], lo: number, hi: number): CsrOp {
  if (kind === "csrrw") return op.csrWrite(CSR_SIREG, lo, hi);
  return kind === "csrrs" ? op.csrSet(CSR_SIREG, lo, hi) : op.csrClear(CSR_SIREG, lo, hi);
}

/** imsic_csr_write(isel, value): a 64-bit write, `hi` the upper half. */
export function* imsicCsrWrite(isel: number, lo: number, hi = 0): GuestCode {
  yield op.csrWrite(CSR_SISELECT, isel);
  yield iregOp("csrrw", lo, hi);
}

/** imsic_csr_read(isel): the register as a number (its low 53 bits). */
export function* imsicCsrRead(isel: number): GuestCode<{ lo: number; hi: number }> {
  yield op.csrWrite(CSR_SISELECT, isel);
  const r = yield op.csrRead(CSR_SIREG);
  return { lo: r.value >>> 0, hi: r.hi >>> 0 };
}

/** The select number and bit of identity `id` in the eip (`pending`) or eie array on RV64. */
export function eixLocation(id: number, pending: boolean): { isel: number; lo: number; hi: number } {
  const isel = (pending ? ISELECT_EIP0 : ISELECT_EIE0) + Math.floor(id / 64) * 2;
  const bit = id % 64;
  return { isel, lo: bit < 32 ? (1 << bit) >>> 0 : 0, hi: bit >= 32 ? (1 << (bit - 32)) >>> 0 : 0 };
}

/** Sets (`val`) or clears the eie (or, with `pending`, eip) bit of identity `id`: csrs / csrc on sireg. */
export function* imsicEixUpdate(id: number, pending: boolean, val: boolean): GuestCode {
  const { isel, lo, hi } = eixLocation(id, pending);
  yield op.csrWrite(CSR_SISELECT, isel);
  yield iregOp(val ? "csrrs" : "csrrc", lo, hi);
}

/** __imsic_eix_read_clear: clears the bit of `id` and returns whether it was set. */
export function* imsicEixReadClear(id: number, pending: boolean): GuestCode<boolean> {
  const { isel, lo, hi } = eixLocation(id, pending);
  yield op.csrWrite(CSR_SISELECT, isel);
  const r = yield iregOp("csrrc", lo, hi);
  return ((r.value & lo) | (r.hi & hi)) !== 0;
}
