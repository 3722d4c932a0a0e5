// fast-check properties of the GICv3 model:
// 1. an acknowledged interrupt is always the highest-priority pending, enabled,
//    inactive one (in an enabled group) that beats PMR and the running priority
//    — checked against a reference computed only from architectural registers;
// 2. random register traffic (MMIO of any size/offset, any system register,
//    any ICH_* value) never throws.
import { GuestMemory, Tracer, type AccessSize } from "@irqlab/sim";
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import {
  GICD_CTLR,
  GICD_ICACTIVER,
  GICD_ICENABLER,
  GICD_ICFGR,
  GICD_ICPENDR,
  GICD_IGROUPR,
  GICD_IPRIORITYR,
  GICD_IROUTER,
  GICD_ISACTIVER,
  GICD_ISENABLER,
  GICD_ISPENDR,
  GICR_SGI_BASE,
  ICC_BPR0_EL1,
  ICC_BPR1_EL1,
  ICC_CTLR_EL1,
  ICC_DIR_EL1,
  ICC_EOIR0_EL1,
  ICC_EOIR1_EL1,
  ICC_IAR0_EL1,
  ICC_IAR1_EL1,
  ICC_IGRPEN0_EL1,
  ICC_IGRPEN1_EL1,
  ICC_PMR_EL1,
  ICC_RPR_EL1,
  ICC_SGI1R_EL1,
  INTID_SPURIOUS,
  ICH_HCR_EL2,
  ICH_LRn_EL2,
  ICH_VMCR_EL2,
} from "./gicv3-constants.js";
import { ICC_REGISTERS } from "./gicv3-cpu-interface.js";
import { Gicv3 } from "./gicv3.js";

const CPUS = 2;
const NR_IRQS = 96;
const wide = { hi: 0 };

/** Reads one bit-per-INTID register bit through the architectural view of `pe`. */
function bit(gic: Gicv3, pe: number, base: number, intid: number): boolean {
  const off = base + 4 * (intid >> 5);
  const v =
    intid < 32
      ? gic.redistributors.read(pe * gic.redistributors.stride + GICR_SGI_BASE + off, 4, wide)
      : gic.distributor.read(off, 4, wide);
  return ((v >>> (intid & 31)) & 1) === 1;
}

function priority(gic: Gicv3, pe: number, intid: number): number {
  return intid < 32
    ? gic.redistributors.read(pe * gic.redistributors.stride + GICR_SGI_BASE + 0x400 + intid, 1, wide)
    : gic.distributor.read(GICD_IPRIORITYR + intid, 1, wide);
}

/** The reference answer of ICC_IAR<g>_EL1 on `pe`, from registers only (IHI 0069H §4.7, §4.8). */
function expectedIar(gic: Gicv3, pe: number, g: number): number {
  const ctlr = gic.distributor.read(GICD_CTLR, 4, wide);
  // KVM keeps one distributor enable for both groups.
  const distOn = (ctlr & 2) !== 0;
  const grpOn = [distOn && gic.readSysReg(pe, ICC_IGRPEN0_EL1) === 1, distOn && gic.readSysReg(pe, ICC_IGRPEN1_EL1) === 1];
  let best = -1;
  let bestPrio = 0x100;
  let bestGroup = 0;
  for (let intid = 0; intid < NR_IRQS; intid++) {
    if (intid >= 32) {
      const aff = gic.distributor.read(GICD_IROUTER + 8 * intid, 4, wide);
      if (aff !== (pe & 0xf)) continue; // default affinities: Aff0 = PE number
    }
    const grp = bit(gic, pe, GICD_IGROUPR, intid) ? 1 : 0;
    if (!grpOn[grp]) continue;
    if (!bit(gic, pe, GICD_ISPENDR, intid) || !bit(gic, pe, GICD_ISENABLER, intid) || bit(gic, pe, GICD_ISACTIVER, intid)) continue;
    const p = priority(gic, pe, intid);
    if (p < bestPrio) {
      best = intid;
      bestPrio = p;
      bestGroup = grp;
    }
  }
  if (best < 0 || bestGroup !== g) return INTID_SPURIOUS;
  if (bestPrio >= gic.readSysReg(pe, ICC_PMR_EL1)) return INTID_SPURIOUS;
  const rpr = gic.readSysReg(pe, ICC_RPR_EL1);
  const cbpr = (gic.readSysReg(pe, ICC_CTLR_EL1) & 1) !== 0;
  // Group priority: group 0 uses bits [7:BPR0+1]; group 1 bits [7:BPR1], or BPR0's split with CBPR.
  const bpr = g === 0 || cbpr ? gic.readSysReg(pe, ICC_BPR0_EL1) + 1 : gic.readSysReg(pe, ICC_BPR1_EL1);
  const gprio = bestPrio & ((0xff << bpr) & 0xff);
  return rpr === 0xff || gprio < rpr ? best : INTID_SPURIOUS;
}

type Op =
  | { k: "spi"; intid: number; level: boolean }
  | { k: "ppi"; pe: number; intid: number; level: boolean }
  | { k: "dist"; reg: number; n: number; value: number }
  | { k: "prio"; pe: number; intid: number; value: number }
  | { k: "route"; intid: number; pe: number }
  | { k: "sys"; pe: number; reg: number; value: number }
  | { k: "iar"; pe: number; g: number }
  | { k: "eoiLast"; pe: number; g: number };

const weighted = <T,>(weight: number, arbitrary: fc.Arbitrary<T>) => ({ weight, arbitrary });
const opArb: fc.Arbitrary<Op> = fc.oneof(
  weighted(4, fc.record({ k: fc.constant("spi" as const), intid: fc.integer({ min: 32, max: NR_IRQS - 1 }), level: fc.boolean() })),
  weighted(
    2,
    fc.record({
      k: fc.constant("ppi" as const),
      pe: fc.integer({ min: 0, max: CPUS - 1 }),
      intid: fc.integer({ min: 16, max: 31 }),
      level: fc.boolean(),
    }),
  ),
  weighted(1, fc.record({
    k: fc.constant("dist" as const),
    reg: fc.constantFrom(GICD_ISENABLER, GICD_ICENABLER, GICD_ISPENDR, GICD_ICPENDR, GICD_ISACTIVER, GICD_ICACTIVER, GICD_IGROUPR),
    n: fc.integer({ min: 1, max: NR_IRQS / 32 - 1 }),
    value: fc.integer({ min: 0, max: 0xffffffff }),
  })),
  weighted(2, fc.record({
    k: fc.constant("prio" as const),
    pe: fc.integer({ min: 0, max: CPUS - 1 }),
    intid: fc.integer({ min: 0, max: NR_IRQS - 1 }),
    value: fc.integer({ min: 0, max: 255 }),
  })),
  weighted(1, fc.record({ k: fc.constant("route" as const), intid: fc.integer({ min: 32, max: NR_IRQS - 1 }), pe: fc.integer({ min: 0, max: CPUS }) })),
  weighted(1, fc.record({
    k: fc.constant("sys" as const),
    pe: fc.integer({ min: 0, max: CPUS - 1 }),
    reg: fc.constantFrom(ICC_PMR_EL1, ICC_BPR0_EL1, ICC_BPR1_EL1, ICC_CTLR_EL1, ICC_IGRPEN0_EL1, ICC_IGRPEN1_EL1, ICC_SGI1R_EL1, ICC_DIR_EL1),
    value: fc.integer({ min: 0, max: 0xffffffff }),
  })),
  weighted(4, fc.record({ k: fc.constant("iar" as const), pe: fc.integer({ min: 0, max: CPUS - 1 }), g: fc.integer({ min: 0, max: 1 }) })),
  weighted(3, fc.record({ k: fc.constant("eoiLast" as const), pe: fc.integer({ min: 0, max: CPUS - 1 }), g: fc.integer({ min: 0, max: 1 }) })),
);

describe("properties", () => {
  test("an acknowledged interrupt is the highest-priority deliverable one that beats PMR and the running priority", () => {
    let acks = 0;
    fc.assert(
      fc.property(fc.array(opArb, { minLength: 20, maxLength: 120, size: "max" }), fc.constantFrom("kvm" as const, "qemu" as const), fc.integer({ min: 4, max: 8 }), (ops, profile, priBits) => {
        const gic = new Gicv3({ cpus: CPUS, nrIrqs: NR_IRQS, profile, priBits });
        gic.distributor.write(GICD_CTLR, 4, 3, 0);
        for (let pe = 0; pe < CPUS; pe++) {
          gic.writeSysReg(pe, ICC_PMR_EL1, 0xff);
          gic.writeSysReg(pe, ICC_IGRPEN0_EL1, 1);
          gic.writeSysReg(pe, ICC_IGRPEN1_EL1, 1);
          gic.redistributors.write(pe * gic.redistributors.stride + GICR_SGI_BASE + 0x100, 4, 0xffffffff, 0);
        }
        for (let n = 1; n < NR_IRQS / 32; n++) gic.distributor.write(GICD_ISENABLER + 4 * n, 4, 0xffffffff, 0);
        const acked: number[][] = [[], []];
        for (const o of ops) {
          switch (o.k) {
            case "spi":
              gic.setSpiLevel(o.intid, o.level);
              break;
            case "ppi":
              gic.setPpiLevel(o.pe, o.intid, o.level);
              break;
            case "dist":
              gic.distributor.write(o.reg + 4 * o.n, 4, o.value, 0);
              if (o.reg === GICD_ISENABLER) gic.distributor.write(GICD_ICFGR + 4 * 2 * o.n, 4, o.value, 0);
              break;
            case "prio":
              if (o.intid < 32) gic.redistributors.write(o.pe * gic.redistributors.stride + GICR_SGI_BASE + 0x400 + o.intid, 1, o.value, 0);
              else gic.distributor.write(GICD_IPRIORITYR + o.intid, 1, o.value, 0);
              break;
            case "route":
              gic.distributor.write(GICD_IROUTER + 8 * o.intid, 4, o.pe, 0);
              break;
            case "sys":
              gic.writeSysReg(o.pe, o.reg, o.reg === ICC_SGI1R_EL1 ? o.value & 0x0f00ffff : o.value, 0);
              break;
            case "iar": {
              const want = expectedIar(gic, o.pe, o.g);
              const got = gic.readSysReg(o.pe, o.g === 0 ? ICC_IAR0_EL1 : ICC_IAR1_EL1);
              expect(got).toBe(want);
              if (got !== INTID_SPURIOUS) {
                acked[o.pe]!.push(got);
                acks++;
              }
              expect(gic.irqLevel(o.pe) || gic.fiqLevel(o.pe)).toBe(
                expectedIar(gic, o.pe, 0) !== INTID_SPURIOUS || expectedIar(gic, o.pe, 1) !== INTID_SPURIOUS,
              );
              break;
            }
            case "eoiLast": {
              const id = acked[o.pe]!.pop();
              if (id !== undefined) gic.writeSysReg(o.pe, o.g === 0 ? ICC_EOIR0_EL1 : ICC_EOIR1_EL1, id);
              break;
            }
          }
        }
      }),
      { numRuns: 400 },
    );
    // The property is only meaningful if interrupts do get acknowledged.
    expect(acks).toBeGreaterThan(300);
  });

  test("random register traffic never throws", () => {
    const sizes: AccessSize[] = [1, 2, 4, 8];
    fc.assert(
      fc.property(
        fc.array(
          fc.tuple(fc.integer({ min: 0, max: 6 }), fc.nat(), fc.constantFrom(...sizes), fc.nat(), fc.nat(), fc.integer({ min: 0, max: 2 })),
          { maxLength: 200 },
        ),
        fc.boolean(),
        (ops, v41) => {
          const memory = new GuestMemory();
          memory.addRam(0, 0x100000);
          const gic = new Gicv3({ cpus: 3, memory, v41, tracer: new Tracer() });
          const regSpace = [...ICC_REGISTERS, ICH_HCR_EL2, ICH_VMCR_EL2, ICH_LRn_EL2(0), ICH_LRn_EL2(3)];
          for (const [kind, a, size, v, hi, pe] of ops) {
            switch (kind) {
              case 0:
                gic.distributor.read(a % 0x10000, size, wide);
                break;
              case 1:
                gic.distributor.write(a % 0x10000, size, v >>> 0, hi >>> 0);
                break;
              case 2:
                gic.redistributors.read(a % gic.redistributors.size, size, wide);
                break;
              case 3:
                gic.redistributors.write(a % gic.redistributors.size, size, v >>> 0, hi >>> 0);
                break;
              case 4:
                gic.readSysReg(pe, a % 3 === 0 ? a : regSpace[a % regSpace.length]!, wide);
                break;
              case 5:
                gic.writeSysReg(pe, a % 3 === 0 ? a : regSpace[a % regSpace.length]!, v >>> 0, hi >>> 0);
                break;
              case 6:
                gic.hyp[pe]!.writeIcv(regSpace[a % regSpace.length]!, v >>> 0);
                gic.hyp[pe]!.readIcv(regSpace[(a + 1) % regSpace.length]!);
                gic.setLpiPending(pe, 8192 + (v % 4096));
                break;
            }
          }
          gic.savePendingTables();
          expect(Gicv3.fromState(gic.state(), { memory }).state()).toEqual(gic.state());
        },
      ),
      { numRuns: 200 },
    );
  });
});
