/**
 * What the GIC calls quiet — a load of the distributor or a redistributor
 * (MmioDevice.quietReads), an ICC access Gicv3.quietSysReg accepts — leaves
 * the whole GIC state (Gicv3.state()) as it was, with interrupts pending,
 * active and enabled around it. A model repeating such an access skips the
 * repetitions on that promise.
 */
import { GuestMemory, type WideValue } from "@irqlab/sim";
import { describe, expect, test } from "vitest";
import {
  GICD_CTLR,
  GICD_ISENABLER,
  GICD_ISPENDR,
  ICC_EOIR0_EL1,
  ICC_EOIR1_EL1,
  ICC_IAR1_EL1,
  ICC_IGRPEN1_EL1,
  ICC_PMR_EL1,
} from "./gicv3-constants.js";
import { ICC_REGISTERS } from "./gicv3-cpu-interface.js";
import { Gicv3 } from "./gicv3.js";

/** Two PEs, SPIs 32..39 enabled and pending, the first of them acknowledged (active) on PE 0 unless `ack` is false. */
function busyGic(ack = true): Gicv3 {
  const gic = new Gicv3({ cpus: 2, memory: new GuestMemory(), nrIrqs: 96 });
  gic.distributor.write(GICD_CTLR, 4, 2, 0);
  gic.distributor.write(GICD_ISENABLER + 4, 4, 0xff, 0);
  gic.distributor.write(GICD_ISPENDR + 4, 4, 0xff, 0);
  for (let pe = 0; pe < 2; pe++) {
    gic.writeSysReg(pe, ICC_PMR_EL1, 0xf0);
    gic.writeSysReg(pe, ICC_IGRPEN1_EL1, 1);
  }
  if (ack) expect(gic.readSysReg(0, ICC_IAR1_EL1)).toBe(32);
  return gic;
}

const snapshot = (gic: Gicv3): string => JSON.stringify(gic.state());

describe("quiet GIC accesses change nothing", () => {
  test("every word of the distributor and of both redistributors, 4- and 8-byte loads", () => {
    const gic = busyGic();
    const wide: WideValue = { hi: 0 };
    expect(gic.distributor.quietReads).toBe(true);
    expect(gic.redistributors.quietReads).toBe(true);
    const before = snapshot(gic);
    for (let off = 0; off < 0x1_0000; off += 4) gic.distributor.read(off, 4, wide);
    for (let off = 0; off < 0x1_0000; off += 8) gic.distributor.read(off, 8, wide);
    for (let off = 0; off < 2 * gic.redistributors.stride; off += 4) gic.redistributors.read(off, 4, wide);
    expect(snapshot(gic)).toBe(before);
  });

  test("each ICC access quietSysReg accepts leaves the state; an acknowledge and a real EOI are refused and do change it", () => {
    const values = [0, 1, 32, 33, 95, 96, 1019, 1020, 1021, 1022, 1023, 8192, 0xffffff];
    let quiet = 0;
    for (const reg of ICC_REGISTERS) {
      for (const write of [false, true]) {
        for (const value of write ? values : [0]) {
          const gic = busyGic();
          if (!gic.quietSysReg(reg, write, value)) continue;
          quiet++;
          const before = snapshot(gic);
          if (write) gic.writeSysReg(0, reg, value);
          else gic.readSysReg(0, reg);
          expect(snapshot(gic), `${write ? "MSR" : "MRS"} 0x${reg.toString(16)} = ${value}`).toBe(before);
        }
      }
    }
    // Every register's read but the two acknowledges; EOIR0/1 of 96, 1019 (not implemented) and 1020..1023.
    expect(quiet).toBe(ICC_REGISTERS.length - 2 + 2 * 6);
    for (const [reg, write, value] of [[ICC_IAR1_EL1, false, 0], [ICC_EOIR1_EL1, true, 32]] as const) {
      // With nothing active yet, the acknowledge has SPI 32 to take; the EOI needs it active.
      const gic = busyGic(write);
      expect(gic.quietSysReg(reg, write, value)).toBe(false);
      const before = snapshot(gic);
      if (write) gic.writeSysReg(0, reg, value);
      else gic.readSysReg(0, reg);
      expect(snapshot(gic)).not.toBe(before);
    }
    // An EOI of an LPI is not an ignored INTID, whatever it then finds.
    expect(busyGic().quietSysReg(ICC_EOIR0_EL1, true, 8192)).toBe(false);
  });
});
