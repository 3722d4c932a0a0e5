/**
 * Every load and store of the ITS register frame (ITS_base) and its
 * translation frame (ITS_base + 64 KiB), at every offset and every width,
 * aligned or not, in both profiles, for a GICv3 ITS and a GICv4.1 one: no
 * exception, loads return unsigned values of the access width, and every
 * access to a reserved offset (or of a width or alignment the register does
 * not take) reads 0 and is counted as one guest error.
 *
 * Register map: IHI 0069H §12.19 (Table 12-33: GITS_CTLR, IIDR, TYPER,
 * MPIDR (GICv4.1 only), CBASER, CWRITER, CREADR, BASER<n>, the ID block;
 * the translation frame holds GITS_TRANSLATER alone), §12.1.3 (32-bit
 * accesses, 64-bit ones to 64-bit registers). GITS_TRANSLATER also takes
 * 16-bit writes (QEMU gicv3_its_translation_write() accepts 2 and 4 bytes).
 * GITS_STATUSR/UMSIR and the IMPLEMENTATION DEFINED ranges are not
 * implemented and count as reserved here.
 *
 * Regression: GITS_MPIDR of an ITS without GICv4.1 read 0 without a guest error.
 */

import type { AccessSize } from "@irqlab/sim";
import { describe, expect, test } from "vitest";
import { sweepFrame, type SweepFrame } from "../mmio-sweep-kit.js";
import { VpeTable } from "../v4/vpe.js";
import * as C from "./its-constants.js";
import { ITS_PROFILE_NAMES } from "./its-profiles.js";
import { ITT_BASE, ItsHarness } from "./its-test-kit.js";
import { itsCommand as cmd } from "./its-command-encoding.js";

const FRAME = 0x10000;

/** 64-bit registers of the control frame (GITS_MPIDR only with GICv4.1). */
function is64(w: number, v41: boolean): boolean {
  return (
    w === C.GITS_TYPER || w === C.GITS_CBASER || w === C.GITS_CWRITER || w === C.GITS_CREADR ||
    (v41 && w === C.GITS_MPIDR) || (w >= C.GITS_BASER && w < C.GITS_BASER + 8 * C.GITS_BASER_NR_REGS)
  );
}

function controlReserved(v41: boolean) {
  return (off: number, size: AccessSize): boolean => {
    if (off % size !== 0) return true;
    const w = off & ~3;
    const wide = is64(w & ~7, v41);
    const word = w === C.GITS_CTLR || w === C.GITS_IIDR || wide || w >= C.GITS_PIDR4;
    if (!word) return true;
    return size === 8 ? !wide : size !== 4;
  };
}

function translationReserved(off: number, size: AccessSize): boolean {
  return off + FRAME !== C.GITS_TRANSLATER || (size !== 4 && size !== 2);
}

describe("ITS frames: every offset, every width, both profiles, GICv3 and GICv4.1", () => {
  for (const profile of ITS_PROFILE_NAMES) {
    for (const v41 of [false, true]) {
      test(`${profile}, ${v41 ? "GICv4.1" : "GICv3"}: unsigned values of the access width; reserved accesses read 0 and are counted`, () => {
        const h = new ItsHarness({ profile, rds: 2, ...(v41 ? { vpes: new VpeTable() } : {}) });
        // Some state to read back: a device, a collection and a mapping.
        h.submit(cmd.mapd(1, ITT_BASE, 4), cmd.mapc(0, 1), cmd.mapti(1, 3, 8195, 0));
        const frames: SweepFrame[] = [
          { label: "ITS_base", device: h.its, base: 0, size: FRAME, reserved: controlReserved(v41) },
          { label: "translation frame", device: h.its, base: FRAME, size: FRAME, reserved: translationReserved },
        ];
        const bad: string[] = [];
        let loads = 0;
        for (const f of frames) {
          const r = sweepFrame(f, h.tracer);
          loads += r.loads;
          bad.push(...r.bad);
        }
        expect(loads).toBeGreaterThan(2 * 4 * 0xfff0);
        expect(bad.slice(0, 20)).toEqual([]);
      });
    }
  }
});
