/**
 * Guest traffic on a GICv3 / GICv4.1 ITS in both profiles ("linux-kvm",
 * "qemu"): register loads and stores of every width on both 64 KiB frames,
 * a command queue placed in RAM or in unbacked guest-physical space, filled
 * with well-formed commands (small IDs, so mappings build up and get used)
 * and with random words, advanced by CWRITER; MSIs through GITS_TRANSLATER;
 * re-programming of CBASER/BASERn/CTLR in between.
 *
 * Invariants (mmio-access.ts, plus): GITS_CREADR stays a 32-byte aligned
 * offset (IHI 0069H §12.19.5), and the LPI state of the redistributors can
 * be read back without an exception after every operation.
 */

import {
  GITS_BASER,
  GITS_CBASER,
  GITS_CBASER_HI_VALID,
  GITS_BASER_HI_VALID,
  GITS_CREADR,
  GITS_CTLR,
  GITS_CTLR_ENABLE,
  GITS_CWRITER,
  GITS_REGION_SIZE,
  GITS_TRANSLATER,
  GICD_CTLR,
  GICR_CTLR,
  GICR_PENDBASER,
  GICR_PROPBASER,
  GicrVlpiFrame,
  Gicv3,
  Its,
  VpeTable,
  itsCommand,
  writeItsCommand,
  type ItsCommandWords,
  type ItsProfileName,
} from "@irqlab/gic";
import { GuestMemory, Tracer, type Rng } from "@irqlab/sim";
import { checkedAccess, drawAccess, drawWord, type MmioOp } from "../mmio-access.js";
import { check, type FuzzTarget } from "../target.js";

interface Setup {
  readonly profile: ItsProfileName;
  readonly v41: boolean;
  readonly cpus: number;
}

type Op =
  | ({ readonly k: "mmio" } & MmioOp)
  | { readonly k: "cmds"; readonly words: readonly ItsCommandWords[] }
  | { readonly k: "msi"; readonly dev: number; readonly ev: number }
  | { readonly k: "init"; readonly queue: number; readonly tables: number };

const RAM = 0x4000_0000;
const RAM_SIZE = 0x100_0000;
/** Where queues and tables go: in RAM, or in unbacked space the guest never populated. */
const PLACES = [RAM, RAM + 0x10_0000, RAM + 0x20_0000, 0x1000_0000, RAM + RAM_SIZE - 0x1000];
const PROP = RAM + 0x80_0000;
const ITT = RAM + 0x40_0000;

const ITS_OFFSETS = [
  0, 4, 8, 0xc, 0x10, 0x18, 0x1c, 0x20, 0x40, 0x80, 0x84, 0x88, 0x8c, 0x90, 0x94, 0x98, 0xc0,
  ...Array.from({ length: 17 }, (_, i) => GITS_BASER + 8 * i),
  0x180, 0xfffc, 0xffc8, 0xffd0, 0xffe0, 0xffe8, 0xfff0, 0xfffc, 0x10000, 0x10040, 0x10044, 0x10048, 0x1fffc, 0x1fff8,
];

function small(rng: Rng, max: number): number {
  return rng.chance(0.9) ? rng.int(0, max) : drawWord(rng);
}

/** One command: mostly well-formed with small IDs, sometimes any command number with random words. */
function drawCommand(rng: Rng, cpus: number): ItsCommandWords {
  const dev = small(rng, 7);
  const ev = small(rng, 31);
  const icid = small(rng, 3);
  const rd = small(rng, cpus);
  const vpe = small(rng, 3);
  switch (rng.int(0, 15)) {
    case 0:
      return itsCommand.mapd(dev, rng.chance(0.8) ? ITT + dev * 0x1000 : rng.pick(PLACES), small(rng, 6), rng.chance(0.85));
    case 1:
      return itsCommand.mapc(icid, rd, rng.chance(0.85));
    case 2:
      return itsCommand.mapti(dev, ev, 8192 + small(rng, 300), icid);
    case 3:
      return itsCommand.mapi(dev, ev, icid);
    case 4:
      return itsCommand.movi(dev, ev, icid);
    case 5:
      return itsCommand.int(dev, ev);
    case 6:
      return itsCommand.clear(dev, ev);
    case 7:
      return rng.pick([itsCommand.inv(dev, ev), itsCommand.discard(dev, ev), itsCommand.invall(icid), itsCommand.sync(rd), itsCommand.movall(rd, small(rng, cpus))]);
    case 8:
      return itsCommand.vmapp({ vpeId: vpe, rd, vptAddr: RAM + 0x60_0000 + vpe * 0x1_0000, vptIdBits: 13 + rng.int(0, 3), vconfAddr: PROP, doorbell: 8192 + vpe, valid: rng.chance(0.85) });
    case 9:
      return rng.pick([itsCommand.vmapti(dev, ev, vpe, 8192 + small(rng, 100)), itsCommand.vmapi(dev, ev, vpe), itsCommand.vmovi(dev, ev, vpe)]);
    case 10:
      return rng.pick([itsCommand.vmovp(vpe, rd), itsCommand.vsync(vpe), itsCommand.vinvall(vpe)]);
    default: {
      const w: ItsCommandWords = [0, 0, 0, 0, 0, 0, 0, 0].map(() => drawWord(rng)) as ItsCommandWords;
      w[0] = rng.chance(0.7) ? rng.pick([1, 3, 4, 5, 8, 9, 0xa, 0xb, 0xc, 0xd, 0xe, 0xf, 0x21, 0x22, 0x25, 0x29, 0x2a, 0x2b, 0x2d]) : w[0] & 0xff;
      return w;
    }
  }
}

function build(s: Setup) {
  const tracer = new Tracer();
  const memory = new GuestMemory();
  memory.addRam(RAM, RAM_SIZE);
  const gic = new Gicv3({ cpus: s.cpus, memory, v41: s.v41, tracer });
  gic.distributor.write(GICD_CTLR, 4, 2, 0);
  for (let i = 0; i < 512; i++) memory.writeU8(PROP + i, 0xa3);
  for (let rd = 0; rd < s.cpus; rd++) {
    const at = rd * gic.redistributors.stride;
    gic.redistributors.write(at + GICR_PROPBASER, 8, PROP | 15, 0);
    gic.redistributors.write(at + GICR_PENDBASER, 8, RAM + 0x90_0000 + rd * 0x1_0000, 0);
    gic.redistributors.write(at + GICR_CTLR, 4, 1, 0);
  }
  let vpes: VpeTable | undefined;
  if (s.v41) {
    const table = new VpeTable({ memory, vpeIdCount: 16, onResidentVlpi: (rd) => gic.hyp[rd]?.update() });
    for (let rd = 0; rd < s.cpus; rd++) {
      const f = new GicrVlpiFrame({ vpes: table, rd, tracer });
      gic.setVlpiFrame(rd, f);
      gic.setDirectVlpiSource(rd, f);
    }
    vpes = table;
  }
  const its = new Its({ profile: s.profile, target: gic, memory, tracer, lpiIdBits: 16, ...(vpes ? { vpes } : {}) });
  return { gic, its, memory, tracer };
}

export const itsCommands: FuzzTarget<Setup, Op> = {
  name: "its-commands",
  about: "ITS registers, command queue (backed and unbacked) with random commands, MSIs; linux-kvm and qemu, GICv3 and GICv4.1",
  generate(rng, count) {
    const setup: Setup = { profile: rng.pick(["linux-kvm", "qemu"] as const), v41: rng.chance(0.5), cpus: rng.int(1, 3) };
    const ops: Op[] = [{ k: "init", queue: RAM, tables: RAM + 0x10_0000 }];
    for (let i = 1; i < count; i++) {
      const r = rng.int(0, 19);
      if (r < 7) ops.push({ k: "mmio", ...drawAccess(rng, GITS_REGION_SIZE, ITS_OFFSETS) });
      else if (r < 16) ops.push({ k: "cmds", words: Array.from({ length: rng.int(1, 4) }, () => drawCommand(rng, setup.cpus)) });
      else if (r < 19) ops.push({ k: "msi", dev: small(rng, 7), ev: small(rng, 31) });
      else ops.push({ k: "init", queue: rng.pick(PLACES), tables: rng.pick(PLACES) });
    }
    return { setup, ops };
  },
  execute(setup, ops, step) {
    const { gic, its, memory, tracer } = build(setup);
    const wide = { hi: 0 };
    const exempt = (off: number, size: number): boolean => off === GITS_TRANSLATER && size === 2;
    for (let i = 0; i < ops.length; i++) {
      step(i);
      const o = ops[i]!;
      switch (o.k) {
        case "mmio":
          checkedAccess(its, tracer, 0, o, "ITS", exempt);
          break;
        case "init":
          // What a driver does (Linux its_probe_one/its_alloc_tables): disable, CBASER, BASER0/1, enable.
          its.write(GITS_CTLR, 4, 0, 0);
          its.write(GITS_CBASER, 8, o.queue | 15, GITS_CBASER_HI_VALID);
          its.write(GITS_BASER, 8, o.tables & 0xffff_f000, GITS_BASER_HI_VALID);
          its.write(GITS_BASER + 8, 8, (o.tables + 0x8_0000) & 0xffff_f000, GITS_BASER_HI_VALID);
          its.write(GITS_CTLR, 4, GITS_CTLR_ENABLE, 0);
          break;
        case "cmds": {
          const lo = its.read(GITS_CBASER, 8, wide);
          const base = (lo & 0xffff_f000) + (wide.hi & 0xfffff) * 2 ** 32;
          const size = ((lo & 0xff) + 1) * 0x1000;
          let off = its.read(GITS_CWRITER, 4, wide) & 0xfffe0;
          for (const w of o.words) {
            // The guest can only store to RAM; a queue elsewhere is read by the ITS as a fault.
            if (memory.isRam(base + off) && memory.isRam(base + off + 31)) writeItsCommand(memory, base + off, w);
            off = (off + 32) % size;
          }
          its.write(GITS_CWRITER, 8, off, 0);
          break;
        }
        case "msi":
          its.requesterId = o.dev;
          its.write(GITS_TRANSLATER, 4, o.ev, 0);
          break;
      }
      const cr = its.read(GITS_CREADR, 4, wide);
      check((cr & 0x1e) === 0, "creadr", () => `GITS_CREADR 0x${cr.toString(16)} is not a 32-byte aligned offset`);
      for (let rd = 0; rd < setup.cpus; rd++) gic.hasPendingIrq(rd);
    }
    step(ops.length);
  },
};
