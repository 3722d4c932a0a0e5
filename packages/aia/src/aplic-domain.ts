/**
 * One APLIC interrupt domain: its memory-mapped control region as an MMIO
 * device, delivery of its active sources directly (IDCs) or by MSI, and its
 * place in the domain tree (delegation through `sourcecfg.D`).
 *
 * Spec: RISC-V AIA 1.0, riscv/riscv-aia src/AdvPLIC.adoc §4.3 (domain tree),
 * §4.5 (control region: only naturally aligned 32-bit accesses; other bytes
 * read-only zero), §4.5.1 `domaincfg`, §4.5.2 `sourcecfg` (a leaf written
 * with D = 1 becomes 0; a newly delegated source reads 0 in the child until
 * written), §4.5.5–§4.5.14 the pending/enable arrays and `*num` registers,
 * §4.5.15 `genmsi`, §4.5.16 `target`, §4.7 (pending rules, aplic-source.ts),
 * §4.8 (direct delivery, aplic-idc.ts), §4.9 (MSI forwarding, aplic-msi.ts).
 * Cross-check: QEMU hw/intc/riscv_aplic.c (riscv_aplic_read/write);
 * Linux arch/riscv/kvm/aia_aplic.c (aplic_mmio_read/write).
 *
 * Model choices: BE is read-only zero (little-endian only). `genmsi` sends at
 * once, so Busy always reads 0 (allowed: "sent with minimal delay"). A DM
 * change gives targets the UNSPECIFIED value "same hart index, IPRIO 1 /
 * guest 0, EIID 0". Reserved offsets (0x1BD0–0x1BFC, the unused words of the
 * setip/in_clrip/setie/clrie blocks, 0x2008–0x2FFC, targets and IDCs beyond
 * the domain's), bad widths and out-of-range numbers are counted and traced
 * as guest errors and read zero, in every profile. (Linux's in-kernel APLIC,
 * aplic_mmio_read_offset / aplic_mmio_read, answers such an access with
 * -ENODEV or -EOPNOTSUPP instead; that KVM then forwards it to userspace is
 * for the kernel bus to model, not this device.)
 */

import { Tracer, lowestSetBit, type AccessSize, type MmioDevice, type TrackId, type WideValue } from "@irqlab/sim";
import * as C from "./aplic-constants.js";
import { AplicIdcs, IDC_RESERVED, type AplicIdcHost } from "./aplic-idc.js";
import type { AplicDomainInit, AplicDomainState } from "./aplic.js";
import type { AplicLevel } from "./aplic-msi.js";
import { AplicSources, sourcecfgValue, targetValue } from "./aplic-source.js";
import { swab32 } from "./imsic-constants.js";

/** One interrupt domain. Map it on a bus at its control region's base. */
export class AplicDomain implements MmioDevice, AplicIdcHost {
  readonly name: string;
  readonly level: AplicLevel;
  readonly parent: AplicDomain | undefined;
  /** Child domains, by child index. */
  readonly children: AplicDomain[] = [];
  /** This domain's index among its parent's children. */
  readonly childIndex: number;
  /** The domain's sources. */
  readonly sources: AplicSources;
  /** IDC structures, if the domain implements direct mode. */
  readonly idcs: AplicIdcs | undefined;
  /** Size of the control region in bytes. */
  readonly regionSize: number;
  readonly #init: AplicDomainInit;
  readonly #tracer: Tracer;
  readonly #track: TrackId;
  readonly #iprioMask: number;
  #ie = false;
  #dm: boolean;
  #genmsi = 0;

  constructor(init: AplicDomainInit) {
    this.#init = init;
    this.name = init.name;
    this.level = init.level;
    this.parent = init.parent;
    this.childIndex = init.parent ? init.parent.children.push(this) - 1 : 0;
    this.sources = new AplicSources(init.nrSources, init.wires);
    this.#tracer = init.tracer;
    this.#track = init.tracer.track("aia", `aplic/${init.name}`, "device");
    this.#iprioMask = (1 << init.iprioLen) - 1;
    this.#dm = init.modes === "msi";
    this.idcs = init.modes === "msi" ? undefined : new AplicIdcs(init.harts, init.iprioLen, this, init.onIdcLine);
    this.regionSize = C.aplicRegionSize(this.idcs ? init.harts : 0);
  }

  /** domaincfg.IE. */
  get interruptEnable(): boolean {
    return this.#ie;
  }

  /** domaincfg.DM (true = MSI delivery mode). */
  get msiMode(): boolean {
    return this.#dm;
  }

  /** True if source `i` exists in this domain (the root has all; a child those delegated to it). */
  implemented(i: number): boolean {
    if (!(i >= 1 && i <= this.sources.n)) return false;
    const p = this.parent;
    return p === undefined || (p.implemented(i) && p.sources.cfg[i] === (C.APLIC_SOURCECFG_D | this.childIndex));
  }

  /** The domain that handles source `i`'s wire: follows D bits down from here. */
  owner(i: number): AplicDomain {
    const c = this.sources.cfg[i]!;
    if ((c & C.APLIC_SOURCECFG_D) === 0) return this;
    return this.children[c & C.APLIC_SOURCECFG_CHILDIDX_MASK]!.owner(i);
  }

  /** The wire of source `i` changed from `oldWire` (the new level is in the shared wires array). */
  inputChanged(i: number, oldWire: number): void {
    if (this.sources.inputChanged(i, oldWire)) this.#deliver(i);
  }

  // ---- MMIO ----

  /** MMIO load of the control region. */
  read(offset: number, size: AccessSize, wide: WideValue): number {
    wide.hi = 0;
    if (size !== 4 || (offset & 3) !== 0) {
      this.#err("aplic-mmio-access", `${size}-byte read at 0x${offset.toString(16)}`);
      return 0;
    }
    const s = this.sources;
    if (offset === C.APLIC_DOMAINCFG) {
      return (C.APLIC_DOMAINCFG_RDONLY | (this.#ie ? C.APLIC_DOMAINCFG_IE : 0) | (this.#dm ? C.APLIC_DOMAINCFG_DM : 0)) >>> 0;
    }
    if (offset < C.APLIC_MMSIADDRCFG) {
      const i = (offset - C.APLIC_SOURCECFG_BASE) / 4 + 1;
      return i <= s.n && this.implemented(i) ? s.cfg[i]! : this.#reserved(offset);
    }
    if (offset <= C.APLIC_SMSIADDRCFGH) return this.#msiCfgVisible(offset) ? this.#init.msi!.readReg(offset, this.parent === undefined) : this.#reserved(offset);
    if (offset < C.APLIC_SETIP_BASE) return this.#reserved(offset); // 0x1BD0–0x1BFC
    if (offset < C.APLIC_SETIPNUM_LE) {
      // setip, in_clrip, setie, clrie: 32 words each, then the *num register at 0xDC of the block.
      if (C.aplicNumOp(offset) >= 0) return 0; // setipnum, clripnum, setienum, clrienum read zero
      const k = (offset & 0xff) >>> 2;
      if (k >= 32) return this.#reserved(offset);
      switch (offset & 0xff00) {
        case C.APLIC_SETIP_BASE:
          return s.pending.words[k] ?? 0;
        case C.APLIC_IN_CLRIP_BASE:
          return s.rectifiedWord(k);
        case C.APLIC_SETIE_BASE:
          return s.enabled.words[k] ?? 0;
        default:
          return 0; // clrie[k] reads zero
      }
    }
    if (offset === C.APLIC_SETIPNUM_LE || offset === C.APLIC_SETIPNUM_BE) return 0;
    if (offset < C.APLIC_GENMSI) return this.#reserved(offset); // 0x2008–0x2FFC
    if (offset === C.APLIC_GENMSI) return this.#dm ? this.#genmsi : 0;
    if (offset < C.APLIC_IDC_BASE) {
      const i = (offset - C.APLIC_TARGET_BASE) / 4 + 1;
      if (i > s.n) return this.#reserved(offset);
      return s.active(i) || this.#init.profile.aplicNoActiveCheck ? s.target[i]! : 0;
    }
    const h = (offset - C.APLIC_IDC_BASE) >>> 5;
    if (this.idcs && !this.#dm && h < this.idcs.count) {
      const v = this.idcs.read(h, offset & 31);
      return v === IDC_RESERVED ? this.#reserved(offset) : v;
    }
    return this.#reserved(offset);
  }

  /** MMIO store to the control region. */
  write(offset: number, size: AccessSize, value: number, _hi: number): void {
    if (size !== 4 || (offset & 3) !== 0) {
      this.#err("aplic-mmio-access", `${size}-byte write at 0x${offset.toString(16)}`);
      return;
    }
    value >>>= 0;
    const s = this.sources;
    if (offset === C.APLIC_DOMAINCFG) {
      this.#writeDomaincfg(value);
      return;
    }
    if (offset < C.APLIC_MMSIADDRCFG) {
      const i = (offset - C.APLIC_SOURCECFG_BASE) / 4 + 1;
      if (i > s.n) this.#reserved(offset);
      else if (this.implemented(i)) this.#writeSourcecfg(i, value);
      return;
    }
    if (offset <= C.APLIC_SMSIADDRCFGH) {
      if (this.#msiCfgVisible(offset) && this.parent === undefined) this.#init.msi!.writeReg(offset, value);
      else this.#reserved(offset);
      return;
    }
    const num = C.aplicNumOp(offset);
    if (num >= 0) {
      this.#num(offset === C.APLIC_SETIPNUM_BE ? swab32(value) : value, num as 0 | 1 | 2 | 3);
      return;
    }
    if (offset === C.APLIC_GENMSI) {
      this.#writeGenmsi(value);
      return;
    }
    if (offset >= C.APLIC_SETIP_BASE && offset < C.APLIC_SETIPNUM_LE) {
      const k = (offset & 0xff) >>> 2;
      const op = ((offset - C.APLIC_SETIP_BASE) >>> 8) as 0 | 1 | 2 | 3;
      if (k >= 32) {
        this.#reserved(offset);
        return;
      }
      let v = k === 0 ? value & ~1 : value;
      while (v !== 0) {
        const b = lowestSetBit(v);
        v &= ~(1 << b);
        const i = (k << 5) + b;
        if (i > s.n) break;
        this.#apply(i, op);
      }
      return;
    }
    if (offset > C.APLIC_GENMSI && offset < C.APLIC_IDC_BASE) {
      const i = (offset - C.APLIC_TARGET_BASE) / 4 + 1;
      if (i > s.n) this.#reserved(offset);
      else this.#writeTarget(i, value);
      return;
    }
    const h = (offset - C.APLIC_IDC_BASE) >>> 5;
    if (offset >= C.APLIC_IDC_BASE && this.idcs && !this.#dm && h < this.idcs.count) {
      if (!this.idcs.write(h, offset & 31, value)) this.#reserved(offset);
      return;
    }
    this.#reserved(offset);
  }

  // ---- AplicIdcHost ----

  /** Highest-priority pending∧enabled active source targeting `hart` under `threshold`: (id << 16) | prio, or 0. */
  topi(hart: number, threshold: number): number {
    return this.sources.topi(hart, threshold);
  }


  /** Claim side effect of `claimi` on `source`. */
  claim(source: number): void {
    this.sources.claim(source);
  }

  // ---- snapshot ----

  /** Plain copy of the domain's state. */
  state(): AplicDomainState {
    return { name: this.name, ie: this.#ie, dm: this.#dm, sources: this.sources.state(), idc: this.idcs?.state() ?? null, genmsi: this.#genmsi };
  }

  /** Loads a {@link state} copy (delivery follows: MSIs may be sent, lines may change). */
  restore(st: AplicDomainState): void {
    this.#ie = st.ie;
    this.#dm = this.#init.modes === "both" ? st.dm : this.#init.modes === "msi";
    this.#genmsi = st.genmsi >>> 0;
    this.sources.restore(st.sources);
    if (this.idcs && st.idc) this.idcs.restore(st.idc);
  }

  /** Delivers whatever is deliverable now (after a restore or tree change). */
  deliverAll(): void {
    if (!this.#dm) {
      this.idcs?.updateAll();
      return;
    }
    if (!this.#ie) return;
    const pw = this.sources.pending.words;
    const ew = this.sources.enabled.words;
    for (let w = 0; w < pw.length; w++) {
      let v = pw[w]! & ew[w]!;
      while (v !== 0) {
        const b = lowestSetBit(v);
        v &= ~(1 << b);
        this.#deliver((w << 5) + b);
      }
    }
  }

  /** Makes source `i` read zero here and in every domain below (delegation changed above). */
  resetSource(i: number): void {
    const c = this.sources.cfg[i]!;
    if ((c & C.APLIC_SOURCECFG_D) !== 0) this.children[c & C.APLIC_SOURCECFG_CHILDIDX_MASK]?.resetSource(i);
    const hart = this.sources.target[i]! >>> C.APLIC_TARGET_HART_SHIFT;
    this.sources.cfg[i] = 0;
    this.sources.deactivate(i, false);
    if (!this.#dm) this.idcs?.update(hart);
  }

  // ---- helpers ----

  #err(source: string, msg: string): void {
    this.#tracer.guestError(this.#track, source, `aplic/${this.name}: ${msg}`);
  }

  #reserved(offset: number): number {
    this.#err("aplic-reserved", `access to reserved or absent register 0x${offset.toString(16)}`);
    return 0;
  }

  #msiCfgVisible(offset: number): boolean {
    const init = this.#init;
    if (init.msi === undefined || init.profile.aplicNoMsiAddrCfg || this.level !== "m") return false;
    return offset <= C.APLIC_MMSIADDRCFGH || init.hasSDomains;
  }

  /** op: 0 set pending, 1 clear pending, 2 set enable, 3 clear enable. */
  #apply(i: number, op: 0 | 1 | 2 | 3): void {
    const s = this.sources;
    switch (op) {
      case 0:
        if (s.setByWrite(i, this.#dm)) this.#deliver(i);
        return;
      case 1:
        if (s.clearByWrite(i, this.#dm)) this.#deliver(i);
        return;
      case 2:
        if (!s.active(i) && !this.#init.profile.aplicNoActiveCheck) return;
        if (!s.enabled.get(i)) {
          s.enabled.set(i);
          this.#deliver(i);
        }
        return;
      case 3:
        if (s.enabled.get(i)) {
          s.enabled.clear(i);
          this.#deliver(i);
        }
        return;
    }
  }

  #num(i: number, op: 0 | 1 | 2 | 3): void {
    if (!(i >= 1 && i <= this.sources.n)) {
      this.#err("aplic-source", `*num write of source ${i} outside 1..${this.sources.n}`);
      return;
    }
    this.#apply(i, op);
  }

  #deliver(i: number): void {
    const s = this.sources;
    const t = s.target[i]!;
    if (!this.#dm) {
      this.idcs?.update(t >>> C.APLIC_TARGET_HART_SHIFT);
      return;
    }
    const w = i >>> 5;
    const b = 1 << (i & 31);
    const pw = s.pending.words;
    if (!this.#ie || (pw[w]! & s.enabled.words[w]! & b) === 0 || !s.active(i)) return;
    pw[w]! &= ~b; // forwarded: the pending bit is cleared
    const guest = (t >>> C.APLIC_TARGET_GUEST_SHIFT) & C.APLIC_TARGET_GUEST_MASK;
    this.#init.msi!.send(this.level, t >>> C.APLIC_TARGET_HART_SHIFT, guest, t & C.APLIC_TARGET_EIID_MASK, this.#tracer, this.#track);
  }

  #writeDomaincfg(value: number): void {
    this.#ie = (value & C.APLIC_DOMAINCFG_IE) !== 0;
    const dm = this.#init.modes === "both" ? (value & C.APLIC_DOMAINCFG_DM) !== 0 : this.#dm;
    if (dm !== this.#dm) {
      this.#dm = dm;
      this.sources.deliveryModeChanged(dm);
    }
    this.deliverAll();
  }

  #writeSourcecfg(i: number, value: number): void {
    const s = this.sources;
    const old = s.cfg[i]!;
    const wasActive = s.active(i);
    const oldHart = s.target[i]! >>> C.APLIC_TARGET_HART_SHIFT;
    const nv = sourcecfgValue(value, this.children.length, this.#init.profile.aplicStoresReservedSm);
    if (nv < 0) {
      this.#err("aplic-wlrl", `sourcecfg[${i}] child index ${value & C.APLIC_SOURCECFG_CHILDIDX_MASK} outside 0..${this.children.length - 1}`);
      return;
    }
    if (nv !== old && ((old | nv) & C.APLIC_SOURCECFG_D) !== 0) {
      if ((old & C.APLIC_SOURCECFG_D) !== 0) this.children[old & C.APLIC_SOURCECFG_CHILDIDX_MASK]?.resetSource(i);
      s.cfg[i] = nv;
      if ((nv & C.APLIC_SOURCECFG_D) !== 0) this.children[nv & C.APLIC_SOURCECFG_CHILDIDX_MASK]?.resetSource(i);
      this.#init.onDelegation(i);
    }
    s.cfg[i] = nv;
    if (!s.active(i)) {
      if (wasActive || (nv & C.APLIC_SOURCECFG_D) !== 0) s.deactivate(i, this.#init.profile.aplicInactiveKeepsBits && (nv & C.APLIC_SOURCECFG_D) === 0);
      if (!this.#dm) this.idcs?.update(oldHart);
      return;
    }
    if (!wasActive) s.target[i] = this.#dm ? 0 : 1; // UNSPECIFIED: hart 0, IPRIO 1 / EIID 0
    s.resync(i);
    this.#deliver(i);
  }

  #writeTarget(i: number, value: number): void {
    const s = this.sources;
    if (!s.active(i) && !this.#init.profile.aplicNoActiveCheck) return; // read-only zero
    const oldHart = s.target[i]! >>> C.APLIC_TARGET_HART_SHIFT;
    const guests = this.level === "s" ? this.#init.geilen : 0;
    s.target[i] = targetValue(value, this.#dm, this.#iprioMask, guests);
    const guest = (value >>> C.APLIC_TARGET_GUEST_SHIFT) & C.APLIC_TARGET_GUEST_MASK;
    if (this.#dm && guests > 0 && guest > guests) this.#err("aplic-wlrl", `target[${i}] guest index ${guest} above GEILEN ${guests}`);
    if (!this.#dm) {
      this.idcs?.update(oldHart);
      this.#deliver(i);
    }
  }

  #writeGenmsi(value: number): void {
    if (!this.#dm) return; // read-only zero in direct mode
    this.#genmsi = (value & ((C.APLIC_TARGET_HART_MASK << C.APLIC_TARGET_HART_SHIFT) | C.APLIC_TARGET_EIID_MASK)) >>> 0;
    // Extempore MSI: sent even when IE = 0, at this domain's level, guest index 0.
    this.#init.msi!.send(this.level, this.#genmsi >>> C.APLIC_TARGET_HART_SHIFT, 0, this.#genmsi & C.APLIC_TARGET_EIID_MASK, this.#tracer, this.#track);
  }
}
