/**
 * The GICv3 distributor: the 64 KiB GICD frame, with affinity routing always
 * on and a single security state, as KVM provides (GICD_CTLR.ARE = DS = 1).
 *
 * Spec: IHI 0069H §12.9 (distributor register descriptions, Table 12-25 map),
 * §9.2 (affinity routing: with ARE = 1 the SGI/PPI words of the arrays,
 * ITARGETSR and SGIR are RES0). Cross-check: Linux
 * arch/arm64/kvm/vgic/vgic-mmio-v3.c (`vgic_v3_dist_registers[]`,
 * `vgic_mmio_read_v3_misc()`, `vgic_mmio_write_irouter()`); QEMU
 * hw/intc/arm_gicv3_dist.c (`gicd_readl()`, `gicd_writel()`).
 *
 * Bad guest accesses (wrong size, misaligned, unknown offset, write to a
 * read-only register) are RAZ/WI and counted as guest errors, never an abort:
 * KVM `dispatch_mmio_read/write()` and QEMU `gicv3_dist_read()` both do this.
 */

import { ConfigError, type AccessSize, type MmioDevice, type WideValue } from "@irqlab/sim";
import {
  GICD_CTLR, GICD_CTLR_ARE_NS, GICD_CTLR_DS, GICD_CTLR_ENABLE_SS_G0, GICD_CTLR_ENABLE_SS_G1, GICD_CTLR_nASSGIreq,
  GICD_ICFGR, GICD_IDREGS, GICD_IGRPMODR, GICD_IIDR, GICD_IPRIORITYR, GICD_IROUTER, GICD_ITARGETSR, GICD_NSACR,
  GICD_PIDR2, GICD_SGIR, GICD_SPENDSGIR, GICD_STATUSR, GICD_TYPER, GICD_TYPER2, GICD_TYPER2_nASSGIcap,
  GICD_TYPER_LPIS, GIC_FIRST_SPI, IMPLEMENTER_ARM, PRODUCT_ID_KVM, GICD_ISPENDR, GICD_ICPENDR, GICD_ISACTIVER,
  GICD_SETSPI_NSR, GICD_CLRSPI_NSR, GICD_SETSPI_SR, GICD_CLRSPI_SR, GICD_CPENDSGIR, GIC_MAX_SPI,
} from "./gicv3-constants.js";
import type { Gicv3Core } from "./gicv3-core.js";
import {
  type BitReg, readBits, readConfig, readLatch, readPriorities, writeBits, writeConfig, writeLatch, writePriorities,
} from "./gicv3-irq-bank.js";

/** Peripheral/component ID registers 0xFFD0..0xFFFC as QEMU reports them (gicd_ids[]). */
const QEMU_IDREGS = [0x44, 0x00, 0x00, 0x00, 0x92, 0xb4, 0x3b, 0x00, 0x0d, 0xf0, 0x05, 0xb1];

/** Snapshot of the distributor's own registers. */
export interface DistributorSnapshot {
  readonly g0: boolean;
  readonly g1: boolean;
  readonly nassgi: boolean;
  readonly iidrRevision: number;
}

/** The GICD frame as an MMIO device. */
export class Gicv3Distributor implements MmioDevice {
  /** No GICD register has a read side effect. */
  readonly quietReads = true;
  /** GICD_IIDR.Revision (KVM implementation revision; userspace may choose 2 or 3). */
  iidrRevision = 3;
  #nassgi = false;

  constructor(
    readonly core: Gicv3Core,
    readonly lpis: boolean,
    readonly v41: boolean,
  ) {}

  /** Handles a guest load from the GICD frame. */
  read(offset: number, size: AccessSize, wide: WideValue): number {
    // The high word of every 8-byte load is defined, even a refused one: the
    // bus hands it to the guest (a stale one would leak an earlier load).
    if (size === 8) wide.hi = 0;
    if (!this.#checkAccess(offset, size, "read") || this.#reserved(offset, "read")) return 0;
    const c = this.core;
    if (offset >= GICD_IROUTER && offset < GICD_IROUTER + 8 * 1024) {
      const n = (offset - GICD_IROUTER) >>> 3;
      return (offset & 4) === 0 && n >= GIC_FIRST_SPI && n < c.nrIrqs ? c.irqs.irouter[n]! : 0;
    }
    if (offset >= 0x80 && offset < 0x400) {
      const n = (offset & 0x7f) >>> 2;
      return n === 0 ? 0 : readBits(c, 0, (offset & ~0x7f) as BitReg, n * 32);
    }
    if (offset >= GICD_IPRIORITYR && offset < GICD_ITARGETSR) {
      const first = offset - GICD_IPRIORITYR;
      return first < GIC_FIRST_SPI ? 0 : readPriorities(c, 0, first, size);
    }
    if (offset >= GICD_ICFGR && offset < GICD_IGRPMODR) {
      const n = (offset - GICD_ICFGR) >>> 2;
      return n < 2 ? 0 : readConfig(c, 0, n * 16);
    }
    switch (offset) {
      case GICD_CTLR:
        return this.ctlr();
      case GICD_TYPER:
        return this.typer();
      case GICD_IIDR:
        return this.iidr();
      case GICD_TYPER2:
        return this.v41 && c.profile === "kvm" ? GICD_TYPER2_nASSGIcap : 0;
      case GICD_PIDR2:
        return this.v41 && c.profile === "qemu" ? 0x4b : 0x3b;
      default:
        break;
    }
    if (offset >= GICD_IDREGS) return c.profile === "qemu" ? QEMU_IDREGS[(offset - GICD_IDREGS) >>> 2]! : 0;
    if (this.#razWi(offset)) return 0;
    c.guestError("gicv3-dist", `read of unknown GICD offset 0x${offset.toString(16)}`);
    return 0;
  }

  /** Handles a guest store to the GICD frame. */
  write(offset: number, size: AccessSize, value: number, _hi: number): void {
    if (!this.#checkAccess(offset, size, "write") || this.#reserved(offset, "write")) return;
    const c = this.core;
    if (offset >= GICD_IROUTER && offset < GICD_IROUTER + 8 * 1024) {
      const n = (offset - GICD_IROUTER) >>> 3;
      // Only Aff2..Aff0 are kept: Aff3 (the upper word) and the 1-of-N mode are RAZ/WI in KVM.
      if ((offset & 4) !== 0 || n < GIC_FIRST_SPI || n >= c.nrIrqs) return;
      c.irqs.irouter[n] = value & 0xffffff;
      c.route(n);
      return;
    }
    if (offset >= 0x80 && offset < 0x400) {
      const n = (offset & 0x7f) >>> 2;
      if (n !== 0) writeBits(c, 0, (offset & ~0x7f) as BitReg, n * 32, value);
      return;
    }
    if (offset >= GICD_IPRIORITYR && offset < GICD_ITARGETSR) {
      const first = offset - GICD_IPRIORITYR;
      if (first >= GIC_FIRST_SPI) writePriorities(c, 0, first, size, value);
      return;
    }
    if (offset >= GICD_ICFGR && offset < GICD_IGRPMODR) {
      const n = (offset - GICD_ICFGR) >>> 2;
      if (n >= 2) writeConfig(c, 0, n * 16, value);
      return;
    }
    switch (offset) {
      case GICD_CTLR:
        this.#writeCtlr(value);
        return;
      case GICD_TYPER:
      case GICD_IIDR:
      case GICD_TYPER2:
        c.guestError("gicv3-dist", `write to read-only GICD offset 0x${offset.toString(16)}`);
        return;
      default:
        break;
    }
    if (offset >= GICD_IDREGS) {
      c.guestError("gicv3-dist", `write to read-only GICD ID register 0x${offset.toString(16)}`);
      return;
    }
    if (this.#razWi(offset)) return;
    c.guestError("gicv3-dist", `write to unknown GICD offset 0x${offset.toString(16)}`);
  }

  /**
   * A userspace read (KVM_DEV_ARM_VGIC_GRP_DIST_REGS): as the guest's, except
   * that ISPENDR/ICPENDR return only the pending latch.
   */
  uaccessRead(offset: number, size: 4 | 8, wide: WideValue): number {
    if (size === 4 && offset >= GICD_ISPENDR && offset < GICD_ISACTIVER) {
      const n = (offset & 0x7f) >>> 2;
      return n === 0 ? 0 : readLatch(this.core, 0, n * 32);
    }
    return this.read(offset, size, wide);
  }

  /**
   * A userspace write: ISPENDR sets each latch to the written bit, ICPENDR is
   * ignored, IIDR may change only its Revision to 2 or 3 (else ConfigError, the
   * -EINVAL of vgic_mmio_uaccess_write_v3_misc); everything else as the guest.
   */
  uaccessWrite(offset: number, size: 4 | 8, value: number, hi: number): void {
    if (size === 4 && offset >= GICD_ISPENDR && offset < GICD_ISACTIVER) {
      const n = (offset & 0x7f) >>> 2;
      if (offset < GICD_ICPENDR && n !== 0) writeLatch(this.core, 0, n * 32, value);
      return;
    }
    if (offset === GICD_IIDR && size === 4) {
      const rev = (value >>> 12) & 0xf;
      if (((value ^ this.iidr()) & ~0xf000) !== 0 || rev < 2 || rev > 3) {
        throw new ConfigError(`GICD_IIDR value 0x${(value >>> 0).toString(16)} may only change Revision to 2 or 3`);
      }
      this.iidrRevision = rev;
      return;
    }
    this.write(offset, size, value, hi);
  }

  /** GICD_CTLR value: ARE and DS read as one (KVM: only EnableGrp1 is stored). */
  ctlr(): number {
    const c = this.core;
    let v = GICD_CTLR_ARE_NS | GICD_CTLR_DS;
    if (c.distG1) v |= GICD_CTLR_ENABLE_SS_G1;
    if (c.distG0 && c.profile === "qemu") v |= GICD_CTLR_ENABLE_SS_G0;
    if (this.#nassgi) v |= GICD_CTLR_nASSGIreq;
    return v >>> 0;
  }

  /** GICD_TYPER: ITLinesNumber from the SPI count, IDbits, LPIS (QEMU arm_gicv3_dist.c gicd_readl). */
  typer(): number {
    const c = this.core;
    let v = (c.nrIrqs >>> 5) - 1;
    // KVM: IDbits 16 with an ITS, else 10; QEMU always reports 16 and adds No1N (bit 25), A3V (bit 24).
    v |= (this.lpis || c.profile === "qemu" ? 15 : 9) << 19;
    if (this.lpis) v |= GICD_TYPER_LPIS;
    if (c.profile === "qemu") v |= (1 << 25) | (1 << 24);
    return v >>> 0;
  }

  /** GICD_IIDR: KVM `0x4B << 24 | Revision << 12 | 0x43B`; QEMU a plain Arm r0p0 (0x43B). */
  iidr(): number {
    if (this.core.profile === "qemu") return IMPLEMENTER_ARM;
    return ((PRODUCT_ID_KVM << 24) | (this.iidrRevision << 12) | IMPLEMENTER_ARM) >>> 0;
  }

  #writeCtlr(value: number): void {
    const c = this.core;
    const g1 = (value & GICD_CTLR_ENABLE_SS_G1) !== 0;
    // KVM keeps one enable (dist->enabled) that gates both groups.
    const g0 = c.profile === "kvm" ? g1 : (value & GICD_CTLR_ENABLE_SS_G0) !== 0;
    if (this.v41) this.#nassgi = (value & GICD_CTLR_nASSGIreq) !== 0;
    if (g0 === c.distG0 && g1 === c.distG1) return;
    c.distG0 = g0;
    c.distG1 = g1;
    c.updateAll();
  }

  #razWi(offset: number): boolean {
    // RES0 with ARE = 1 or DS = 1, or not implemented by KVM: STATUSR, the
    // SETSPI/CLRSPI registers, ITARGETSR, IGRPMODR, NSACR, SGIR, C/SPENDSGIR.
    return (
      offset === GICD_STATUSR ||
      offset === GICD_SETSPI_NSR ||
      offset === GICD_CLRSPI_NSR ||
      offset === GICD_SETSPI_SR ||
      offset === GICD_CLRSPI_SR ||
      (offset >= GICD_ITARGETSR && offset < GICD_ICFGR) ||
      (offset >= GICD_IGRPMODR && offset < GICD_IGRPMODR + 0x80) ||
      (offset >= GICD_NSACR && offset < GICD_NSACR + 0x100) ||
      offset === GICD_SGIR ||
      (offset >= GICD_CPENDSGIR && offset < GICD_SPENDSGIR + 0x10)
    );
  }

  /**
   * Reserved words inside the ranges the decoder takes whole (IHI 0069H
   * Table 12-25): after IPRIORITYR254 and ITARGETSR254, and GICD_IROUTER<n>
   * for the SGIs and PPIs (n < 32) and for n > 1019. RAZ/WI, counted.
   */
  #reserved(offset: number, kind: string): boolean {
    const reserved =
      (offset >= GICD_ITARGETSR - 4 && offset < GICD_ITARGETSR) ||
      (offset >= GICD_ICFGR - 4 && offset < GICD_ICFGR) ||
      (offset >= GICD_IROUTER && offset < GICD_IROUTER + 8 * GIC_FIRST_SPI) ||
      (offset >= GICD_IROUTER + 8 * (GIC_MAX_SPI + 1) && offset < GICD_IROUTER + 8 * 1024);
    if (reserved) this.core.guestError("gicv3-dist", `${kind} of reserved GICD offset 0x${offset.toString(16)}`);
    return reserved;
  }

  #checkAccess(offset: number, size: AccessSize, kind: string): boolean {
    let ok: boolean;
    if (offset >= GICD_IROUTER && offset < GICD_IROUTER + 8 * 1024) ok = (size === 4 || size === 8) && offset % size === 0;
    else if (offset >= GICD_IPRIORITYR && offset < GICD_ICFGR) ok = (size === 1 || size === 4) && offset % size === 0;
    else ok = size === 4 && (offset & 3) === 0;
    if (!ok) this.core.guestError("gicv3-dist", `${kind} of ${size} byte(s) at GICD offset 0x${offset.toString(16)}`);
    return ok;
  }

  /** Plain copy for snapshots. */
  state(): DistributorSnapshot {
    return { g0: this.core.distG0, g1: this.core.distG1, nassgi: this.#nassgi, iidrRevision: this.iidrRevision };
  }

  /** Restores a snapshot (the core is updated by its owner). */
  load(s: DistributorSnapshot): void {
    this.core.distG0 = s.g0;
    this.core.distG1 = s.g1;
    this.#nassgi = s.nassgi;
    this.iidrRevision = s.iidrRevision;
  }
}
