/**
 * The guest's two ways into an IMSIC interrupt file: stores to its 4 KiB MMIO
 * page, and indirect access to its registers through `*iselect`/`*ireg`
 * (`miselect`/`mireg`, `siselect`/`sireg`, `vsiselect`/`vsireg`).
 *
 * Spec: RISC-V AIA 1.0, riscv/riscv-aia src/IMSIC.adoc §3.2 (page: 0x000
 * `seteipnum_le`, 0x004 `seteipnum_be`, all other bytes read-only zero, reads
 * return zero, only naturally aligned 32-bit accesses; others "should" fault
 * or must be ignored), §3.8 (numbers 0x70 `eidelivery`, 0x72 `eithreshold`,
 * 0x80–0xBF `eip0`–`eip63`, 0xC0–0xFF `eie0`–`eie63`; 0x71 and 0x73–0x7F
 * reserved: read zero, writes ignored), §3.9 (accesses are XLEN wide; on RV64
 * only even `eipK`/`eieK` exist, an odd number raises an illegal-instruction
 * exception, virtual-instruction in VS mode; bits of unimplemented identities
 * are read-only zero; `eithreshold` is WLRL 0..N). Cross-check: QEMU
 * hw/intc/riscv_imsic.c (riscv_imsic_write, riscv_imsic_rmw,
 * riscv_imsic_eix_rmw); Linux arch/riscv/kvm/aia_imsic.c (imsic_mmio_write,
 * imsic_mrif_isel_check, imsic_mrif_rmw, kvm_riscv_vcpu_aia_imsic_rmw).
 *
 * Where KVM and QEMU answer differently (the BE port, reserved numbers,
 * numbers beyond N) the profile decides; see profiles.ts. Guest mistakes are
 * reported through the context's `error` and never throw.
 */

import type { AccessSize, WideValue } from "@irqlab/sim";
import {
  IMSIC_ISELECT_FIRST,
  IMSIC_SETEIPNUM_BE,
  IMSIC_SETEIPNUM_LE,
  IMSIC_ISELECT_LAST,
  IREG_EXIT_TO_USER,
  IREG_ILLEGAL,
  IREG_OK,
  ISELECT_EIDELIVERY,
  ISELECT_EIE0,
  ISELECT_EIP0,
  ISELECT_EITHRESHOLD,
  swab32,
  type IregStatus,
  type Xlen,
} from "./imsic-constants.js";
import type { ImsicFile } from "./imsic-file.js";
import type { AiaProfile } from "./profiles.js";

/** A 64-bit indirect register value as two unsigned 32-bit halves. */
export interface IregValue {
  lo: number;
  hi: number;
}

/** What the decoder needs besides the file: the profile and where guest errors go. */
export interface IregContext {
  readonly profile: AiaProfile;
  /** Counts and traces a guest error of `kind`. */
  error(kind: string, message: string): void;
}

/**
 * An MMIO load of the page: every register reads zero. A bad width or
 * alignment, and a load of a reserved offset (anything but `seteipnum_le` and
 * `seteipnum_be`), is a guest error.
 */
export function mmioRead(ctx: IregContext, offset: number, size: AccessSize, wide: WideValue): number {
  wide.hi = 0;
  if (size !== 4 || (offset & 3) !== 0) ctx.error("imsic-mmio-access", `${size}-byte read at 0x${offset.toString(16)}`);
  else if (offset !== IMSIC_SETEIPNUM_LE && offset !== IMSIC_SETEIPNUM_BE) ctx.error("imsic-reserved", `read of reserved offset 0x${offset.toString(16)}`);
  return 0;
}

/** An MMIO store to the page: `seteipnum_le` / `seteipnum_be`; anything else is ignored and counted. */
export function mmioWrite(file: ImsicFile, ctx: IregContext, offset: number, size: AccessSize, value: number): void {
  if (size !== 4 || (offset & 3) !== 0) {
    ctx.error("imsic-mmio-access", `${size}-byte write at 0x${offset.toString(16)}`);
    return;
  }
  if (offset === IMSIC_SETEIPNUM_LE) {
    if (!file.setPending(value)) badIdentity(file, ctx, value);
  } else if (offset === IMSIC_SETEIPNUM_BE) {
    if (!ctx.profile.imsicSeteipnumBe) return; // QEMU: silently ignored
    const id = swab32(value);
    if (!file.setPending(id)) badIdentity(file, ctx, id);
  } else {
    ctx.error("imsic-reserved", `write to reserved offset 0x${offset.toString(16)}`);
  }
}

function badIdentity(file: ImsicFile, ctx: IregContext, id: number): void {
  ctx.error("imsic-identity", `seteipnum ${id} outside 1..${file.nrIds}`);
}

/** Whether `isel` may be accessed at `xlen`, and if not, what the instruction does. */
export function iregCheck(file: ImsicFile, ctx: IregContext, isel: number, xlen: Xlen): IregStatus {
  if (!(isel >= IMSIC_ISELECT_FIRST && isel <= IMSIC_ISELECT_LAST)) return illegal(ctx, isel, "outside 0x70-0xff");
  if (isel < ISELECT_EIP0) {
    if (isel === ISELECT_EIDELIVERY || isel === ISELECT_EITHRESHOLD) return IREG_OK;
    switch (ctx.profile.imsicReservedIsel) {
      case "raz-wi":
        // Read zero, writes ignored (IMSIC.adoc §3.8), and counted like every
        // other RAZ/WI guest mistake (QEMU riscv_imsic_rmw logs LOG_GUEST_ERROR).
        ctx.error("imsic-reserved", `iselect 0x${isel.toString(16)} is reserved`);
        return IREG_OK;
      case "exit-to-user":
        return IREG_EXIT_TO_USER;
      case "illegal":
        return illegal(ctx, isel, "reserved");
    }
  }
  const k = isel & 0x3f;
  if (xlen === 64 && (k & 1) !== 0) return illegal(ctx, isel, "odd eip/eie on RV64");
  if (ctx.profile.imsicEixBeyondIdsIllegal && k >= file.eixWords) return illegal(ctx, isel, "beyond N");
  return IREG_OK;
}

/** A read of `*ireg` with `*iselect` = `isel`; the value lands in `out` (0 unless IREG_OK). */
export function iregRead(file: ImsicFile, ctx: IregContext, isel: number, xlen: Xlen, out: IregValue): IregStatus {
  out.lo = 0;
  out.hi = 0;
  const st = iregCheck(file, ctx, isel, xlen);
  if (st === IREG_OK) readChecked(file, isel, xlen, out);
  return st;
}

/** A write of `*ireg` with `*iselect` = `isel` (`hi` ignored when XLEN is 32). */
export function iregWrite(file: ImsicFile, ctx: IregContext, isel: number, xlen: Xlen, lo: number, hi: number): IregStatus {
  const st = iregCheck(file, ctx, isel, xlen);
  if (st === IREG_OK) writeChecked(file, ctx, isel, xlen, lo, hi);
  return st;
}

/**
 * csrrw/csrrs/csrrc on `*ireg`: new = (old & ~mask) | (value & mask); the old
 * value lands in `out`. One instruction: a bad `isel` is checked, and counted,
 * once.
 */
export function iregRmw(
  file: ImsicFile,
  ctx: IregContext,
  isel: number,
  xlen: Xlen,
  valueLo: number,
  valueHi: number,
  maskLo: number,
  maskHi: number,
  out: IregValue,
): IregStatus {
  out.lo = 0;
  out.hi = 0;
  const st = iregCheck(file, ctx, isel, xlen);
  if (st !== IREG_OK) return st;
  readChecked(file, isel, xlen, out);
  if ((maskLo | (xlen === 64 ? maskHi : 0)) === 0) return IREG_OK;
  const lo = ((out.lo & ~maskLo) | (valueLo & maskLo)) >>> 0;
  const hi = ((out.hi & ~maskHi) | (valueHi & maskHi)) >>> 0;
  writeChecked(file, ctx, isel, xlen, lo, hi);
  return IREG_OK;
}

/** The value of an `isel` that passed {@link iregCheck} (reserved RAZ/WI numbers read 0). */
function readChecked(file: ImsicFile, isel: number, xlen: Xlen, out: IregValue): void {
  if (isel === ISELECT_EIDELIVERY) out.lo = file.eidelivery;
  else if (isel === ISELECT_EITHRESHOLD) out.lo = file.eithreshold;
  else if (isel >= ISELECT_EIP0) {
    const enable = isel >= ISELECT_EIE0;
    const k = isel & 0x3f;
    out.lo = file.readEix(enable, k);
    if (xlen === 64) out.hi = file.readEix(enable, k + 1);
  }
}

/** Stores to an `isel` that passed {@link iregCheck} (reserved RAZ/WI numbers ignore it). */
function writeChecked(file: ImsicFile, ctx: IregContext, isel: number, xlen: Xlen, lo: number, hi: number): void {
  lo >>>= 0;
  if (isel === ISELECT_EIDELIVERY) file.writeEidelivery(lo);
  else if (isel === ISELECT_EITHRESHOLD) {
    if (lo > file.nrIds || (xlen === 64 && hi !== 0)) ctx.error("imsic-wlrl", `eithreshold ${lo} above N=${file.nrIds}`);
    file.writeEithreshold(lo);
  } else if (isel >= ISELECT_EIP0) {
    const enable = isel >= ISELECT_EIE0;
    const k = isel & 0x3f;
    file.writeEix(enable, k, lo);
    if (xlen === 64) file.writeEix(enable, k + 1, hi >>> 0);
  }
}

function illegal(ctx: IregContext, isel: number, why: string): IregStatus {
  ctx.error("imsic-ireg", `iselect 0x${isel.toString(16)} ${why}`);
  return IREG_ILLEGAL;
}
