/**
 * Guest traffic on an IMSIC interrupt file in every AIA profile (strict,
 * linux-kvm, qemu), RV32 and RV64, for the smallest, a middle and the largest
 * number of identities: loads and stores of every width on the 4 KiB MMIO
 * page, `*iselect`/`*ireg` reads, writes and read-modify-writes of every
 * indirect register number and of numbers around them, `*topei` reads and
 * claims, and host MSIs (setPending) in between.
 *
 * Invariants (mmio-access.ts, plus, IMSIC.adoc §3.2 and §3.8–§3.10): any store
 * to the page other than a 4-byte `seteipnum_le`/`seteipnum_be` is counted; an
 * `*ireg` access returns one of the three statuses, XLEN-wide unsigned halves
 * (high half 0 on RV32), and a number outside 0x70–0xFF never succeeds; an
 * access to a reserved number (0x71, 0x73–0x7F) either does not succeed or is
 * counted as a guest error; `*topei` reports an identity ≤ N with priority =
 * identity, and a claim clears exactly that pending bit.
 */

import {
  IMSIC_SETEIPNUM_BE,
  IMSIC_SETEIPNUM_LE,
  IREG_EXIT_TO_USER,
  IREG_ILLEGAL,
  IREG_OK,
  ImsicFile,
  aiaProfile,
  type AiaProfileName,
  type IregValue,
  type Xlen,
} from "@irqlab/aia";
import { Tracer, type Rng } from "@irqlab/sim";
import { checkedAccess, drawAccess, drawWord, type MmioOp } from "../mmio-access.js";
import { check, fitsWidth, type FuzzTarget } from "../target.js";

interface Setup {
  readonly profile: AiaProfileName;
  readonly xlen: Xlen;
  readonly nrIds: number;
  readonly eideliveryAplic: boolean;
}

type Op =
  | ({ readonly k: "mmio" } & MmioOp)
  | { readonly k: "ireg"; readonly how: "r" | "w" | "rmw"; readonly isel: number; readonly lo: number; readonly hi: number; readonly mlo: number; readonly mhi: number }
  | { readonly k: "topei"; readonly claim: boolean }
  | { readonly k: "msi"; readonly id: number };

const PAGE_OFFSETS = [0, 1, 2, 3, 4, 5, 8, 0xc, 0x10, 0x100, 0x800, 0xff8, 0xffc];

function drawIsel(rng: Rng): number {
  const r = rng.int(0, 9);
  if (r < 7) return rng.int(0x70, 0xff);
  if (r < 9) return rng.int(0, 0x1ff);
  return drawWord(rng) & 0xfff;
}

export const imsicRegisters: FuzzTarget<Setup, Op> = {
  name: "imsic-registers",
  about: "IMSIC file: MMIO page, every *iselect via *ireg (r/w/rmw), *topei; strict, linux-kvm, qemu; RV32/RV64",
  generate(rng, count) {
    const setup: Setup = {
      profile: rng.pick(["strict", "linux-kvm", "qemu"] as const),
      xlen: rng.pick([32, 64] as const),
      nrIds: rng.pick([63, 255, 2047]),
      eideliveryAplic: rng.chance(0.3),
    };
    const ops: Op[] = [];
    for (let i = 0; i < count; i++) {
      const r = rng.int(0, 19);
      if (r < 6) ops.push({ k: "mmio", ...drawAccess(rng, 0x1000, PAGE_OFFSETS) });
      else if (r < 15) {
        const how = rng.pick(["r", "w", "rmw"] as const);
        ops.push({ k: "ireg", how, isel: drawIsel(rng), lo: drawWord(rng), hi: drawWord(rng), mlo: drawWord(rng), mhi: drawWord(rng) });
      } else if (r < 17) ops.push({ k: "topei", claim: rng.chance(0.6) });
      else ops.push({ k: "msi", id: rng.chance(0.9) ? rng.int(1, setup.nrIds) : drawWord(rng) });
    }
    return { setup, ops };
  },
  execute(setup, ops, step) {
    const tracer = new Tracer();
    const profile = aiaProfile(setup.profile);
    const file = new ImsicFile({ nrIds: setup.nrIds, tracer, profile, eideliveryAplic: setup.eideliveryAplic });
    const out: IregValue = { lo: 0, hi: 0 };
    for (let i = 0; i < ops.length; i++) {
      step(i);
      const o = ops[i]!;
      const before = tracer.guestErrors;
      switch (o.k) {
        case "mmio": {
          checkedAccess(file, tracer, 0, o, "IMSIC page");
          const seteipnum = o.size === 4 && (o.off === IMSIC_SETEIPNUM_LE || o.off === IMSIC_SETEIPNUM_BE);
          if (o.w === 1 && !seteipnum) {
            check(tracer.guestErrors > before, "uncounted-bad-access", () => `IMSIC ${o.size}-byte store at 0x${o.off.toString(16)} not counted`);
          }
          break;
        }
        case "ireg": {
          out.lo = -1;
          out.hi = -1;
          const st =
            o.how === "r"
              ? file.readIreg(o.isel, setup.xlen, out)
              : o.how === "w"
                ? file.writeIreg(o.isel, setup.xlen, o.lo, o.hi)
                : file.rmwIreg(o.isel, setup.xlen, o.lo, o.hi, o.mlo, o.mhi, out);
          const what = `${o.how} *ireg 0x${o.isel.toString(16)} (XLEN ${setup.xlen})`;
          // The type promises one of three statuses; the check is about what the model actually returns.
          const status: number = st;
          check(status === IREG_OK || status === IREG_ILLEGAL || status === IREG_EXIT_TO_USER, "ireg-status", () => `${what}: status ${status}`);
          if (o.how !== "w") {
            check(fitsWidth(out.lo, 4) && fitsWidth(out.hi, 4), "read-width", () => `${what}: value ${out.lo}:${out.hi}`);
            check(setup.xlen === 64 || out.hi === 0, "read-width", () => `${what}: RV32 read has high half ${out.hi}`);
          }
          const outside = o.isel < 0x70 || o.isel > 0xff;
          check(!outside || st !== IREG_OK, "ireg-outside", () => `${what}: a number outside 0x70-0xFF succeeded`);
          const reserved = o.isel === 0x71 || (o.isel >= 0x73 && o.isel <= 0x7f);
          if (reserved && st === IREG_OK) {
            check(tracer.guestErrors > before, "uncounted-bad-access", () => `${what}: reserved number accessed without a guest error`);
          }
          break;
        }
        case "topei": {
          const v = file.readTopei();
          const id = v >>> 16;
          check(fitsWidth(v, 4) && id <= setup.nrIds && (v & 0x7ff) === id, "topei", () => `topei 0x${v.toString(16)} for N=${setup.nrIds}`);
          if (o.claim) {
            const claimed = file.writeTopei();
            check(claimed === id && (id === 0 || !file.isPending(id)), "topei", () => `claim of ${id} claimed ${claimed}`);
          }
          break;
        }
        case "msi":
          file.setPending(o.id);
          break;
      }
    }
    step(ops.length);
  },
};
