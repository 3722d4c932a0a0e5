// Snapshot round-trips: fromState(state()) through JSON behaves exactly like
// the original under the same subsequent operations.
import { GuestMemory } from "@irqlab/sim";
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import {
  GICD_CTLR,
  GICD_IPRIORITYR,
  GICD_ISENABLER,
  GICR_CTLR,
  GICR_PENDBASER,
  GICR_PROPBASER,
  ICC_BPR1_EL1,
  ICC_CTLR_EL1,
  ICC_EOIR1_EL1,
  ICC_IAR1_EL1,
  ICC_IGRPEN1_EL1,
  ICC_PMR_EL1,
  ICH_HCR_EL2,
  ICH_LRn_EL2,
} from "./gicv3-constants.js";
import { Gicv3, type Gicv3Snapshot } from "./gicv3.js";

function build(memory: GuestMemory): Gicv3 {
  const gic = new Gicv3({ cpus: 2, memory, nrIrqs: 128 });
  gic.distributor.write(GICD_CTLR, 4, 2, 0);
  for (let pe = 0; pe < 2; pe++) {
    gic.writeSysReg(pe, ICC_PMR_EL1, 0xf0);
    gic.writeSysReg(pe, ICC_IGRPEN1_EL1, 1);
    gic.writeSysReg(pe, ICC_BPR1_EL1, 4);
  }
  gic.writeSysReg(1, ICC_CTLR_EL1, 2);
  for (let n = 1; n < 4; n++) gic.distributor.write(GICD_ISENABLER + 4 * n, 4, 0xffffffff, 0);
  for (let i = 32; i < 128; i++) gic.distributor.write(GICD_IPRIORITYR + i, 1, (i * 37) & 0xff, 0);
  memory.fill(0x10000, 0x2000, 0xa3);
  gic.redistributors.write(GICR_PROPBASER, 8, 0x10000 | 13, 0);
  gic.redistributors.write(GICR_PENDBASER, 8, 0x20000, 0);
  gic.redistributors.write(GICR_CTLR, 4, 1, 0);
  gic.writeSysReg(1, ICH_HCR_EL2, 1);
  gic.writeSysReg(1, ICH_LRn_EL2(1), 45, (1 << 30) | (1 << 28) | (0x60 << 16));
  return gic;
}

const opArb = fc.array(
  fc.tuple(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 1 }), fc.integer({ min: 32, max: 127 }), fc.boolean()),
  { minLength: 1, maxLength: 60 },
);

/** Applies ops and returns what the guest observed. */
function run(gic: Gicv3, ops: [number, number, number, boolean][]): string[] {
  const seen: string[] = [];
  const acked: number[][] = [[], []];
  for (const [k, pe, n, b] of ops) {
    switch (k) {
      case 0:
        gic.setSpiLevel(n, b);
        break;
      case 1: {
        const id = gic.readSysReg(pe, ICC_IAR1_EL1);
        seen.push(`iar${pe}=${id}`);
        if (id !== 1023) acked[pe]!.push(id);
        break;
      }
      case 2: {
        const id = acked[pe]!.pop();
        if (id !== undefined) gic.writeSysReg(pe, ICC_EOIR1_EL1, id);
        break;
      }
      case 3:
        gic.setLpiPending(0, 8192 + n);
        break;
    }
    seen.push(`irq=${gic.irqLevel(0) ? 1 : 0}${gic.irqLevel(1) ? 1 : 0}`);
  }
  return seen;
}

describe("snapshot round-trip", () => {
  test("fromState(JSON(state())) behaves like the original", () => {
    fc.assert(
      fc.property(opArb, opArb, (before, after) => {
        const memA = new GuestMemory();
        memA.addRam(0, 0x40000);
        const a = build(memA);
        run(a, before);
        const snap = JSON.parse(JSON.stringify(a.state())) as Gicv3Snapshot;
        const memB = new GuestMemory();
        memB.addRam(0, 0x40000);
        memB.write(0, memA.read(0, 0x40000));
        const b = Gicv3.fromState(snap, { memory: memB });
        expect(JSON.stringify(b.state())).toBe(JSON.stringify(a.state()));
        expect(run(b, after)).toEqual(run(a, after));
        expect(JSON.stringify(b.state())).toBe(JSON.stringify(a.state()));
      }),
      { numRuns: 40 },
    );
  });

  test("a snapshot of another version is refused with a typed error", () => {
    const memory = new GuestMemory();
    memory.addRam(0, 0x40000);
    const s = { ...build(memory).state(), version: 2 } as unknown as Gicv3Snapshot;
    expect(() => Gicv3.fromState(s, { memory })).toThrow(/version 2/);
  });
});
