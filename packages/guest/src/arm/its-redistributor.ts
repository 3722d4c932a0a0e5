/**
 * Finding a CPU's redistributor, as Linux's GICv3 driver does
 * (drivers/irqchip/irq-gic-v3.c gic_iterate_rdists / __gic_populate_rdist):
 * walk every redistributor region of the device tree frame by frame, read
 * GICR_TYPER and compare its Affinity_Value [63:32] with the CPU's MPIDR
 * affinity. A redistributor is two 64 KiB frames (RD_base, SGI_base), four
 * when GICR_TYPER.VLPIS says it has the GICv4 VLPI_base frames, or the
 * node's `redistributor-stride`; GICR_TYPER.Last ends a region.
 * Architecture: IHI 0069H §12.11.37 (GICR_TYPER).
 */

import { GICR_TYPER, GICR_TYPER_LAST, GICR_TYPER_PLPIS, GICR_TYPER_VLPIS } from "@irqlab/gic";
import { op } from "@irqlab/sim";
import type { Gicv3Info } from "../boot/platform-info.js";
import type { GuestCode } from "../guest-image.js";

/** One redistributor as the walk found it. */
export interface RedistributorInfo {
  /** RD_base: physical address of its first frame. */
  readonly base: number;
  /** GICR_TYPER.Processor_Number [23:8]: what a collection targets when GITS_TYPER.PTA = 0. */
  readonly processorNumber: number;
  /** GICR_TYPER.PLPIS: it supports physical LPIs. */
  readonly plpis: boolean;
}

/** The affinity of an MPIDR (or a /cpus `reg`) as GICR_TYPER [63:32] packs it: Aff3.Aff2.Aff1.Aff0. */
export function typerAffinity(hwid: number): number {
  return ((Math.floor(hwid / 2 ** 32) & 0xff) * 2 ** 24 + (hwid % 2 ** 32 & 0xff_ffff)) >>> 0;
}

const GICV3_REDIST_STRIDE = 0x2_0000;
const GICV4_REDIST_STRIDE = 0x4_0000;

/**
 * The redistributor of the CPU with `hwid` (its MPIDR affinity or /cpus
 * `reg`), or undefined when no region holds one.
 */
export function* findRedistributor(gic: Gicv3Info, hwid: number): GuestCode<RedistributorInfo | undefined> {
  const want = typerAffinity(hwid);
  for (const region of gic.redistributorRegions) {
    for (let at = region.base; at < region.base + region.size; ) {
      const r = yield op.read(at + GICR_TYPER, 8);
      const lo = r.value;
      const hi = r.hi;
      if (hi >>> 0 === want) return { base: at, processorNumber: (lo >>> 8) & 0xffff, plpis: (lo & GICR_TYPER_PLPIS) !== 0 };
      if ((lo & GICR_TYPER_LAST) !== 0) break;
      at += gic.redistributorStride ?? ((lo & GICR_TYPER_VLPIS) !== 0 ? GICV4_REDIST_STRIDE : GICV3_REDIST_STRIDE);
    }
  }
  return undefined;
}
