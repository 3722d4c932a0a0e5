/**
 * An IMSIC interrupt file, at every offset of its MMIO page and every
 * `*iselect` number through the indirect-register interface (`*ireg` read,
 * write and read-modify-write), in every profile, for XLEN 32 and 64 and for
 * small and large files: nothing throws, loads and `*ireg` values are unsigned
 * words of the access width (an XLEN-32 `*ireg` has no high word), and every
 * reserved or unimplemented access is counted as one guest error.
 *
 * MMIO page (IMSIC.adoc §3.2): only `seteipnum_le` (0x000) and `seteipnum_be`
 * (0x004) exist, as naturally aligned 32-bit registers that read zero; every
 * other byte of the page is reserved (reads zero, writes ignored).
 * Indirect registers (§3.8, §3.9): `eidelivery` 0x70, `eithreshold` 0x72,
 * `eip0`–`eip63` 0x80–0xBF, `eie0`–`eie63` 0xC0–0xFF (only even ones at XLEN
 * 64: an odd one is an illegal instruction). The reserved numbers 0x71 and
 * 0x73–0x7F read zero and ignore writes (strict), exit to userspace (Linux
 * KVM: -ENOENT from kvm_riscv_vcpu_aia_imsic_rmw, KVM_EXIT_RISCV_CSR; the VMM
 * decides, so the file counts nothing) or are illegal (QEMU). Numbers outside
 * 0x70–0xFF, including the custom ones with the top bit set (AIA §2.5), are
 * not the file's: illegal, counted. eipK/eieK beyond N read zero (strict) or
 * are illegal (linux-kvm, qemu), see profiles.ts.
 *
 * Regression: loads of reserved page offsets (0x008–0xFFF) read 0 without a
 * guest error.
 */

import { Tracer, Rng, type AccessSize, type WideValue } from "@irqlab/sim";
import { describe, expect, test } from "vitest";
import type { IregValue } from "./imsic-access.js";
import { IREG_EXIT_TO_USER, IREG_ILLEGAL, IREG_OK, type Xlen } from "./imsic-constants.js";
import { ImsicFile } from "./imsic-file.js";
import { aiaProfiles, type AiaProfile } from "./profiles.js";

const SIZES: readonly AccessSize[] = [1, 2, 4, 8];
const PAGE = 0x1000;

function u32(v: unknown): boolean {
  return typeof v === "number" && Number.isInteger(v) && v >= 0 && v < 2 ** 32;
}

function fits(v: unknown, size: AccessSize): boolean {
  return u32(v) && (v as number) < 2 ** (8 * Math.min(size, 4));
}

/** What the AIA specification (as bent by `profile`) says an access to `isel` does, and whether it is counted. */
function expected(profile: AiaProfile, file: ImsicFile, isel: number, xlen: Xlen): { status: number; counted: boolean } {
  if (isel < 0x70 || isel > 0xff) return { status: IREG_ILLEGAL, counted: true };
  if (isel === 0x70 || isel === 0x72) return { status: IREG_OK, counted: false };
  if (isel < 0x80) {
    switch (profile.imsicReservedIsel) {
      case "raz-wi":
        return { status: IREG_OK, counted: true };
      case "exit-to-user":
        return { status: IREG_EXIT_TO_USER, counted: false };
      case "illegal":
        return { status: IREG_ILLEGAL, counted: true };
    }
  }
  const k = isel & 0x3f;
  if (xlen === 64 && (k & 1) !== 0) return { status: IREG_ILLEGAL, counted: true };
  if (profile.imsicEixBeyondIdsIllegal && k >= (file.nrIds + 1) / 32) return { status: IREG_ILLEGAL, counted: true };
  return { status: IREG_OK, counted: false };
}

/** Every number up to 0x1FFF, and custom ones (top bit of a 32-bit `*iselect` set). */
function iselects(): number[] {
  const out: number[] = [];
  for (let i = 0; i < 0x2000; i++) out.push(i);
  for (let i = 0; i < 0x100; i++) out.push(2 ** 31 + i, 2 ** 32 - 1 - i);
  return out;
}

describe("IMSIC interrupt file: every page offset and every *iselect, every profile", () => {
  for (const profile of aiaProfiles()) {
    for (const nrIds of [63, 255, 2047]) {
      test(`${profile.name}, N = ${nrIds}: MMIO page`, () => {
        const tracer = new Tracer();
        const file = new ImsicFile({ nrIds, tracer, profile });
        const wide: WideValue = { hi: 0 };
        const rng = new Rng(nrIds);
        const bad: string[] = [];
        for (let off = 0; off < PAGE; off++) {
          for (const size of SIZES) {
            if (off + size > PAGE) continue;
            const reserved = size !== 4 || (off & 3) !== 0 || off > 4;
            let before = tracer.guestErrors;
            wide.hi = -1;
            const v = file.read(off, size, wide);
            let n = tracer.guestErrors - before;
            const ok = fits(v, size) && (size !== 8 || u32(wide.hi)) && v === 0 && (reserved ? n === 1 : n === 0);
            if (!ok) bad.push(`load 0x${off.toString(16)}/${size}: ${String(v)}:${String(wide.hi)}, ${n} guest error(s)`);
            before = tracer.guestErrors;
            file.write(off, size, rng.nextU32() % 2 ** (8 * Math.min(size, 4)), 0);
            n = tracer.guestErrors - before;
            if (reserved && n !== 1) bad.push(`store 0x${off.toString(16)}/${size}: ${n} guest error(s)`);
          }
        }
        expect(bad.slice(0, 20)).toEqual([]);
        // The defined stores did something: seteipnum_le of a random word hit an identity now and then.
        expect(tracer.guestErrors).toBeGreaterThan(4 * PAGE);
      });

      test(`${profile.name}, N = ${nrIds}: every *iselect, XLEN 32 and 64, read, write and read-modify-write`, () => {
        const bad: string[] = [];
        for (const xlen of [32, 64] as const) {
          const tracer = new Tracer();
          const file = new ImsicFile({ nrIds, tracer, profile });
          const out: IregValue = { lo: -1, hi: -1 };
          const rng = new Rng(xlen + nrIds);
          const value = (v: IregValue): boolean => u32(v.lo) && u32(v.hi) && (xlen === 64 || v.hi === 0);
          for (const isel of iselects()) {
            const want = expected(profile, file, isel, xlen);
            const one = want.counted ? 1 : 0;
            const name = `XLEN ${xlen} iselect 0x${isel.toString(16)}`;
            let before = tracer.guestErrors;
            out.lo = out.hi = -1;
            let st = file.readIreg(isel, xlen, out);
            let n = tracer.guestErrors - before;
            if (st !== want.status || n !== one || !value(out) || (st !== IREG_OK && (out.lo | out.hi) !== 0)) {
              bad.push(`${name} read: status ${st}, ${out.lo}:${out.hi}, ${n} guest error(s)`);
            }
            // Writes of a legal eithreshold would not count, of one above N do (WLRL): keep it legal.
            const lo = isel === 0x72 ? rng.int(0, nrIds) : rng.nextU32();
            before = tracer.guestErrors;
            st = file.writeIreg(isel, xlen, lo, isel === 0x72 ? 0 : rng.nextU32());
            n = tracer.guestErrors - before;
            if (st !== want.status || n !== one) bad.push(`${name} write: status ${st}, ${n} guest error(s)`);
            before = tracer.guestErrors;
            out.lo = out.hi = -1;
            st = file.rmwIreg(isel, xlen, isel === 0x72 ? 0 : rng.nextU32(), 0, rng.nextU32(), rng.nextU32(), out);
            n = tracer.guestErrors - before;
            if (st !== want.status || n !== one || !value(out)) bad.push(`${name} rmw: status ${st}, ${out.lo}:${out.hi}, ${n} guest error(s)`);
          }
        }
        expect(bad.slice(0, 20)).toEqual([]);
      });
    }
  }
});
