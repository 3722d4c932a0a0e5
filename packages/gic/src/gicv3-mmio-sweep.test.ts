/**
 * Every load and store of the distributor and redistributor frames, at every
 * offset and every width, aligned or not, in both profiles, on a GICv3 and a
 * GICv4.1 layout: no exception, loads return unsigned values of the access
 * width, and every access to a reserved offset (or of a width or alignment the
 * register does not take) reads 0 and is counted as one guest error.
 *
 * The register maps are IHI 0069H Table 12-25 (GICD), Table 12-27 (RD_base),
 * Table 12-29 (SGI_base) and §12.10 (VLPI_base, the reserved fourth frame),
 * §12.1.3 (32-bit accesses everywhere, 64-bit to 64-bit registers, byte
 * accesses to IPRIORITYR and ITARGETSR). The model implements neither the
 * extended SPI/PPI ranges (GICD_TYPER.ESPI = 0, GICR_TYPER.PPInum = 0), nor
 * NMIs, MPAM or vSGIs, and has no IMPLEMENTATION DEFINED registers: those
 * offsets count as reserved here.
 *
 * Regressions: GICD 0x44/0x4C/0x54/0x5C-0x7C, 0x7FC, 0xBFC, 0xD80-0xDFC,
 * 0xF04-0xF0C, 0xF30-0xFFC, IROUTER<0..31> and <1020..1023>; the SGI_base
 * words after IGROUPR0..ICACTIVER0 (0x84-0xFC, ...) and its 0xFFD0-0xFFFC; the
 * VLPI_base frame's reserved offsets and GICR_VSGIR/VSGIPENDR loads, and its
 * 8-byte loads of 32-bit registers: all read 0 without a guest error.
 */

import { Tracer, GuestMemory, type AccessSize } from "@irqlab/sim";
import { describe, expect, test } from "vitest";
import {
  GICD_SIZE, GICR_CLRLPIR, GICR_CTLR, GICR_FRAME_SIZE, GICR_IIDR, GICR_INVALLR, GICR_INVLPIR, GICR_PENDBASER,
  GICR_PROPBASER, GICR_SETLPIR, GICR_STATUSR, GICR_SYNCR, GICR_TYPER, GICR_WAKER,
} from "./gicv3-constants.js";
import type { Gicv3Profile } from "./gicv3-irq-state.js";
import { Gicv3 } from "./gicv3.js";
import { sweepFrame, type SweepFrame } from "./mmio-sweep-kit.js";
import { GICR_VPENDBASER, GICR_VPROPBASER, GicrVlpiFrame } from "./v4/gicr-vlpi-frame.js";
import { VpeTable } from "./v4/vpe.js";

const RAM = 0x4000_0000;

function inRange(off: number, from: number, to: number): boolean {
  return off >= from && off <= to;
}

/** Word offsets of GICD registers (Table 12-25) without ESPI, NMI or IMPLEMENTATION DEFINED ones. */
function gicdWord(w: number): boolean {
  return (
    w <= 0x10 || // CTLR, TYPER, IIDR, TYPER2, STATUSR
    w === 0x40 || w === 0x48 || w === 0x50 || w === 0x58 || // SETSPI_NSR, CLRSPI_NSR, SETSPI_SR, CLRSPI_SR
    inRange(w, 0x80, 0x3fc) || // IGROUPR .. ICACTIVER
    inRange(w, 0x400, 0x7f8) || // IPRIORITYR0..254
    inRange(w, 0x800, 0xbf8) || // ITARGETSR0..254
    inRange(w, 0xc00, 0xcfc) || // ICFGR
    inRange(w, 0xd00, 0xd7c) || // IGRPMODR
    inRange(w, 0xe00, 0xefc) || // NSACR
    w === 0xf00 || inRange(w, 0xf10, 0xf2c) || // SGIR, CPENDSGIR, SPENDSGIR
    inRange(w, 0x6100, 0x7fdc) || // IROUTER32..1019
    w >= 0xffd0 // ID registers
  );
}

function gicdReserved(off: number, size: AccessSize): boolean {
  if (off % size !== 0) return true;
  if (!gicdWord(off & ~3)) return true;
  if (off >= 0x6100 && off < 0x7fe0) return size !== 4 && size !== 8;
  if (off >= 0x400 && off < 0xc00) return size !== 1 && size !== 4;
  return size !== 4;
}

const RD_64 = [GICR_TYPER, GICR_SETLPIR, GICR_CLRLPIR, GICR_PROPBASER, GICR_PENDBASER, GICR_INVLPIR, GICR_INVALLR];

/** RD_base (Table 12-27) without MPAM or IMPLEMENTATION DEFINED registers. */
function rdReserved(off: number, size: AccessSize): boolean {
  if (off % size !== 0) return true;
  const w = off & ~3;
  const is64 = RD_64.includes(w & ~7);
  const word = w === GICR_CTLR || w === GICR_IIDR || w === GICR_STATUSR || w === GICR_WAKER || w === GICR_SYNCR || is64 || w >= 0xffd0;
  if (!word) return true;
  return size === 8 ? !is64 : size !== 4;
}

/** SGI_base (Table 12-29) without the extended PPI range, NMIs or ID registers (those are RD_base's). */
function sgiReserved(off: number, size: AccessSize): boolean {
  if (off % size !== 0) return true;
  const w = off & ~3;
  if (inRange(w, 0x400, 0x41c)) return size !== 1 && size !== 4; // IPRIORITYR0..7
  const word = [0x80, 0x100, 0x180, 0x200, 0x280, 0x300, 0x380, 0xc00, 0xc04, 0xd00, 0xe00].includes(w);
  return !word || size !== 4;
}

/** VLPI_base (§12.10, GICv4.1): VPROPBASER and VPENDBASER; vSGIs are not modelled. */
function vlpiReserved(off: number, size: AccessSize): boolean {
  if (off % size !== 0) return true;
  const w = off & ~7;
  if (w !== GICR_VPROPBASER && w !== GICR_VPENDBASER) return true;
  return size !== 4 && size !== 8;
}

function build(profile: Gicv3Profile, v41: boolean) {
  const tracer = new Tracer();
  const memory = new GuestMemory();
  memory.addRam(RAM, 0x40_0000);
  const gic = new Gicv3({ cpus: 2, nrIrqs: 128, profile, v41, tracer, memory });
  const frames: SweepFrame[] = [
    { label: "GICD", device: gic.distributor, base: 0, size: GICD_SIZE, reserved: gicdReserved },
  ];
  if (v41) {
    const vpes = new VpeTable({ memory });
    for (let rd = 0; rd < 2; rd++) gic.setVlpiFrame(rd, new GicrVlpiFrame({ vpes, rd, tracer }));
  }
  // Redistributor 1 (the last one: GICR_TYPER.Last) frame by frame.
  const rd = gic.redistributors.stride;
  const gicr = gic.redistributors;
  frames.push({ label: "RD_base", device: gicr, base: rd, size: GICR_FRAME_SIZE, reserved: rdReserved });
  frames.push({ label: "SGI_base", device: gicr, base: rd + GICR_FRAME_SIZE, size: GICR_FRAME_SIZE, reserved: sgiReserved });
  if (v41) {
    frames.push({ label: "VLPI_base", device: gicr, base: rd + 2 * GICR_FRAME_SIZE, size: GICR_FRAME_SIZE, reserved: vlpiReserved });
    frames.push({ label: "frame 3", device: gicr, base: rd + 3 * GICR_FRAME_SIZE, size: GICR_FRAME_SIZE, reserved: () => true });
  }
  return { tracer, frames };
}

describe("GICD and GICR frames: every offset, every width, both profiles, GICv3 and GICv4.1", () => {
  for (const profile of ["kvm", "qemu"] as const) {
    for (const v41 of [false, true]) {
      test(`${profile}, ${v41 ? "GICv4.1" : "GICv3"}: unsigned values of the access width; reserved accesses read 0 and are counted`, () => {
        const { tracer, frames } = build(profile, v41);
        const bad: string[] = [];
        let loads = 0;
        for (const f of frames) {
          const r = sweepFrame(f, tracer);
          loads += r.loads;
          bad.push(...r.bad);
        }
        expect(loads).toBeGreaterThan(frames.length * 4 * 0xfff0);
        expect(bad.slice(0, 20)).toEqual([]);
      });
    }
  }
});
