/**
 * The GICv3 driver of an arm64 guest, as Linux's drivers/irqchip/irq-gic-v3.c
 * drives the distributor and the redistributors (IHI 0069H §12.9, §12.10):
 *
 * - {@link Gicv3Driver.initDist}: gic_init_bases' GICD_TYPER probe and
 *   gic_dist_init() — distributor off and drained (GICD_CTLR.RWP), every SPI
 *   Group 1, level, priority 0xa0, inactive and disabled
 *   (irq-gic-common.c gic_dist_config), then ARE_NS | EnableGrp1A |
 *   EnableGrp1 (plus nASSGIreq when GICD_TYPER2.nASSGIcap says SGIs can go
 *   without an active state), then every SPI routed to the boot CPU with
 *   GICD_IROUTER.
 * - {@link Gicv3Driver.findRedistributor}: gic_populate_rdist() — walk each
 *   redistributor region frame by frame (GICR_PIDR2.ArchRev must be 3 or 4),
 *   stepping 2 × 64 KiB, or 4 × 64 KiB when GICR_TYPER.VLPIS, or the tree's
 *   `redistributor-stride`, until GICR_TYPER.Last, and take the frame whose
 *   GICR_TYPER[63:32] equals this CPU's MPIDR affinity.
 * - per-interrupt operations: gic_mask_irq / gic_unmask_irq (I[CS]ENABLER,
 *   with the RWP wait after a disable), gic_irq_set_prio (IPRIORITYR byte),
 *   gic_set_type (gic_configure_irq on ICFGR: read back, EINVAL if the bit
 *   did not stick; SGIs are edge only), gic_set_affinity (GICD_IROUTER, with
 *   the interrupt disabled around the write) and gic_irq_set_irqchip_state
 *   for the active state (I[CS]ACTIVER). SGIs and PPIs use the registers of
 *   the CPU's SGI_base frame, at the same offsets as the distributor's.
 *
 * The CPU-side half (redistributor wake-up, CPU interface system registers,
 * SGIs, the interrupt flow) is in gicv3-cpu.ts. What the driver learns (the
 * number of lines, each CPU's redistributor) is kernel data kept here in
 * JavaScript, as Linux keeps it in gic_data and its per-CPU rdist pointers.
 */

import {
  GICD_CTLR,
  GICD_CTLR_ARE_NS,
  GICD_CTLR_ENABLE_SS_G0,
  GICD_CTLR_ENABLE_SS_G1,
  GICD_CTLR_nASSGIreq,
  GICD_CTLR_RWP,
  GICD_ICACTIVER,
  GICD_ICENABLER,
  GICD_ICFGR,
  GICD_IGROUPR,
  GICD_IPRIORITYR,
  GICD_IROUTER,
  GICD_ISACTIVER,
  GICD_ISENABLER,
  GICD_TYPER,
  GICD_TYPER2,
  GICD_TYPER2_nASSGIcap,
  GICR_CTLR,
  GICR_CTLR_RWP,
  GICR_FRAME_SIZE,
  GICR_PIDR2,
  GICR_SGI_BASE,
  GICR_TYPER,
  GICR_TYPER_LAST,
  GICR_TYPER_VLPIS,
  ICC_EOIR1_EL1,
} from "@irqlab/gic";
import { op, type SysRegWriteOp } from "@irqlab/sim";
import type { CpuInfo, Gicv3Info, Region } from "../boot/platform-info.js";
import { cpuRelax } from "../cpu.js";
import type { GuestCode } from "../guest-image.js";
import { HwirqMap } from "../irq/hwirq-map.js";
import { IrqTable } from "../irq/irq-table.js";
import { storeDoublewords, storeWords } from "../store-words.js";

/** GICD_INT_DEF_PRI (include/linux/irqchip/arm-gic-common.h): the default priority byte. */
export const GICD_INT_DEF_PRI = 0xa0;
/** GICD_INT_DEF_PRI in all four bytes of an IPRIORITYR word. */
export const GICD_INT_DEF_PRI_X4 = 0xa0a0_a0a0;
/** GICD_INT_EN_CLR_X32: all 32 bits of an I[CS]ENABLER / I[CS]ACTIVER word. */
const ALL_32 = 0xffff_ffff;
/** GIC_PIDR2_ARCH_MASK and the two accepted ArchRev values (arm-gic-common.h). */
export const GIC_PIDR2_ARCH_MASK = 0xf0;
export const GIC_PIDR2_ARCH_GICv3 = 0x30;
export const GIC_PIDR2_ARCH_GICv4 = 0x40;
/** The polls gic_do_wait_for_rwp() makes, 1 us apart, before giving up. */
export const RWP_POLLS = 1_000_000;
/** The first of the 4 special INTIDs 1020..1023 (gic_irqnr_is_special). */
export const GIC_SPECIAL_FIRST = 1020;
/** Negative errnos the driver returns, as Linux's. */
export const ENODEV = 19;
export const EINVAL = 22;

/** The redistributor of one CPU, once found. */
export interface RedistributorSlot {
  /** RD_base: the frame with GICR_CTLR, GICR_TYPER, GICR_WAKER. */
  readonly rdBase: number;
  /** SGI_base: RD_base + 64 KiB, the SGI/PPI registers. */
  readonly sgiBase: number;
  /** Which `reg` redistributor region it is in. */
  readonly region: number;
  /** GICR_TYPER, low and high words. */
  readonly typer: number;
  readonly typerHi: number;
}

/** MPIDR affinity packed as GICR_TYPER[63:32] holds it: Aff3 << 24 | Aff2 << 16 | Aff1 << 8 | Aff0. */
export function mpidrToTyperAffinity(hwid: number): number {
  const aff3 = Math.floor(hwid / 2 ** 32) & 0xff;
  return ((aff3 << 24) | (hwid & 0xff_ffff)) >>> 0;
}

/** The GICv3 driver: kernel data plus the distributor- and redistributor-side operations. */
export class Gicv3Driver {
  readonly info: Gicv3Info;
  /** The handlers the flow handler dispatches to. */
  readonly irqs: IrqTable;
  /** The CPUs in logical order (their hwid is the MPIDR affinity). */
  readonly cpus: readonly CpuInfo[];
  /** GICD base. */
  readonly dist: number;
  /** GIC_LINE_NR: INTIDs the distributor implements below 1020 (set by initDist). */
  lines = 0;
  /** GICD_TYPER2.nASSGIcap was set and nASSGIreq enabled: SGIs have no active state. */
  sgisWithoutActive = false;
  /** Per logical CPU: interrupts acknowledged as spurious (1020..1023). */
  readonly spurious: number[];
  /** Per logical CPU: its redistributor, once gic_cpu_init found it. */
  readonly #rd: (RedistributorSlot | undefined)[];
  /** EOIR writes by INTID (see {@link eoir}). */
  readonly #eoir = new HwirqMap<SysRegWriteOp>();

  constructor(info: Gicv3Info, cpus: readonly CpuInfo[], irqs = new IrqTable()) {
    this.info = info;
    this.cpus = cpus;
    this.irqs = irqs;
    this.dist = info.distributor.base;
    this.spurious = cpus.map(() => 0);
    this.#rd = cpus.map(() => undefined);
  }

  /**
   * The ICC_EOIR1_EL1 write that completes `intid`, built at its first
   * interrupt and kept: gic_handle_irq sends one for every interrupt.
   */
  eoir(intid: number): SysRegWriteOp {
    let w = this.#eoir.get(intid);
    if (w === undefined) {
      w = op.msr(ICC_EOIR1_EL1, intid);
      this.#eoir.set(intid, w);
    }
    return w;
  }

  /** The redistributor of logical CPU `cpu`, if found. */
  redistributor(cpu: number): RedistributorSlot | undefined {
    return this.#rd[cpu];
  }

  /** @internal Records the redistributor gic_cpu_init found. */
  setRedistributor(cpu: number, slot: RedistributorSlot): void {
    this.#rd[cpu] = slot;
  }

  /** gic_cpu_to_affinity(cpu) as GICD_IROUTER takes it: low word Aff2.Aff1.Aff0, high word Aff3. */
  affinity(cpu: number): { lo: number; hi: number } {
    const hwid = this.cpus[cpu]!.hwid;
    return { lo: hwid & 0xff_ffff, hi: Math.floor(hwid / 2 ** 32) & 0xff };
  }

  /**
   * gic_dist_wait_for_rwp / gic_redist_wait_for_rwp: poll until the RWP bit
   * of the CTLR at `ctlr` clears. Returns false on "RWP timeout, gone fishing".
   */
  *waitForRwp(ctlr: number, bit: number): GuestCode<boolean> {
    for (let n = 0; n < RWP_POLLS; n++) {
      if (((yield op.read(ctlr, 4)).value & bit) === 0) return true;
      yield cpuRelax();
    }
    return false;
  }

  /** gic_dist_wait_for_rwp(). */
  *distWaitForRwp(): GuestCode<boolean> {
    return yield* this.waitForRwp(this.dist + GICD_CTLR, GICD_CTLR_RWP);
  }

  /** gic_redist_wait_for_rwp() on logical CPU `cpu`'s redistributor. */
  *redistWaitForRwp(cpu: number): GuestCode<boolean> {
    const rd = this.#rd[cpu];
    if (rd === undefined) return true;
    return yield* this.waitForRwp(rd.rdBase + GICR_CTLR, GICR_CTLR_RWP);
  }

  /**
   * gic_init_bases' GICD_TYPER probe and gic_dist_init(), run once on the
   * boot CPU (logical 0). Returns false if an RWP wait timed out.
   */
  *initDist(): GuestCode<boolean> {
    const d = this.dist;
    const typer = (yield op.read(d + GICD_TYPER, 4)).value;
    // GICD_TYPER_SPIS(typer): (ITLinesNumber + 1) * 32, capped at 1020.
    this.lines = Math.min(((typer & 0x1f) + 1) * 32, GIC_SPECIAL_FIRST);
    const typer2 = (yield op.read(d + GICD_TYPER2, 4)).value;
    yield op.write(d + GICD_CTLR, 4, 0);
    let ok = yield* this.distWaitForRwp();
    yield* storeWords(d + GICD_IGROUPR + 4, Math.ceil((this.lines - 32) / 32), ALL_32);
    // gic_dist_config(): level, default priority, inactive and disabled.
    yield* storeWords(d + GICD_ICFGR + 8, Math.ceil((this.lines - 32) / 16), 0);
    yield* storeWords(d + GICD_IPRIORITYR + 32, Math.ceil((this.lines - 32) / 4), GICD_INT_DEF_PRI_X4);
    for (let i = 32; i < this.lines; i += 32) {
      yield op.write(d + GICD_ICACTIVER + i / 8, 4, ALL_32);
      yield op.write(d + GICD_ICENABLER + i / 8, 4, ALL_32);
    }
    // Linux writes ARE_NS | ENABLE_G1A (bit 1) | ENABLE_G1 (bit 0); with a single security
    // state (GICD_CTLR.DS = 1, as KVM's vgic) those two bits are EnableGrp1 and EnableGrp0.
    let ctlr = GICD_CTLR_ARE_NS | GICD_CTLR_ENABLE_SS_G1 | GICD_CTLR_ENABLE_SS_G0;
    this.sgisWithoutActive = (typer2 & GICD_TYPER2_nASSGIcap) !== 0;
    if (this.sgisWithoutActive) ctlr |= GICD_CTLR_nASSGIreq;
    yield op.write(d + GICD_CTLR, 4, ctlr);
    ok = (yield* this.distWaitForRwp()) && ok;
    const aff = this.affinity(0);
    yield* storeDoublewords(d + GICD_IROUTER + 32 * 8, this.lines - 32, aff.lo, aff.hi);
    return ok;
  }

  /**
   * gic_populate_rdist() for logical CPU `cpu`: the redistributor whose
   * GICR_TYPER affinity is the CPU's MPIDR affinity, or undefined
   * ("CPU%d: mpidr %lx has no re-distributor!").
   */
  *findRedistributor(cpu: number): GuestCode<RedistributorSlot | undefined> {
    const want = mpidrToTyperAffinity(this.cpus[cpu]!.hwid);
    const regions = this.info.redistributorRegions;
    for (let r = 0; r < regions.length; r++) {
      const region: Region = regions[r]!;
      const end = region.base + region.size;
      let ptr = region.base;
      for (;;) {
        if (ptr + 2 * GICR_FRAME_SIZE > end) break;
        const arch = (yield op.read(ptr + GICR_PIDR2, 4)).value & GIC_PIDR2_ARCH_MASK;
        // "No redistributor present @%p".
        if (arch !== GIC_PIDR2_ARCH_GICv3 && arch !== GIC_PIDR2_ARCH_GICv4) break;
        const t = yield op.read(ptr + GICR_TYPER, 8);
        const lo = t.value;
        const hi = t.hi;
        if (hi >>> 0 === want) {
          const slot: RedistributorSlot = { rdBase: ptr, sgiBase: ptr + GICR_SGI_BASE, region: r, typer: lo, typerHi: hi };
          this.#rd[cpu] = slot;
          return slot;
        }
        if ((lo & GICR_TYPER_LAST) !== 0) break;
        const stride = this.info.redistributorStride;
        if (stride !== undefined && stride > 0) ptr += stride;
        else ptr += ((lo & GICR_TYPER_VLPIS) !== 0 ? 4 : 2) * GICR_FRAME_SIZE;
      }
    }
    return undefined;
  }

  /** The frame base and bit of `hwirq` for I*ENABLER-style registers (gic_poke_irq / gic_peek_irq). */
  #bank(hwirq: number, cpu: number): number {
    if (hwirq < 32) {
      const rd = this.#rd[cpu];
      return rd === undefined ? -1 : rd.sgiBase;
    }
    return this.dist;
  }

  /** gic_poke_irq(): write `hwirq`'s bit into the set/clear register at `offset`. */
  *#poke(hwirq: number, cpu: number, offset: number): GuestCode<boolean> {
    const base = this.#bank(hwirq, cpu);
    if (base < 0) return false;
    yield op.write(base + offset + Math.floor(hwirq / 32) * 4, 4, (1 << (hwirq % 32)) >>> 0);
    return true;
  }

  /** gic_peek_irq(): whether `hwirq`'s bit is set in the register at `offset`. */
  *peek(hwirq: number, cpu: number, offset: number): GuestCode<boolean> {
    const base = this.#bank(hwirq, cpu);
    if (base < 0) return false;
    const v = (yield op.read(base + offset + Math.floor(hwirq / 32) * 4, 4)).value;
    return ((v >>> (hwirq % 32)) & 1) === 1;
  }

  /** gic_unmask_irq(): enable `hwirq` (an SGI or PPI on `cpu`'s redistributor). */
  *enableIrq(hwirq: number, cpu = 0): GuestCode {
    yield* this.#poke(hwirq, cpu, GICD_ISENABLER);
  }

  /** gic_mask_irq(): disable `hwirq`, then wait for the write to take effect (RWP). */
  *disableIrq(hwirq: number, cpu = 0): GuestCode {
    if (!(yield* this.#poke(hwirq, cpu, GICD_ICENABLER))) return;
    if (hwirq < 32) yield* this.redistWaitForRwp(cpu);
    else yield* this.distWaitForRwp();
  }

  /** gic_irq_set_prio(): the priority byte of `hwirq`. */
  *setPriority(hwirq: number, priority: number, cpu = 0): GuestCode {
    const base = this.#bank(hwirq, cpu);
    if (base >= 0) yield op.write(base + GICD_IPRIORITYR + hwirq, 1, priority & 0xff);
  }

  /**
   * gic_set_type(): edge-triggered or level-sensitive. SGIs accept only
   * edge; a bit that does not stick (a PPI KVM keeps fixed) is -EINVAL.
   */
  *setType(hwirq: number, edge: boolean, cpu = 0): GuestCode<number> {
    if (hwirq < 16) return edge ? 0 : -EINVAL;
    const base = this.#bank(hwirq, cpu);
    if (base < 0) return -EINVAL;
    const reg = base + GICD_ICFGR + Math.floor(hwirq / 16) * 4;
    const mask = (2 << ((hwirq % 16) * 2)) >>> 0;
    const old = (yield op.read(reg, 4)).value;
    const val = (edge ? old | mask : old & ~mask) >>> 0;
    if (val === old) return 0;
    yield op.write(reg, 4, val);
    return (yield op.read(reg, 4)).value === val ? 0 : -EINVAL;
  }

  /**
   * gic_set_affinity(): route SPI `hwirq` to logical CPU `cpu` through
   * GICD_IROUTER, disabling it around the write if it was enabled.
   */
  *setAffinity(hwirq: number, cpu: number): GuestCode<number> {
    if (hwirq < 32 || hwirq >= this.lines || cpu < 0 || cpu >= this.cpus.length) return -EINVAL;
    const enabled = yield* this.peek(hwirq, 0, GICD_ISENABLER);
    if (enabled) yield* this.disableIrq(hwirq);
    const aff = this.affinity(cpu);
    yield op.write(this.dist + GICD_IROUTER + hwirq * 8, 8, aff.lo, aff.hi);
    if (enabled) yield* this.enableIrq(hwirq);
    return 0;
  }

  /** gic_irq_set_irqchip_state(IRQCHIP_STATE_ACTIVE): set or clear the active state of `hwirq`. */
  *setActive(hwirq: number, active: boolean, cpu = 0): GuestCode {
    yield* this.#poke(hwirq, cpu, active ? GICD_ISACTIVER : GICD_ICACTIVER);
  }
}
