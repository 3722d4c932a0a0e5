/**
 * The redistributors: one per PE, laid out contiguously, each made of RD_base
 * (frame 0: control, LPIs) and SGI_base (frame 1: the banked SGI/PPI
 * registers), plus for GICv4.1 VLPI_base (frame 2, delegated to the vPE model)
 * and a reserved frame 3 (RAZ/WI).
 *
 * Spec: IHI 0069H §12.10 (redistributor register map), §12.11.2 (GICR_CTLR),
 * §12.11.35 (GICR_TYPER: Processor_Number, Last, Affinity), §12.11.39
 * (GICR_WAKER), §12.11.33/.29 (PROPBASER, PENDBASER), §12.11.18/.17/.40
 * (INVLPIR, INVALLR, SYNCR). Cross-check: Linux
 * arch/arm64/kvm/vgic/vgic-mmio-v3.c (`vgic_v3_rd_registers[]`,
 * `vgic_mmio_read_v3r_typer()`, `vgic_mmio_write_v3r_ctlr()`,
 * `vgic_mmio_write_propbase()`); QEMU hw/intc/arm_gicv3_redist.c.
 */

import { ConfigError, type AccessSize, type MmioDevice, type WideValue } from "@irqlab/sim";
import {
  GICR_CLRLPIR, GICR_CTLR, GICR_CTLR_CES, GICR_CTLR_ENABLE_LPIS, GICR_CTLR_IR, GICR_FRAME_SIZE, GICR_ICFGR0,
  GICR_ICFGR1, GICR_IDREGS, GICR_IGRPMODR0, GICR_IIDR, GICR_INVALLR, GICR_INVLPIR, GICR_IPRIORITYR0, GICR_NSACR,
  GICR_PENDBASER, GICR_PIDR2, GICR_PROPBASER, GICR_SETLPIR, GICR_STATUSR, GICR_SYNCR, GICR_TYPER, GICR_TYPER_LAST,
  GICR_TYPER_PLPIS, GICR_TYPER_RVPEID, GICR_TYPER_VLPIS, GICR_WAKER, GICR_WAKER_ChildrenAsleep,
  GICR_WAKER_ProcessorSleep, GIC_V3_REDIST_SIZE, GIC_V4_REDIST_SIZE, IMPLEMENTER_ARM, PRODUCT_ID_KVM, GICR_ISPENDR0,
  GICR_ICPENDR0, GICR_SGI_BASE,
} from "./gicv3-constants.js";
import type { Gicv3Core } from "./gicv3-core.js";
import {
  type BitReg, readBits, readConfig, readLatch, readPriorities, writeBits, writeConfig, writeLatch, writePriorities,
} from "./gicv3-irq-bank.js";

const PROPBASER_LO_MASK = 0xffffff9f; // IDbits, InnerCache, Shareability, PA[31:12]
const PROPBASER_HI_MASK = 0x070fffff; // PA[51:32], OuterCache
const PENDBASER_LO_MASK = 0xffff0f80; // InnerCache, Shareability, PA[31:16]
const PENDBASER_HI_MASK = 0x070fffff; // PA[51:32], OuterCache (PTZ reads as 0)

/** Snapshot of the redistributors' own registers (LPI state lives in the core). */
export interface RedistributorSnapshot {
  readonly waker: number[];
}

/** All redistributors of a GIC as one MMIO region. */
export class Gicv3Redistributors implements MmioDevice {
  /** No GICR register (RD_base, SGI_base, the GICv4.1 vLPI frame) has a read side effect. */
  readonly quietReads = true;
  /**
   * Called with the redistributor's processor number when the guest clears
   * GICR_CTLR.EnableLPIs; the VM wires it to each ITS's invalidateRedistributor().
   */
  onLpisDisabled: ((rd: number) => void) | undefined;

  /** Bytes per redistributor: 128 KiB (v3) or 256 KiB (v4.1). */
  readonly stride: number;
  /** Size of the whole region. */
  readonly size: number;
  /** GICR_WAKER per RD (QEMU profile; KVM's is RAZ/WI). */
  readonly waker: Uint8Array;
  readonly #vlpi: (MmioDevice | undefined)[];
  readonly #wide: WideValue = { hi: 0 };

  /** 1 for each RD that is the last of its region (GICR_TYPER.Last). */
  readonly #last: Uint8Array;
  /** First RD of each region. */
  readonly #regionFirst: number[] = [];

  /**
   * @param regions RDs per redistributor region, in order (default: one region
   *   holding all). GICR_TYPER.Last marks the last RD of each region, as KVM
   *   does for KVM_VGIC_V3_ADDR_TYPE_REDIST_REGION (vgic-mmio-v3.c
   *   `vgic_mmio_vcpu_rdist_is_last()`).
   */
  constructor(
    readonly core: Gicv3Core,
    readonly lpis: boolean,
    readonly v41: boolean,
    regions: readonly number[] = [core.cpus],
  ) {
    this.stride = v41 ? GIC_V4_REDIST_SIZE : GIC_V3_REDIST_SIZE;
    this.size = this.stride * core.cpus;
    this.#last = new Uint8Array(core.cpus);
    let first = 0;
    for (const n of regions) {
      this.#regionFirst.push(first);
      first += n;
      this.#last[first - 1] = 1;
    }
    this.waker = new Uint8Array(core.cpus).fill(core.profile === "qemu" ? 0x6 : 0);
    this.#vlpi = new Array<MmioDevice | undefined>(core.cpus).fill(undefined);
  }

  /**
   * An MMIO view of redistributor region `index` alone (its RDs at offset 0),
   * for machines that map regions at separate addresses.
   */
  regionView(index: number): MmioDevice & { readonly size: number } {
    const first = this.#regionFirst[index];
    if (first === undefined) throw new ConfigError(`redistributor region ${index} does not exist`);
    const next = this.#regionFirst[index + 1] ?? this.core.cpus;
    const base = first * this.stride;
    return {
      size: (next - first) * this.stride,
      read: (offset, size, wide) => this.read(base + offset, size, wide),
      write: (offset, size, value, hi) => {
        this.write(base + offset, size, value, hi);
      },
    };
  }

  /** Installs the VLPI_base frame device of redistributor `rd` (GICv4.1). */
  setVlpiFrame(rd: number, device: MmioDevice | undefined): void {
    this.#vlpi[rd] = device;
  }

  /** Handles a guest load anywhere in the redistributor region. */
  read(offset: number, size: AccessSize, wide: WideValue): number {
    const rd = Math.floor(offset / this.stride);
    const off = offset - rd * this.stride;
    return this.readRd(rd, off, size, wide);
  }

  /** Handles a guest store anywhere in the redistributor region. */
  write(offset: number, size: AccessSize, value: number, hi: number): void {
    const rd = Math.floor(offset / this.stride);
    this.writeRd(rd, offset - rd * this.stride, size, value, hi);
  }

  /** A load from redistributor `rd` at `off` from its RD_base. */
  readRd(rd: number, off: number, size: AccessSize, wide: WideValue): number {
    const frame = off >>> 16;
    const f = off & (GICR_FRAME_SIZE - 1);
    // Defined high word for every 8-byte load, refused or absent-frame ones too.
    if (size === 8) wide.hi = 0;
    const vlpi = frame === 2 ? this.#vlpi[rd] : undefined;
    if (vlpi) return vlpi.read(f, size, wide);
    if (frame >= 2) return this.#reservedFrame(rd, frame, f, "read");
    if (!this.#checkAccess(frame, f, size, "read")) return 0;
    if (size === 8 && (f === GICR_INVLPIR || f === GICR_INVALLR)) {
      // Write-only: one counted RAZ load, not one per word.
      this.core.guestError("gicv3-redist", `read of write-only RD_base offset 0x${f.toString(16)} (RD ${rd})`);
      return 0;
    }
    if (size === 8) {
      const lo = frame === 0 ? this.#rdRead(rd, f) : 0;
      wide.hi = frame === 0 ? this.#rdRead(rd, f + 4) : 0;
      return lo;
    }
    return frame === 0 ? this.#rdRead(rd, f) : this.#sgiRead(rd, f, size);
  }

  /** A store to redistributor `rd` at `off` from its RD_base. */
  writeRd(rd: number, off: number, size: AccessSize, value: number, hi: number): void {
    const frame = off >>> 16;
    const f = off & (GICR_FRAME_SIZE - 1);
    const vlpi = frame === 2 ? this.#vlpi[rd] : undefined;
    if (vlpi) {
      vlpi.write(f, size, value, hi);
      return;
    }
    if (frame >= 2) {
      this.#reservedFrame(rd, frame, f, "write");
      return;
    }
    if (!this.#checkAccess(frame, f, size, "write")) return;
    if (frame === 1) {
      this.#sgiWrite(rd, f, size, value);
      return;
    }
    if (size === 8) {
      this.#rdWrite(rd, f, value, true, hi);
      return;
    }
    this.#rdWrite(rd, f, value, false, 0);
  }

  /**
   * A userspace read of redistributor `rd` (KVM_DEV_ARM_VGIC_GRP_REDIST_REGS):
   * as the guest's, except that ISPENDR0/ICPENDR0 return only the pending latch.
   */
  uaccessRead(rd: number, off: number, size: 4 | 8, wide: WideValue): number {
    if (size === 4 && (off === GICR_SGI_BASE + GICR_ISPENDR0 || off === GICR_SGI_BASE + GICR_ICPENDR0)) {
      return readLatch(this.core, rd, 0);
    }
    return this.readRd(rd, off, size, wide);
  }

  /** A userspace write: ISPENDR0 sets each latch to the written bit, ICPENDR0 is ignored. */
  uaccessWrite(rd: number, off: number, size: 4 | 8, value: number, hi: number): void {
    if (size === 4 && off === GICR_SGI_BASE + GICR_ISPENDR0) writeLatch(this.core, rd, 0, value);
    else if (!(size === 4 && off === GICR_SGI_BASE + GICR_ICPENDR0)) this.writeRd(rd, off, size, value, hi);
  }

  /** GICR_TYPER of `rd`: low and high words. */
  typer(rd: number, wide: WideValue): number {
    const c = this.core;
    let lo = (rd << 8) | (this.#last[rd] === 1 ? GICR_TYPER_LAST : 0);
    if (this.lpis) lo |= GICR_TYPER_PLPIS;
    if (this.v41) lo |= GICR_TYPER_VLPIS | GICR_TYPER_RVPEID;
    if (c.profile === "qemu") lo |= 1 << 24; // CommonLPIAff = 1
    wide.hi = c.affinity[rd]!;
    return lo >>> 0;
  }

  // ---- RD_base -----------------------------------------------------------------

  #rdRead(rd: number, f: number): number {
    const c = this.core;
    const l = c.lpis[rd]!;
    switch (f) {
      case GICR_CTLR: {
        let v = l.enabled ? GICR_CTLR_ENABLE_LPIS : 0;
        if (c.profile === "kvm") v |= GICR_CTLR_IR | GICR_CTLR_CES;
        else if (this.lpis) v |= GICR_CTLR_CES;
        return v;
      }
      case GICR_IIDR:
        return c.profile === "kvm" ? ((PRODUCT_ID_KVM << 24) | IMPLEMENTER_ARM) >>> 0 : IMPLEMENTER_ARM;
      case GICR_TYPER:
        return this.typer(rd, this.#wide);
      case GICR_TYPER + 4:
        this.typer(rd, this.#wide);
        return this.#wide.hi;
      case GICR_WAKER:
        return this.waker[rd]!;
      case GICR_PROPBASER:
        return l.propLo >>> 0;
      case GICR_PROPBASER + 4:
        return l.propHi >>> 0;
      case GICR_PENDBASER:
        return l.pendLo >>> 0;
      case GICR_PENDBASER + 4:
        return (l.pendHi & PENDBASER_HI_MASK) >>> 0;
      case GICR_PIDR2:
        return this.v41 && c.profile === "qemu" ? 0x4b : 0x3b;
      default:
        if (this.#rdRazWi(f)) return 0;
        c.guestError("gicv3-redist", `read of unknown RD_base offset 0x${f.toString(16)} (RD ${rd})`);
        return 0;
    }
  }

  #rdWrite(rd: number, f: number, value: number, is64: boolean, hi: number): void {
    const c = this.core;
    const l = c.lpis[rd]!;
    switch (f) {
      case GICR_CTLR:
        this.#writeCtlr(rd, value);
        return;
      case GICR_WAKER:
        if (c.profile === "qemu") {
          const sleep = value & GICR_WAKER_ProcessorSleep;
          this.waker[rd] = sleep ? GICR_WAKER_ProcessorSleep | GICR_WAKER_ChildrenAsleep : 0;
        }
        return;
      case GICR_PROPBASER:
      case GICR_PROPBASER + 4:
      case GICR_PENDBASER:
      case GICR_PENDBASER + 4: {
        if (l.enabled) {
          c.guestError("gicv3-redist", `PROPBASER/PENDBASER write with EnableLPIs set ignored (RD ${rd})`);
          return;
        }
        const prop = f < GICR_PENDBASER;
        const upper = (f & 4) !== 0;
        const targets = prop && c.profile === "kvm" ? c.lpis : [l]; // KVM: one PROPBASER per VM
        for (const t of targets) {
          if (prop) {
            if (!upper) t.propLo = (value & PROPBASER_LO_MASK) >>> 0;
            if (upper || is64) t.propHi = ((upper ? value : hi) & PROPBASER_HI_MASK) >>> 0;
          } else {
            if (!upper) t.pendLo = (value & PENDBASER_LO_MASK) >>> 0;
            if (upper || is64) t.pendHi = ((upper ? value : hi) & (PENDBASER_HI_MASK | (1 << 30))) >>> 0;
          }
        }
        return;
      }
      case GICR_INVLPIR:
        if (is64 && (hi & 0x80000000) !== 0) {
          c.guestError("gicv3-redist", `GICR_INVLPIR with V = 1 (vPE ${hi & 0xffff}) not modelled`);
          return;
        }
        if (l.enabled) c.lpiConfigChanged(rd, value, l.invalidate(value, c.memory, this.#fault(rd)));
        return;
      case GICR_INVALLR:
        if (l.enabled) {
          l.invalidateAll(c.memory, this.#fault(rd));
          c.lpiConfigChanged(rd, -1, true);
        }
        return;
      case GICR_INVLPIR + 4:
      case GICR_INVALLR + 4:
        return;
      default:
        if (this.#rdRazWi(f)) return;
        c.guestError("gicv3-redist", `write to read-only or unknown RD_base offset 0x${f.toString(16)} (RD ${rd})`);
    }
  }

  #writeCtlr(rd: number, value: number): void {
    const c = this.core;
    const l = c.lpis[rd]!;
    if (!this.lpis) return; // KVM: EnableLPIs is ignored without an ITS
    const on = (value & GICR_CTLR_ENABLE_LPIS) !== 0;
    if (on === l.enabled) return;
    if (on) l.enable(c.memory, this.#fault(rd));
    else {
      l.disable();
      // KVM (vgic_mmio_write_v3r_ctlr) also drops every ITS translation cached
      // for the VM, so no cached translation outlives the redistributor's LPIs.
      this.onLpisDisabled?.(rd);
    }
    c.lpiConfigChanged(rd, -1, true);
  }

  #fault(rd: number): (what: string) => void {
    return (what) => {
      this.core.guestError("gicv3-lpi", `RD ${rd}: ${what}`);
    };
  }

  #rdRazWi(f: number): boolean {
    return (
      f === GICR_STATUSR ||
      f === GICR_SETLPIR ||
      f === GICR_SETLPIR + 4 ||
      f === GICR_CLRLPIR ||
      f === GICR_CLRLPIR + 4 ||
      f === GICR_SYNCR ||
      f === GICR_TYPER ||
      f === GICR_TYPER + 4 ||
      f === GICR_IIDR ||
      f >= GICR_IDREGS
    );
  }

  // ---- SGI_base ------------------------------------------------------------------

  #sgiRead(rd: number, f: number, size: AccessSize): number {
    const c = this.core;
    if (f >= 0x80 && f < 0x400 && (f & 0x7f) === 0) return readBits(c, rd, f as BitReg, 0);
    if (f >= GICR_IPRIORITYR0 && f < GICR_IPRIORITYR0 + 32) return readPriorities(c, rd, f - GICR_IPRIORITYR0, size);
    if (f === GICR_ICFGR0 || f === GICR_ICFGR1) return readConfig(c, rd, (f - GICR_ICFGR0) * 4);
    if (!this.#sgiRazWi(f)) c.guestError("gicv3-redist", `read of unknown SGI_base offset 0x${f.toString(16)} (RD ${rd})`);
    return 0;
  }

  #sgiWrite(rd: number, f: number, size: AccessSize, value: number): void {
    const c = this.core;
    if (f >= 0x80 && f < 0x400 && (f & 0x7f) === 0) {
      writeBits(c, rd, f as BitReg, 0, value);
      return;
    }
    if (f >= GICR_IPRIORITYR0 && f < GICR_IPRIORITYR0 + 32) {
      writePriorities(c, rd, f - GICR_IPRIORITYR0, size, value);
      return;
    }
    if (f === GICR_ICFGR0 || f === GICR_ICFGR1) {
      writeConfig(c, rd, (f - GICR_ICFGR0) * 4, value);
      return;
    }
    if (!this.#sgiRazWi(f)) c.guestError("gicv3-redist", `write to unknown SGI_base offset 0x${f.toString(16)} (RD ${rd})`);
  }

  #sgiRazWi(f: number): boolean {
    // IGRPMODR0 and NSACR are RAZ/WI with a single security state (KVM). The
    // words after IGROUPR0..ICACTIVER0 are the extended PPI range or reserved,
    // and the ID registers live in RD_base only (IHI 0069H Table 12-29; QEMU
    // gicr_readl() decodes GICR_IDREGS in the RD_base frame alone): counted.
    return f === GICR_IGRPMODR0 || f === GICR_NSACR;
  }

  /**
   * VLPI_base without a frame device (no GICv4.1 vPE support wired) and the
   * reserved fourth 64 KiB frame (IHI 0069H §12.10): RAZ/WI, counted like any
   * other access to an unknown offset.
   */
  #reservedFrame(rd: number, frame: number, f: number, kind: string): number {
    this.core.guestError("gicv3-redist", `${kind} of reserved frame ${frame} offset 0x${f.toString(16)} (RD ${rd})`);
    return 0;
  }

  #checkAccess(frame: number, f: number, size: AccessSize, kind: string): boolean {
    let ok: boolean;
    if (frame === 1 && f >= GICR_IPRIORITYR0 && f < GICR_IPRIORITYR0 + 32) ok = size === 1 || size === 4;
    else if (frame === 0 && size === 8) {
      ok = f === GICR_TYPER || f === GICR_PROPBASER || f === GICR_PENDBASER || f === GICR_INVLPIR || f === GICR_INVALLR;
    } else ok = size === 4;
    ok &&= f % size === 0;
    if (!ok) this.core.guestError("gicv3-redist", `${kind} of ${size} byte(s) at frame ${frame} offset 0x${f.toString(16)}`);
    return ok;
  }

  /** Plain copy for snapshots. */
  state(): RedistributorSnapshot {
    return { waker: Array.from(this.waker) };
  }

  /** Restores a snapshot. */
  load(s: RedistributorSnapshot): void {
    this.waker.set(s.waker);
  }
}
