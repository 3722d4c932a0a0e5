// One core. Targets: SPI asserted → IAR → EOIR ≥ 10 M/s; GICD register access ≥ 20 M/s.
// One call runs 100 operations ("[x100]", multiplied out by scripts/bench.mjs) so that the
// harness's per-call overhead stays out of the figure.
import { bench, describe } from "vitest";
import {
  GICD_CTLR, GICD_IPRIORITYR, GICD_ISENABLER, GICD_ISPENDR, Gicv3, ICC_EOIR1_EL1, ICC_IAR1_EL1, ICC_IGRPEN1_EL1,
  ICC_PMR_EL1,
} from "../src/index.js";

function ready(): Gicv3 {
  const gic = new Gicv3({ cpus: 4 });
  gic.distributor.write(GICD_CTLR, 4, 2, 0);
  gic.writeSysReg(0, ICC_PMR_EL1, 0xff);
  gic.writeSysReg(0, ICC_IGRPEN1_EL1, 1);
  gic.distributor.write(GICD_IPRIORITYR + 40, 1, 0xa0, 0);
  gic.distributor.write(GICD_ISENABLER + 4, 4, 0xffffffff, 0);
  gic.onIrq = () => undefined; // the IRQ line toggles twice per cycle
  return gic;
}

describe("gicv3 SPI delivery", () => {
  const gic = ready();
  const cpu = gic.cpuInterface;
  const cycle = (): void => {
    gic.setSpiLevel(40, true);
    const id = cpu.read(0, ICC_IAR1_EL1);
    if (id !== 40) throw new Error(`IAR returned ${id}, expected 40`);
    cpu.write(0, ICC_EOIR1_EL1, id);
  };
  bench("SPI 40 asserted → ICC_IAR1_EL1 → ICC_EOIR1_EL1, edge, 4 PEs [x100]", () => {
    for (let k = 0; k < 100; k++) cycle();
  });
});

describe("gicv3 GICD register access", () => {
  const d = ready().distributor;
  const wide = { hi: 0 };
  let i = 0;
  const access = (): void => {
    if ((i++ & 1) === 0) d.read(GICD_ISPENDR + 4, 4, wide);
    else d.write(GICD_IPRIORITYR + 64, 1, 0x80, 0);
  };
  bench("GICD access (alternating 32-bit ISPENDR1 read / IPRIORITYR byte write) [x100]", () => {
    for (let k = 0; k < 100; k++) access();
  });
});
