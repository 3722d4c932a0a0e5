/**
 * Every load of an APLIC domain's control region, at every offset and every
 * width, returns an unsigned value of the access width, in every profile; and
 * every access to a reserved or unimplemented register is counted as a guest
 * error (AdvPLIC.adoc §4.5: only naturally aligned 32-bit accesses; other
 * locations are reserved).
 *
 * Regression: reserved offsets 0x1BD0–0x1BFC fell into the target[] decode
 * with a negative index and read `undefined` under the linux-kvm profile
 * (0 without a guest error in the others). Linux's in-kernel APLIC,
 * arch/riscv/kvm/aia_aplic.c aplic_mmio_read_offset(), knows no register
 * there (its chain ends in `return -ENODEV`), nor at the unused words of the
 * setip/in_clrip/setie/clrie blocks or 0x2008–0x2FFC.
 */

import { MmioBus, Tracer, type AccessSize } from "@irqlab/sim";
import { describe, expect, test } from "vitest";
import * as C from "./aplic-constants.js";
import { Aplic } from "./aplic.js";
import type { AplicDomain } from "./aplic-domain.js";
import { aiaProfiles, type AiaProfile } from "./profiles.js";

const SIZES: readonly AccessSize[] = [1, 2, 4, 8];

/** A root M domain (direct or MSI) with an S child, as a platform APLIC; all profiles. */
function build(profile: AiaProfile, modes: "direct" | "msi") {
  const tracer = new Tracer();
  const aplic = new Aplic({
    nrSources: 40,
    tracer,
    profile,
    domains: [
      { name: "m", level: "m", harts: 2, ...(modes === "msi" ? { deliveryModes: "msi" as const } : {}) },
      { name: "s", level: "s", parent: "m", harts: 2, ...(modes === "msi" ? { deliveryModes: "msi" as const } : {}) },
    ],
    ...(modes === "msi" ? { msi: { bus: new MmioBus() } } : {}),
  });
  const m = aplic.domain("m");
  // Some state to read back: sources 1–3 active in M, source 4 delegated to S, IE on.
  for (let i = 1; i <= 3; i++) m.write(C.APLIC_SOURCECFG_BASE + 4 * (i - 1), 4, C.APLIC_SM_EDGE_RISE, 0);
  m.write(C.APLIC_SOURCECFG_BASE + 12, 4, C.APLIC_SOURCECFG_D, 0);
  m.write(C.APLIC_SETIPNUM, 4, 2, 0);
  m.write(C.APLIC_DOMAINCFG, 4, C.APLIC_DOMAINCFG_IE | (modes === "msi" ? C.APLIC_DOMAINCFG_DM : 0), 0);
  return { tracer, domains: [m, aplic.domain("s")] };
}

/** Offsets of the 32-bit registers AdvPLIC.adoc §4.5 / §4.8.1 defines for `d` (the rest is reserved). */
function defined(d: AplicDomain, off: number, profile: AiaProfile): boolean {
  if (off === C.APLIC_DOMAINCFG) return true;
  if (off >= C.APLIC_SOURCECFG_BASE && off < C.APLIC_MMSIADDRCFG) return (off - C.APLIC_SOURCECFG_BASE) / 4 + 1 <= d.sources.n;
  if (off >= C.APLIC_MMSIADDRCFG && off <= C.APLIC_SMSIADDRCFGH) return d.level === "m" && d.msiMode && !profile.aplicNoMsiAddrCfg;
  if (off >= C.APLIC_SETIP_BASE && off < C.APLIC_SETIPNUM_LE) return (off & 0xff) < 0x80 || (off & 0xff) === 0xdc;
  if (off === C.APLIC_SETIPNUM_LE || off === C.APLIC_SETIPNUM_BE || off === C.APLIC_GENMSI) return true;
  if (off > C.APLIC_GENMSI && off < C.APLIC_IDC_BASE) return (off - C.APLIC_TARGET_BASE) / 4 + 1 <= d.sources.n;
  const h = (off - C.APLIC_IDC_BASE) >>> 5;
  const reg = off & 31;
  return !d.msiMode && d.idcs !== undefined && h < d.idcs.count && [0, 4, 8, 0x18, 0x1c].includes(reg);
}

describe("APLIC control region: every offset, every width, every profile", () => {
  for (const profile of aiaProfiles()) {
    for (const modes of ["direct", "msi"] as const) {
      test(`${profile.name}, ${modes} delivery: unsigned values of the access width; reserved accesses counted`, () => {
        const { tracer, domains } = build(profile, modes);
        const wide = { hi: 0 };
        const bad: string[] = [];
        let reads = 0;
        for (const d of domains) {
          for (let off = 0; off < d.regionSize; off++) {
            for (const size of SIZES) {
              if (off + size > d.regionSize) continue;
              const before = tracer.guestErrors;
              wide.hi = 0xdead;
              const v: unknown = d.read(off, size, wide);
              reads++;
              const counted = tracer.guestErrors - before;
              const reserved = size !== 4 || (off & 3) !== 0 || !defined(d, off, profile);
              const ok =
                typeof v === "number" && Number.isInteger(v) && v >= 0 && v < 2 ** Math.min(8 * size, 32) &&
                (size !== 8 || wide.hi === 0) &&
                // a reserved access reads 0 and is counted once; a defined one is counted at most once
                // (sourcecfg of a source not delegated to a child domain counts, §4.5.2)
                (reserved ? v === 0 && counted === 1 : counted <= 1);
              if (!ok) bad.push(`${d.name} 0x${off.toString(16)} size ${size}: ${String(v)} (${counted} guest errors)`);
            }
          }
        }
        expect(reads).toBeGreaterThan(4 * 0x4000);
        expect(bad.slice(0, 20)).toEqual([]);
      });
    }
  }

  test("0x1BD0–0x1BFC (between smsiaddrcfgh and setip[0]) read 0 as a counted guest error, writes too (Linux: -ENODEV)", () => {
    for (const profile of aiaProfiles()) {
      const { tracer, domains } = build(profile, "msi");
      const m = domains[0]!;
      for (let off = 0x1bd0; off <= 0x1bfc; off += 4) {
        const before = tracer.guestErrors;
        const v = m.read(off, 4, { hi: 0 });
        expect(v, `${profile.name} 0x${off.toString(16)}`).toBe(0);
        expect(tracer.guestErrors - before).toBe(1);
        m.write(off, 4, 0xffffffff, 0);
        expect(tracer.guestErrors - before).toBe(2);
      }
      // Nothing was written anywhere: the targets of the active sources are unchanged.
      expect(m.sources.target.slice(1, 4).every((t) => t === m.sources.target[1])).toBe(true);
    }
  });
});
