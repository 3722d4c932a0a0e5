/**
 * APLIC MSI forwarding: the root domain's MSI address configuration
 * (`mmsiaddrcfg`, `mmsiaddrcfgh`, `smsiaddrcfg`, `smsiaddrcfgh`, with the
 * lock bit L) and the MSI writes themselves, made through an injected MMIO bus
 * so that they land in whatever IMSIC file is mapped at the address.
 *
 * Spec: RISC-V AIA 1.0, riscv/riscv-aia src/AdvPLIC.adoc §4.5.3–§4.5.4
 * (registers, lock), §4.9.1 "Addresses and data for outgoing MSIs":
 *   g = (Hart Index >> LHXW) & (2^HHXW − 1), h = Hart Index & (2^LHXW − 1),
 *   M: address = (Base PPN | g << (HHXS + 12) | h << LHXS) << 12,
 *   S: address = (S Base PPN | g << (HHXS + 12) | h << S LHXS | Guest Index) << 12,
 * data = EIID, always little-endian. Cross-check: QEMU hw/intc/riscv_aplic.c
 * (riscv_aplic_msi_send, "MSI write failed" guest error).
 *
 * The 44-bit PPN is kept as two 32-bit halves; the resulting address must be
 * below 2^53 (a JavaScript safe integer) or the MSI is dropped as a guest error.
 * An S-level domain's hart index is taken to equal the machine-level index
 * (the specification allows a mapping; the model uses the identity).
 */

import type { MmioBus, Tracer, TrackId } from "@irqlab/sim";
import * as C from "./aplic-constants.js";
import type { MsiAddrCfg } from "./imsic-layout.js";

/** Privilege level of an interrupt domain. */
export type AplicLevel = "m" | "s";

/** The root domain's MSI address configuration registers and the MSI sender. */
export class AplicMsi {
  #m = 0;
  #mh = 0;
  #s = 0;
  #sh = 0;
  // Fields of the registers, decoded once per register write (§4.5.3–§4.5.4).
  #lhxw = 0;
  #lhxwMask = 0;
  #hhxwMask = 0;
  #gs = 12;
  #mLhxs = 0;
  #sLhxs = 0;
  #mPpnHi = 0;
  #sPpnHi = 0;
  /** Successful MSI writes. */
  sent = 0;

  /**
   * @param bus where MSIs are written.
   * @param reset values at system reset (default zeros, unlocked); an L bit in
   *   `mmsiaddrcfgh` models an APLIC whose addresses are fixed by the platform.
   */
  constructor(
    readonly bus: MmioBus,
    reset?: MsiAddrCfg,
  ) {
    if (reset !== undefined) this.restoreConfig(reset);
  }

  /** mmsiaddrcfgh.L: all four registers are read-only. */
  get locked(): boolean {
    return (this.#mh & C.APLIC_xMSICFGADDRH_L) !== 0;
  }

  /** The four register values. */
  config(): MsiAddrCfg {
    return { mmsiaddrcfg: this.#m, mmsiaddrcfgh: this.#mh, smsiaddrcfg: this.#s, smsiaddrcfgh: this.#sh };
  }

  /** Loads register values from a snapshot, lock included (host API, ignores L). */
  restoreConfig(c: MsiAddrCfg): void {
    this.#m = c.mmsiaddrcfg >>> 0;
    this.#mh = (c.mmsiaddrcfgh & C.APLIC_MMSIADDRCFGH_MASK) >>> 0;
    this.#s = c.smsiaddrcfg >>> 0;
    this.#sh = (c.smsiaddrcfgh & C.APLIC_SMSIADDRCFGH_MASK) >>> 0;
    this.#decode();
  }

  /**
   * A read of one of the registers as domain `root`/other sees it: the root
   * reads the values; another M-level domain reads read-only copies with L = 1.
   */
  readReg(offset: number, root: boolean): number {
    switch (offset) {
      case C.APLIC_MMSIADDRCFG:
        return this.#m;
      case C.APLIC_MMSIADDRCFGH:
        return root ? this.#mh : (this.#mh | C.APLIC_xMSICFGADDRH_L) >>> 0;
      case C.APLIC_SMSIADDRCFG:
        return this.#s;
      case C.APLIC_SMSIADDRCFGH:
        return this.#sh;
      default:
        return 0;
    }
  }

  /** A write from the root domain; ignored once L = 1. Returns false if it was ignored because of the lock. */
  writeReg(offset: number, value: number): boolean {
    if (this.locked) return false;
    switch (offset) {
      case C.APLIC_MMSIADDRCFG:
        this.#m = value >>> 0;
        break;
      case C.APLIC_MMSIADDRCFGH:
        this.#mh = (value & C.APLIC_MMSIADDRCFGH_MASK) >>> 0;
        break;
      case C.APLIC_SMSIADDRCFG:
        this.#s = value >>> 0;
        break;
      case C.APLIC_SMSIADDRCFGH:
        this.#sh = (value & C.APLIC_SMSIADDRCFGH_MASK) >>> 0;
        break;
      default:
        break;
    }
    this.#decode();
    return true;
  }

  /**
   * The MSI address for `hartIndex` (and guest index, S level only) by
   * §4.9.1, or -1 if it is not below 2^53.
   */
  address(level: AplicLevel, hartIndex: number, guest: number): number {
    const m = level === "m";
    let lo = m ? this.#m : this.#s;
    let hi = m ? this.#mPpnHi : this.#sPpnHi;
    const g = (hartIndex >>> this.#lhxw) & this.#hhxwMask;
    const h = hartIndex & this.#lhxwMask;
    const gs = this.#gs;
    if (gs >= 32) hi |= g << (gs - 32);
    else {
      lo |= g << gs;
      hi |= g >>> (32 - gs);
    }
    lo = (lo | (h << (m ? this.#mLhxs : this.#sLhxs)) | (m ? 0 : guest)) >>> 0;
    if (hi >= 1 << 9) return -1;
    return hi * 17592186044416 /* 2^44 */ + lo * 4096;
  }

  /** Re-derives the address fields from the four registers. */
  #decode(): void {
    const mh = this.#mh;
    this.#lhxw = (mh >>> C.APLIC_xMSICFGADDRH_LHXW_SHIFT) & 0xf;
    this.#lhxwMask = (1 << this.#lhxw) - 1;
    this.#hhxwMask = (1 << ((mh >>> C.APLIC_xMSICFGADDRH_HHXW_SHIFT) & 0x7)) - 1;
    this.#gs = ((mh >>> C.APLIC_xMSICFGADDRH_HHXS_SHIFT) & 0x1f) + 12;
    this.#mLhxs = (mh >>> C.APLIC_xMSICFGADDRH_LHXS_SHIFT) & 0x7;
    this.#sLhxs = (this.#sh >>> C.APLIC_xMSICFGADDRH_LHXS_SHIFT) & 0x7;
    this.#mPpnHi = mh & C.APLIC_xMSICFGADDRH_BAPPN_MASK;
    this.#sPpnHi = this.#sh & C.APLIC_xMSICFGADDRH_BAPPN_MASK;
  }

  /**
   * Writes MSI data `eiid` (little-endian) to the file of `hartIndex`/`guest`.
   * A failed write (no device at the address, or an address beyond 2^53) is a
   * guest error, as QEMU logs it. Returns whether a device took the write.
   */
  send(level: AplicLevel, hartIndex: number, guest: number, eiid: number, tracer: Tracer, track: TrackId): boolean {
    const addr = this.address(level, hartIndex, guest);
    if (addr >= 0 && this.bus.write(addr, 4, eiid, 0)) {
      this.sent++;
      return true;
    }
    tracer.guestError(track, "aplic-msi-write-failed", `MSI write failed for hart_index=${hartIndex} guest_index=${guest} eiid=${eiid}`);
    return false;
  }
}
