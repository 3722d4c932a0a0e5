/**
 * The VLPI_base frame of a GICv4.1 redistributor (frame 2 of 4 × 64 KiB),
 * IHI 0069H §12.11 (GICR_VPROPBASER, GICR_VPENDBASER) and §9.
 * Cross-check: Linux drivers/irqchip/irq-gic-v3-its.c its_vpe_4_1_schedule()/
 * its_vpe_4_1_deschedule(), include/linux/irqchip/arm-gic-v3.h
 * GICR_VPENDBASER_4_1_*; QEMU hw/intc/arm_gicv3_redist.c gicv3_redist_vlpi_*.
 *
 * GICR_VPENDBASER (v4.1): Valid[63], Doorbell[62], PendingLast[61], Dirty[60],
 * vGrp0En[59], vGrp1En[58], vPEID[15:0]. Writing Valid = 1 makes vPE vPEID
 * resident on this redistributor: its pending vLPIs become visible to the
 * virtual CPU interface through {@link DirectVlpiSource}. Writing Valid = 0
 * makes it non-resident; PendingLast then says whether it has a pending
 * enabled vLPI, and Doorbell = 1 asks for the vPE's default doorbell when one
 * becomes pending. Dirty always reads 0 (the model completes instantly).
 * A 64-bit register written as two 32-bit halves takes effect on the high
 * half (Linux writes low then high, lo_hi_writeq). GICR_VPROPBASER (v4.1: the
 * vPE configuration table) is stored; the vPE table itself is the shared
 * {@link VpeTable}. GICR_VSGIR / GICR_VSGIPENDR (vSGIs) are not modelled:
 * RAZ/WI, and every access to them, like every access to the rest of the
 * frame (reserved), is counted as a guest error.
 */

import { type AccessSize, type MmioDevice, Tracer, type TrackId, type WideValue } from "@irqlab/sim";
import { ConfigError } from "@irqlab/sim";
import type { DirectVlpiSource } from "../direct-vlpi.js";
import type { Vpe, VpeTable } from "./vpe.js";

/** GICR_VPROPBASER offset within the VLPI_base frame. */
export const GICR_VPROPBASER = 0x70;
/** GICR_VPENDBASER offset within the VLPI_base frame. */
export const GICR_VPENDBASER = 0x78;
/** GICR_VSGIR (v4.1) offset within the VLPI_base frame. */
export const GICR_VSGIR = 0x80;
/** GICR_VSGIPENDR (v4.1) offset within the VLPI_base frame. */
export const GICR_VSGIPENDR = 0x88;

/** High-word bits of GICR_VPENDBASER (v4.1). */
export const GICR_VPENDBASER_HI_VALID = 1 << 31;
/** Doorbell (bit 62). */
export const GICR_VPENDBASER_HI_DB = 1 << 30;
/** PendingLast (bit 61). */
export const GICR_VPENDBASER_HI_PENDING_LAST = 1 << 29;
/** Dirty (bit 60). */
export const GICR_VPENDBASER_HI_DIRTY = 1 << 28;
/** vGrp0En (bit 59). */
export const GICR_VPENDBASER_HI_VGRP0EN = 1 << 27;
/** vGrp1En (bit 58). */
export const GICR_VPENDBASER_HI_VGRP1EN = 1 << 26;

/**
 * Whether `off` is in GICR_VPROPBASER or GICR_VPENDBASER, the registers
 * modelled; the rest of the frame is reserved (IHI 0069H §12.10) or vSGI
 * state that is not modelled (GICR_VSGIR, GICR_VSGIPENDR).
 */
function isVlpiRegister(off: number): boolean {
  return off >= GICR_VPROPBASER && off < GICR_VPENDBASER + 8;
}

const HI_WRITABLE = GICR_VPENDBASER_HI_VALID | GICR_VPENDBASER_HI_DB | GICR_VPENDBASER_HI_VGRP0EN | GICR_VPENDBASER_HI_VGRP1EN;

/** Options of a {@link GicrVlpiFrame}. */
export interface GicrVlpiFrameOptions {
  readonly vpes: VpeTable;
  /** Processor number of the redistributor this frame belongs to. */
  readonly rd: number;
  readonly tracer?: Tracer;
}

/** Plain snapshot of a frame. */
export interface GicrVlpiFrameState {
  readonly version: 1;
  readonly vpropLo: number;
  readonly vpropHi: number;
  readonly vpendLo: number;
  readonly vpendHi: number;
}

/** The VLPI_base frame of one redistributor; the resident vPE's direct vLPIs. */
export class GicrVlpiFrame implements MmioDevice, DirectVlpiSource {
  readonly rd: number;
  #vpropLo = 0;
  #vpropHi = 0;
  #vpendLo = 0;
  #vpendHi = 0;
  #resident: Vpe | undefined;
  readonly #vpes: VpeTable;
  readonly #tracer: Tracer;
  readonly #track: TrackId;

  /** @throws ConfigError for a negative or non-integer `rd`. */
  constructor(options: GicrVlpiFrameOptions) {
    if (!Number.isInteger(options.rd) || options.rd < 0) throw new ConfigError(`GicrVlpiFrame: rd ${options.rd} is not a processor number`);
    this.rd = options.rd;
    this.#vpes = options.vpes;
    this.#tracer = options.tracer ?? new Tracer();
    this.#track = this.#tracer.track("gic", `gicr${options.rd}-vlpi`, "device");
  }

  /** The resident vPE, if any. */
  get resident(): Vpe | undefined {
    return this.#resident;
  }

  read(offset: number, size: AccessSize, wide: WideValue): number {
    const off = offset & 0xffff;
    // The high word of every 8-byte load is defined, refused ones included.
    if (size === 8) wide.hi = 0;
    const word = (size === 4 && (off & 3) === 0) || (size === 8 && (off & 7) === 0);
    if (!word || !isVlpiRegister(off)) {
      this.#tracer.guestError(this.#track, "gicr-vlpi:access", `${size}-byte read at ${isVlpiRegister(off) ? "" : "reserved or unmodelled "}0x${off.toString(16)}`);
      return 0;
    }
    if (size === 8) wide.hi = this.#read32(off + 4);
    return this.#read32(off);
  }

  write(offset: number, size: AccessSize, value: number, hi: number): void {
    const off = offset & 0xffff;
    if (size === 8 && (off & 7) === 0) {
      this.#write64(off, value >>> 0, hi >>> 0, true);
    } else if (size === 4 && (off & 3) === 0) {
      const base = off & ~7;
      if ((off & 4) === 0) this.#write64(base, value >>> 0, base === GICR_VPENDBASER ? this.#vpendHi : this.#vpropHi, false);
      else this.#write64(base, base === GICR_VPENDBASER ? this.#vpendLo : this.#vpropLo, value >>> 0, true);
    } else {
      this.#tracer.guestError(this.#track, "gicr-vlpi:access", `bad ${size}-byte write at 0x${off.toString(16)}`);
    }
  }

  #read32(off: number): number {
    switch (off) {
      case GICR_VPROPBASER: return this.#vpropLo;
      case GICR_VPROPBASER + 4: return this.#vpropHi;
      case GICR_VPENDBASER: return this.#vpendLo;
      case GICR_VPENDBASER + 4: return this.#vpendHi;
      default: return 0;
    }
  }

  #write64(off: number, lo: number, hi: number, commit: boolean): void {
    if (off === GICR_VPROPBASER) {
      if (this.#vpendHi & GICR_VPENDBASER_HI_VALID) {
        this.#tracer.guestError(this.#track, "gicr-vlpi:vpropbaser", "GICR_VPROPBASER written while a vPE is resident");
        return;
      }
      this.#vpropLo = lo;
      this.#vpropHi = hi;
      return;
    }
    if (off !== GICR_VPENDBASER) {
      this.#tracer.guestError(this.#track, "gicr-vlpi:register", `write to unimplemented offset 0x${off.toString(16)}`);
      return;
    }
    if (!commit) {
      // Low half alone: holds vPEID until the high half arrives.
      if ((this.#vpendHi & GICR_VPENDBASER_HI_VALID) === 0) this.#vpendLo = lo & 0xffff;
      return;
    }
    this.#writeVpendbaser(lo & 0xffff, hi & HI_WRITABLE);
  }

  #writeVpendbaser(vpeid: number, hi: number): void {
    const wasValid = (this.#vpendHi & GICR_VPENDBASER_HI_VALID) !== 0;
    const valid = (hi & GICR_VPENDBASER_HI_VALID) !== 0;
    if (wasValid && valid) {
      if (vpeid !== this.#vpendLo) {
        this.#tracer.guestError(this.#track, "gicr-vlpi:vpendbaser", `vPE ${vpeid} scheduled over resident vPE ${this.#vpendLo}`);
        return;
      }
      this.#vpendHi = hi;
      return;
    }
    if (wasValid && !valid) {
      const pendingLast = this.#resident !== undefined && this.#vpes.deschedule(this.#resident, (hi & GICR_VPENDBASER_HI_DB) !== 0);
      this.#resident = undefined;
      this.#vpendHi = (hi | (pendingLast ? GICR_VPENDBASER_HI_PENDING_LAST : 0)) >>> 0;
      return;
    }
    if (!valid) {
      this.#vpendLo = vpeid;
      this.#vpendHi = (hi | (this.#vpendHi & GICR_VPENDBASER_HI_PENDING_LAST)) >>> 0;
      return;
    }
    const vpe = this.#vpes.get(vpeid);
    if (vpe?.rd !== this.rd || vpe.residentOn >= 0) {
      // CONSTRAINED UNPREDICTABLE: the vPE must be mapped (VMAPP) to this RD and not resident elsewhere.
      const why = vpe === undefined ? "not mapped" : vpe.residentOn >= 0 ? `resident on RD ${vpe.residentOn}` : `mapped to RD ${vpe.rd}`;
      this.#tracer.guestError(this.#track, "gicr-vlpi:vpendbaser", `cannot schedule vPE ${vpeid} on RD ${this.rd}: ${why}`);
      return;
    }
    this.#vpes.schedule(vpe, this.rd);
    this.#resident = vpe;
    this.#vpendLo = vpeid;
    this.#vpendHi = hi >>> 0;
  }

  highestPendingVlpi(): number {
    const v = this.#resident;
    return v === undefined ? -1 : this.#vpes.highestPending(v);
  }

  vlpiPriority(vintid: number): number {
    const v = this.#resident;
    return v?.inRange(vintid) === true ? v.config[vintid]! & 0xfc : 0xff;
  }

  acknowledgeVlpi(vintid: number): void {
    const v = this.#resident;
    if (v !== undefined) this.#vpes.clear(v, vintid);
  }

  /** Snapshot of the registers (vPE state is in the VpeTable snapshot). */
  state(): GicrVlpiFrameState {
    return { version: 1, vpropLo: this.#vpropLo, vpropHi: this.#vpropHi, vpendLo: this.#vpendLo, vpendHi: this.#vpendHi };
  }

  /** Restores registers and residency; load the VpeTable snapshot first. */
  loadState(s: GicrVlpiFrameState): void {
    if ((s.version as number) !== 1) throw new ConfigError(`GicrVlpiFrame state version ${String(s.version)} is not 1`);
    this.#vpropLo = s.vpropLo >>> 0;
    this.#vpropHi = s.vpropHi >>> 0;
    this.#vpendLo = s.vpendLo >>> 0;
    this.#vpendHi = s.vpendHi >>> 0;
    this.#resident = (s.vpendHi & GICR_VPENDBASER_HI_VALID) !== 0 ? this.#vpes.get(s.vpendLo) : undefined;
  }

  /** Restores a frame from {@link state}. */
  static fromState(s: GicrVlpiFrameState, options: GicrVlpiFrameOptions): GicrVlpiFrame {
    const f = new GicrVlpiFrame(options);
    f.loadState(s);
    return f;
  }
}
