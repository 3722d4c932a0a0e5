/**
 * Guest register traffic on a GICv3 / GICv4.1 in both profiles ("kvm",
 * "qemu"): loads and stores of every width on the distributor and on every
 * redistributor's RD_base, SGI_base (and VLPI_base) frame, MRS/MSR of the
 * ICC_* and ICH_*_EL2 system registers and random encodings near them, and
 * SPI/PPI wire changes in between so the state machines move.
 *
 * Invariants (mmio-access.ts, plus): an ICC/ICH encoding the model does not
 * implement, a read of a write-only and a write of a read-only ICC register
 * are counted as guest errors (IHI 0069H §12.1.6: UNDEFINED; the model makes
 * them RAZ/WI and counts them, see gicv3-cpu-interface.ts).
 */

import {
  GICD_SIZE,
  GICR_SGI_BASE,
  GICR_VLPI_BASE,
  GICR_PROPBASER,
  GICR_PENDBASER,
  GICR_CTLR,
  Gicv3,
  ICC_REGISTERS,
  ICC_DIR_EL1,
  ICC_EOIR0_EL1,
  ICC_EOIR1_EL1,
  ICC_HPPIR0_EL1,
  ICC_HPPIR1_EL1,
  ICC_IAR0_EL1,
  ICC_IAR1_EL1,
  ICC_RPR_EL1,
  ICC_SGI0R_EL1,
  ICC_SGI1R_EL1,
  ICC_ASGI1R_EL1,
  isIchRegister,
  type Gicv3Profile,
} from "@irqlab/gic";
import { GuestMemory, Tracer, sysReg, type Rng } from "@irqlab/sim";
import { checkedAccess, drawAccess, drawWord, type MmioOp } from "../mmio-access.js";
import { check, fitsWidth, type FuzzTarget } from "../target.js";

interface Setup {
  readonly profile: Gicv3Profile;
  readonly v41: boolean;
  readonly cpus: number;
  readonly nrIrqs: number;
  readonly lpis: boolean;
}

type Op =
  | ({ readonly k: "gicd" } & MmioOp)
  | ({ readonly k: "gicr"; readonly rd: number; readonly frame: number } & MmioOp)
  | { readonly k: "sys"; readonly pe: number; readonly reg: number; readonly w: 0 | 1; readonly lo: number; readonly hi: number }
  | { readonly k: "spi"; readonly intid: number; readonly level: boolean }
  | { readonly k: "ppi"; readonly pe: number; readonly intid: number; readonly level: boolean };

const RAM = 0x4000_0000;

/** Register offsets of GICD (IHI 0069H Table 12-25), the reserved words between them, and the frame's edges. */
const GICD_OFFSETS = [
  ...range(0, 0x80, 4),
  ...range(0x80, 0x400, 0x40),
  0x3fc, 0x400, 0x7f8, 0x7fc, 0x800, 0xbfc, 0xc00, 0xcfc, 0xd00, 0xdfc, 0xe00, 0xefc, 0xf00, 0xf04, 0xf10, 0xf20, 0xf30,
  0x6000, 0x6008, 0x6100, 0x7fd8, 0x7ff8, 0x8000, 0xc000, 0xffc8, ...range(0xffd0, 0x10000, 4),
];
/** RD_base (Table 12-27) and SGI_base (Table 12-29) offsets with holes and edges. */
const GICR_OFFSETS = [
  ...range(0, 0xd0, 4), 0x100, 0x180, 0x200, 0x280, 0x300, 0x380, 0x400, 0x41c, 0x420, 0xc00, 0xc04, 0xc08, 0xd00, 0xe00,
  0xf00, ...range(0xffd0, 0x10000, 4),
];

/** ICC encodings with the write-only and read-only ones (IHI 0069H §12.2). */
const WRITE_ONLY = new Set([ICC_EOIR0_EL1, ICC_EOIR1_EL1, ICC_DIR_EL1, ICC_SGI0R_EL1, ICC_SGI1R_EL1, ICC_ASGI1R_EL1]);
const READ_ONLY = new Set([ICC_IAR0_EL1, ICC_IAR1_EL1, ICC_HPPIR0_EL1, ICC_HPPIR1_EL1, ICC_RPR_EL1]);
const ICC_SET = new Set(ICC_REGISTERS);

function range(from: number, to: number, step: number): number[] {
  const out: number[] = [];
  for (let x = from; x < to; x += step) out.push(x);
  return out;
}

function drawSysReg(rng: Rng): number {
  switch (rng.int(0, 3)) {
    case 0:
    case 1:
      return rng.pick(ICC_REGISTERS);
    case 2: // ICC_* (op1 0) and ICH_*_EL2 (op1 4) neighbourhoods: CRn 12, CRm 8..15
      return sysReg(3, rng.pick([0, 4]), 12, rng.int(8, 15), rng.int(0, 7));
    default:
      return rng.int(0, (1 << 21) - 1) << 5 >>> 0;
  }
}

function build(s: Setup): { gic: Gicv3; tracer: Tracer } {
  const tracer = new Tracer();
  const memory = s.lpis ? new GuestMemory() : undefined;
  memory?.addRam(RAM, 0x40_0000);
  const gic = new Gicv3({ cpus: s.cpus, nrIrqs: s.nrIrqs, profile: s.profile, v41: s.v41, tracer, ...(memory ? { memory } : {}) });
  if (s.lpis) {
    // Some redistributors get LPIs on so that pending-table and INVLPIR paths run.
    for (let rd = 0; rd < s.cpus; rd += 2) {
      const at = rd * gic.redistributors.stride;
      gic.redistributors.write(at + GICR_PROPBASER, 8, RAM | 13, 0);
      gic.redistributors.write(at + GICR_PENDBASER, 8, RAM + 0x10000 * (rd + 1), 0);
      gic.redistributors.write(at + GICR_CTLR, 4, 1, 0);
    }
  }
  return { gic, tracer };
}

export const gicRegisters: FuzzTarget<Setup, Op> = {
  name: "gic-registers",
  about: "GICD, GICR (RD/SGI/VLPI frames) and ICC/ICH system registers, kvm and qemu profiles, GICv3 and GICv4.1",
  generate(rng, count) {
    const cpus = rng.int(1, 4);
    const setup: Setup = {
      profile: rng.pick(["kvm", "qemu"] as const),
      v41: rng.chance(0.5),
      cpus,
      nrIrqs: rng.pick([64, 96, 256, 1024]),
      lpis: rng.chance(0.6),
    };
    const frames = setup.v41 ? 3 : 2;
    const ops: Op[] = [];
    for (let i = 0; i < count; i++) {
      const r = rng.int(0, 19);
      if (r < 8) ops.push({ k: "gicd", ...drawAccess(rng, GICD_SIZE, GICD_OFFSETS) });
      else if (r < 14) {
        ops.push({ k: "gicr", rd: rng.int(0, cpus - 1), frame: rng.int(0, frames - 1), ...drawAccess(rng, 0x10000, GICR_OFFSETS) });
      } else if (r < 18) {
        ops.push({ k: "sys", pe: rng.int(0, cpus - 1), reg: drawSysReg(rng), w: rng.chance(0.5) ? 1 : 0, lo: drawWord(rng), hi: drawWord(rng) });
      } else if (r < 19) ops.push({ k: "spi", intid: rng.int(32, Math.min(setup.nrIrqs - 1, 1019)), level: rng.chance(0.5) });
      else ops.push({ k: "ppi", pe: rng.int(0, cpus - 1), intid: rng.int(16, 31), level: rng.chance(0.5) });
    }
    return { setup, ops };
  },
  execute(setup, ops, step) {
    const { gic, tracer } = build(setup);
    const wide = { hi: 0 };
    const frameBase = [0, GICR_SGI_BASE, GICR_VLPI_BASE];
    for (let i = 0; i < ops.length; i++) {
      step(i);
      const o = ops[i]!;
      switch (o.k) {
        case "gicd":
          checkedAccess(gic.distributor, tracer, 0, o, "GICD");
          break;
        case "gicr":
          checkedAccess(gic.redistributors, tracer, o.rd * gic.redistributors.stride + frameBase[o.frame]!, o, `GICR${o.rd} frame ${o.frame}`);
          break;
        case "sys": {
          const before = tracer.guestErrors;
          const ich = ((o.reg >>> 16) & 7) === 4 && isIchRegister(gic.hyp[o.pe]!, o.reg);
          if (o.w) gic.writeSysReg(o.pe, o.reg, o.lo, o.hi);
          else {
            wide.hi = -1;
            const v = gic.readSysReg(o.pe, o.reg, wide);
            check(fitsWidth(v, 4) && fitsWidth(wide.hi, 4), "read-width", () => `MRS 0x${o.reg.toString(16)} on PE ${o.pe} returned ${v}:${wide.hi}`);
          }
          const wrongWay = !ich && (!ICC_SET.has(o.reg) || (o.w ? READ_ONLY.has(o.reg) : WRITE_ONLY.has(o.reg)));
          if (wrongWay) {
            check(tracer.guestErrors > before, "uncounted-bad-access", () => `${o.w ? "MSR" : "MRS"} 0x${o.reg.toString(16)} on PE ${o.pe} not counted`);
          }
          break;
        }
        case "spi":
          gic.setSpiLevel(o.intid, o.level);
          break;
        case "ppi":
          gic.setPpiLevel(o.pe, o.intid, o.level);
          break;
      }
    }
    step(ops.length);
  },
};
