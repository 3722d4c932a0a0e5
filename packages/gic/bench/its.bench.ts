/**
 * ITS translation throughput with 64 K mapped events (DeviceID 0, EventIDs
 * 0..65535). Each iteration performs 1000 MSIs (so that the harness's
 * per-iteration overhead does not dominate a ~150 ns operation): MSIs/s =
 * hz × 1000.
 * - fake redistributor: GITS_TRANSLATER write → translation → setLpiPending,
 *   then the fake acknowledges (clears) the LPI;
 * - full path through the Gicv3 model: GITS_TRANSLATER write → LPI pending →
 *   ICC_IAR1_EL1 → ICC_EOIR1_EL1 (target ≥ 5 M/s under linux-kvm). The Gicv3
 *   implements 16 LPI ID bits (57,344 LPIs), so event e maps to LPI
 *   8192 + (e mod 57344).
 */
import { bench, describe } from "vitest";
import { ICC_EOIR1_EL1, ICC_IAR1_EL1 } from "../src/gicv3-constants.js";
import type { LpiTarget } from "../src/lpi-target.js";
import { itsCommand as cmd } from "../src/its/its-command-encoding.js";
import { GITS_TRANSLATER } from "../src/its/its-constants.js";
import type { ItsProfileName } from "../src/its/its-profiles.js";
import { ITT_BASE, ItsHarness, gicWithIts } from "../src/its/its-test-kit.js";

const EVENTS = 65536;
const LPIS = 57344;

/** The cheapest possible redistributor: one byte per LPI. */
class FastFake implements LpiTarget {
  readonly redistributorCount = 1;
  readonly pending = new Uint8Array(1 << 17);
  setLpiPending(_rd: number, intid: number): void {
    this.pending[intid] = 1;
  }
  clearLpiPending(_rd: number, intid: number): void {
    this.pending[intid] = 0;
  }
  isLpiPending(_rd: number, intid: number): boolean {
    return this.pending[intid] === 1;
  }
  invalidateLpi(): void {
    // nothing cached
  }
  invalidateAllLpis(): void {
    // nothing cached
  }
}

function mapEvents(h: ItsHarness, intidOf: (e: number) => number): void {
  h.submit(cmd.mapd(0, ITT_BASE, 15), cmd.mapc(0, 0));
  for (let base = 0; base < EVENTS; base += 1024) {
    const batch: number[][] = [];
    for (let e = base; e < base + 1024; e++) batch.push(cmd.mapti(0, e, intidOf(e), 0));
    h.submit(...batch);
  }
  if (h.its.commandErrors !== 0) throw new Error(`setup failed: ${h.its.errors()[0]?.detail ?? ""}`);
}

for (const profile of ["linux-kvm", "qemu"] as ItsProfileName[]) {
  describe(`ITS ${profile}, 64K mapped events`, () => {
    const fake = new FastFake();
    const hf = new ItsHarness({ profile, lpiTarget: fake, lpiIdBits: 17 });
    mapEvents(hf, (e) => 8192 + e);
    const its = hf.its;
    its.requesterId = 0;
    let ev = 0;
    bench("GITS_TRANSLATER write → setLpiPending on a fake RD, then clear [x1000]", () => {
      for (let i = 0; i < 1000; i++) {
        its.write(GITS_TRANSLATER, 4, ev, 0);
        fake.pending[8192 + ev] = 0;
        ev = (ev + 1) & (EVENTS - 1);
      }
    });

    const { gic, h } = gicWithIts(profile, LPIS);
    mapEvents(h, (e) => 8192 + (e % LPIS));
    const its2 = h.its;
    its2.requesterId = 0;
    let ev2 = 0;
    bench("GITS_TRANSLATER write → LPI pending → ICC_IAR1 → ICC_EOIR1 on the Gicv3 [x1000]", () => {
      for (let i = 0; i < 1000; i++) {
        its2.write(GITS_TRANSLATER, 4, ev2, 0);
        const intid = gic.readSysReg(0, ICC_IAR1_EL1);
        if (intid !== 8192 + (ev2 % LPIS)) throw new Error(`IAR returned ${intid} for event ${ev2}`);
        gic.writeSysReg(0, ICC_EOIR1_EL1, intid);
        ev2 = (ev2 + 1) & (EVENTS - 1);
      }
    });
  });
}
