/**
 * Every system-register encoding (op0 0..3, op1 0..7, CRn 0..15, CRm 0..15,
 * op2 0..7) read and written through the physical CPU interface (ICC_* and
 * ICH_*_EL2) and through the virtual one (ICV_*, the guest's view under a
 * hypervisor interface), with 5 and 8 priority bits: no exception, every MRS
 * returns a 32-bit unsigned low word and high word, and an encoding the
 * interface does not implement, a read of a write-only register (EOIR, DIR,
 * SGI*R) and a write of a read-only one (IAR, HPPIR, RPR, ICH_VTR/MISR/EISR/
 * ELRSR) reads 0 and is counted as one guest error (IHI 0069H §12.1.6: such
 * accesses are UNDEFINED; the model makes them RAZ/WI and counts them, see
 * gicv3-cpu-interface.ts).
 */

import { Rng, Tracer, type WideValue } from "@irqlab/sim";
import { describe, expect, test } from "vitest";
import {
  ICC_ASGI1R_EL1, ICC_DIR_EL1, ICC_EOIR0_EL1, ICC_EOIR1_EL1, ICC_HPPIR0_EL1, ICC_HPPIR1_EL1, ICC_IAR0_EL1,
  ICC_IAR1_EL1, ICC_RPR_EL1, ICC_SGI0R_EL1, ICC_SGI1R_EL1, ICH_EISR_EL2, ICH_ELRSR_EL2, ICH_MISR_EL2, ICH_VTR_EL2,
  ICC_AP0Rn_EL1, ICC_AP1Rn_EL1,
} from "./gicv3-constants.js";
import { ICC_REGISTERS } from "./gicv3-cpu-interface.js";
import { isIchRegister } from "./gicv3-list-register.js";
import { Gicv3 } from "./gicv3.js";

const WRITE_ONLY = new Set([ICC_EOIR0_EL1, ICC_EOIR1_EL1, ICC_DIR_EL1, ICC_SGI0R_EL1, ICC_SGI1R_EL1, ICC_ASGI1R_EL1]);
const READ_ONLY = new Set([ICC_IAR0_EL1, ICC_IAR1_EL1, ICC_HPPIR0_EL1, ICC_HPPIR1_EL1, ICC_RPR_EL1]);
const ICH_READ_ONLY = new Set([ICH_VTR_EL2, ICH_MISR_EL2, ICH_EISR_EL2, ICH_ELRSR_EL2]);
/** The SGI registers are not part of the virtual interface: KVM traps them (access_gic_sgi). */
const ICV_NOT = new Set([ICC_SGI0R_EL1, ICC_SGI1R_EL1, ICC_ASGI1R_EL1]);

/** Every encoding of an MRS/MSR, as `sysReg()` packs it: op0 << 19 | op1 << 16 | CRn << 12 | CRm << 8 | op2 << 5. */
function* encodings(): Generator<number> {
  for (let e = 0; e < 1 << 16; e++) yield e << 5;
}

function u32(v: unknown): boolean {
  return typeof v === "number" && Number.isInteger(v) && v >= 0 && v < 2 ** 32;
}

/** Active-priority registers beyond what `priBits` implements: UNDEFINED (§12.2.1: APR1..3 need 6+ bits). */
function isUnimplementedApr(reg: number, aprCount: number): boolean {
  for (let n = aprCount; n < 4; n++) if (reg === ICC_AP0Rn_EL1(n) || reg === ICC_AP1Rn_EL1(n)) return true;
  return false;
}

describe("CPU interface system registers: every encoding, physical and virtual", () => {
  for (const priBits of [5, 8]) {
    test(`${priBits} priority bits: 32-bit words; unimplemented, write-only reads and read-only writes counted once`, () => {
      const tracer = new Tracer();
      const gic = new Gicv3({ cpus: 2, priBits, tracer });
      const hyp = gic.hyp[0]!;
      const aprCount = hyp.prio.aprCount;
      const icc = new Set(ICC_REGISTERS);
      const wide: WideValue = { hi: 0 };
      const rng = new Rng(priBits);
      const bad: string[] = [];
      const probe = (what: string, reg: number, reserved: boolean, access: () => unknown): void => {
        const before = tracer.guestErrors;
        wide.hi = -1;
        const v = access();
        const n = tracer.guestErrors - before;
        const isRead = v !== undefined;
        const width = !isRead || (u32(v) && u32(wide.hi));
        const ok = width && (reserved ? n === 1 && (!isRead || (v === 0 && wide.hi === 0)) : !isRead || n <= 1);
        if (!ok) bad.push(`${what} 0x${reg.toString(16)}: ${String(v)}:${String(wide.hi)}, ${n} guest error(s), ${reserved ? "reserved" : "defined"}`);
      };
      let accesses = 0;
      for (const reg of encodings()) {
        const ich = isIchRegister(hyp, reg);
        const missing = (!icc.has(reg) && !ich) || isUnimplementedApr(reg, aprCount);
        probe("MRS", reg, missing || WRITE_ONLY.has(reg), () => gic.readSysReg(0, reg, wide));
        probe("MSR", reg, missing || READ_ONLY.has(reg) || ICH_READ_ONLY.has(reg), () => {
          gic.writeSysReg(0, reg, rng.nextU32(), rng.nextU32());
        });
        const icv = icc.has(reg) && !ICV_NOT.has(reg) && !isUnimplementedApr(reg, aprCount);
        probe("ICV MRS", reg, !icv || WRITE_ONLY.has(reg), () => hyp.readIcv(reg, wide));
        probe("ICV MSR", reg, !icv || READ_ONLY.has(reg), () => {
          hyp.writeIcv(reg, rng.nextU32());
        });
        accesses += 4;
      }
      expect(accesses).toBe(4 * 65536);
      expect(bad.slice(0, 20)).toEqual([]);
    });
  }
});
