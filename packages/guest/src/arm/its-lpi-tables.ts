/**
 * Physical LPIs on the driver side, as Linux sets them up
 * (drivers/irqchip/irq-gic-v3-its.c): the LPI configuration ("property")
 * table shared by every redistributor, filled with the default priority
 * and group 1, all disabled (its_setup_lpi_prop_table, gic_reset_prop_table);
 * one zeroed pending table per redistributor; GICR_PROPBASER,
 * GICR_PENDBASER and GICR_CTLR.EnableLPIs per CPU (its_cpu_init_lpis);
 * the LPI number allocator (alloc_lpi_range / free_lpi_range, first fit
 * from 8192); and the configuration byte updates that LPI enable, disable
 * and priority changes make (lpi_write_config) before the ITS is told with
 * INV. Architecture: IHI 0069H §5.1.1–§5.1.2, §12.11.34 (GICR_PENDBASER),
 * §12.11.35 (GICR_PROPBASER).
 */

import {
  GIC_FIRST_LPI,
  GICD_TYPER,
  GICR_CTLR,
  GICR_CTLR_ENABLE_LPIS,
  GICR_PENDBASER,
  GICR_PROPBASER,
  LPI_PROP_ENABLED,
  LPI_PROP_GROUP1,
} from "@irqlab/gic";
import { op } from "@irqlab/sim";
import type { GuestCode } from "../guest-image.js";
import { SZ_64K, type KernelPages } from "./its-pages.js";

/** ITS_MAX_LPI_NRBITS: Linux uses at most 16 bits of LPI INTIDs (64K − 8K LPIs). */
export const ITS_MAX_LPI_NRBITS = 16;
/** LPI_PROP_DEFAULT_PRIO (GICD_INT_DEF_PRI). */
export const LPI_PROP_DEFAULT_PRIO = 0xa0;
/** kvm-unit-tests' LPI_PROP_DEFAULT: default priority, group 1, enabled. */
export const LPI_PROP_DEFAULT = LPI_PROP_DEFAULT_PRIO | LPI_PROP_GROUP1 | LPI_PROP_ENABLED;

/** GICR_PROPBASER / GICR_PENDBASER InnerCache = RaWaWb (7 << 7) and Shareability = Inner (1 << 10). */
const GICR_BASER_RAWAWB = 7 << 7;
const GICR_BASER_INNER_SHAREABLE = 1 << 10;
const GICR_BASER_SHAREABILITY_MASK = 3 << 10;
const GICR_BASER_CACHE_MASK = 7 << 7;
/** GIC_BASER_nC in the InnerCache field. */
const GICR_BASER_NC = 1 << 7;

/** Why programming a redistributor failed. */
export type LpiEnableError = "no-memory" | "lpis-already-enabled";

/** The property table, the pending tables and the LPI allocator. */
export class LpiTables {
  /** Interrupt ID bits in use: min(GICD_TYPER.IDbits + 1, 16) (lpi_id_bits). */
  idBits = ITS_MAX_LPI_NRBITS;
  /** Physical address of the property table (0 before {@link init}). */
  propBase = 0;
  /** Pending table of each redistributor, by RD_base. */
  readonly pendBase = new Map<number, number>();
  /** Redistributors that dropped the shareability and were switched to non-cacheable tables. */
  nonShareable = 0;
  /** Free LPI ranges [base, base + count), by base. */
  readonly #free: [number, number][] = [];

  /** One past the last LPI INTID: 2^idBits. */
  get limit(): number {
    return 2 ** this.idBits;
  }

  /**
   * its_init() / its_setup_lpi_prop_table(): LPI ID bits from GICD_TYPER,
   * the property table allocated (64 KiB aligned, ALIGN(2^idBits, 64 KiB)
   * bytes) and filled with default priority | group 1, disabled.
   */
  *init(gicd: number, pages: KernelPages): GuestCode<boolean> {
    const typer = (yield op.read(gicd + GICD_TYPER, 4)).value;
    this.idBits = Math.min(((typer >>> 19) & 0x1f) + 1, ITS_MAX_LPI_NRBITS);
    const size = Math.ceil(this.limit / SZ_64K) * SZ_64K;
    const base = pages.reserve(size, SZ_64K);
    if (base === undefined) return false;
    this.propBase = base;
    yield* pages.fill(base, size, LPI_PROP_DEFAULT_PRIO | LPI_PROP_GROUP1);
    this.#free.length = 0;
    this.#free.push([GIC_FIRST_LPI, this.limit - GIC_FIRST_LPI]);
    return true;
  }

  /**
   * its_cpu_init_lpis() for the redistributor at `rd`: a zeroed pending
   * table, GICR_PROPBASER (property table, RaWaWb, Inner Shareable, IDbits),
   * GICR_PENDBASER, then EnableLPIs. A redistributor that drops the
   * shareability gets non-cacheable attributes, as Linux does.
   */
  *enableRedistributor(rd: number, pages: KernelPages): GuestCode<LpiEnableError | undefined> {
    const ctlr = (yield op.read(rd + GICR_CTLR, 4)).value;
    if ((ctlr & GICR_CTLR_ENABLE_LPIS) !== 0) return "lpis-already-enabled";
    const pendSize = Math.ceil(this.limit / 8 / SZ_64K) * SZ_64K;
    const pend = yield* pages.alloc(pendSize, SZ_64K);
    if (pend === undefined) return "no-memory";
    let prop = (this.propBase % 2 ** 32 | GICR_BASER_INNER_SHAREABLE | GICR_BASER_RAWAWB | ((this.idBits - 1) & 0x1f)) >>> 0;
    const propHi = Math.floor(this.propBase / 2 ** 32);
    yield op.write(rd + GICR_PROPBASER, 8, prop, propHi);
    const back = (yield op.read(rd + GICR_PROPBASER, 8)).value;
    let nonShareable = false;
    if (((back ^ prop) & GICR_BASER_SHAREABILITY_MASK) !== 0 && (back & GICR_BASER_SHAREABILITY_MASK) === 0) {
      // "The HW reports non-shareable, we must remove the cacheability attributes as well."
      prop = ((prop & ~(GICR_BASER_SHAREABILITY_MASK | GICR_BASER_CACHE_MASK)) | GICR_BASER_NC) >>> 0;
      yield op.write(rd + GICR_PROPBASER, 8, prop, propHi);
      nonShareable = true;
    }
    let pendLo = (pend % 2 ** 32 | GICR_BASER_INNER_SHAREABLE | GICR_BASER_RAWAWB) >>> 0;
    if (nonShareable) pendLo = ((pendLo & ~(GICR_BASER_SHAREABILITY_MASK | GICR_BASER_CACHE_MASK)) | GICR_BASER_NC) >>> 0;
    yield op.write(rd + GICR_PENDBASER, 8, pendLo, Math.floor(pend / 2 ** 32));
    if (nonShareable) this.nonShareable++;
    yield op.write(rd + GICR_CTLR, 4, ctlr | GICR_CTLR_ENABLE_LPIS);
    this.pendBase.set(rd, pend);
    return undefined;
  }

  /** alloc_lpi_range(): `count` consecutive LPI INTIDs, first fit; undefined when none are left. */
  allocate(count: number): number | undefined {
    for (let i = 0; i < this.#free.length; i++) {
      const r = this.#free[i]!;
      if (r[1] < count) continue;
      const base = r[0];
      r[0] += count;
      r[1] -= count;
      if (r[1] === 0) this.#free.splice(i, 1);
      return base;
    }
    return undefined;
  }

  /** free_lpi_range(): gives `count` LPIs from `base` back, merging neighbours. */
  free(base: number, count: number): void {
    const list = this.#free;
    let i = 0;
    while (i < list.length && list[i]![0] < base) i++;
    list.splice(i, 0, [base, count]);
    for (let k = Math.max(0, i - 1); k < list.length - 1; ) {
      const a = list[k]!;
      const b = list[k + 1]!;
      if (a[0] + a[1] === b[0]) {
        a[1] += b[1];
        list.splice(k + 1, 1);
      } else k++;
    }
  }

  /** LPIs not allocated. */
  get freeCount(): number {
    return this.#free.reduce((n, r) => n + r[1], 0);
  }

  /** Address of LPI `lpi`'s configuration byte (lpi_config: prop_table + hwirq − 8192). */
  configAddress(lpi: number): number {
    return this.propBase + lpi - GIC_FIRST_LPI;
  }

  /** Reads LPI `lpi`'s configuration byte. */
  *readConfig(lpi: number): GuestCode<number> {
    return (yield op.read(this.configAddress(lpi), 1)).value;
  }

  /**
   * lpi_write_config(): the byte becomes (old & ~clr) | set | group 1. The
   * redistributors see it only after an INV (or INVALL) of the LPI.
   */
  *updateConfig(lpi: number, clr: number, set: number): GuestCode<number> {
    const old = yield* this.readConfig(lpi);
    const cfg = ((old & ~clr) | set | LPI_PROP_GROUP1) & 0xff;
    yield op.write(this.configAddress(lpi), 1, cfg);
    return cfg;
  }

  /** Writes LPI `lpi`'s whole configuration byte (kvm-unit-tests gicv3_lpi_set_config). */
  *setConfig(lpi: number, value: number): GuestCode {
    yield op.write(this.configAddress(lpi), 1, value & 0xff);
  }
}
