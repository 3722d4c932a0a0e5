/**
 * The interrupt sources of one APLIC domain: `sourcecfg`, `target`, pending
 * and enable bits, and the rules that decide when a pending bit may be set or
 * cleared.
 *
 * Spec: RISC-V AIA 1.0, riscv/riscv-aia src/AdvPLIC.adoc §4.5.2 (source modes,
 * rectified input, inactive sources read zero), §4.7 "Precise effects on
 * interrupt-pending bits":
 *
 * | mode | set by | cleared by |
 * |---|---|---|
 * | Detached | setip/setipnum | claim, MSI forwarded, in_clrip/clripnum |
 * | Edge1/Edge0 | rectified 0→1, setip/setipnum | claim, MSI forwarded, in_clrip/clripnum |
 * | Level, direct | rectified high (pending = rectified) | rectified low only |
 * | Level, MSI | rectified 0→1; setip/setipnum only while rectified high | rectified low, MSI forwarded, in_clrip/clripnum |
 *
 * Cross-check: QEMU hw/intc/riscv_aplic.c (riscv_aplic_set_pending,
 * riscv_aplic_set_pending_raw, riscv_aplic_request); Linux
 * arch/riscv/kvm/aia_aplic.c (aplic_write_pending, aplic_irq_set_pending).
 */

import { Bitmap, lowestSetBit } from "@irqlab/sim";
import * as C from "./aplic-constants.js";

/** Snapshot of a domain's sources. */
export interface AplicSourcesState {
  readonly sourcecfg: readonly number[];
  readonly target: readonly number[];
  readonly pending: readonly number[];
  readonly enabled: readonly number[];
}

/** Per-source state of one domain. Index 0 is unused (source 0 does not exist). */
export class AplicSources {
  /** Raw `sourcecfg[i]` as stored. */
  readonly cfg: Uint32Array;
  /** Raw `target[i]` as stored. */
  readonly target: Uint32Array;
  /** Pending bits. */
  readonly pending: Bitmap;
  /** Enable bits. */
  readonly enabled: Bitmap;

  /**
   * @param n number of sources (1..1023).
   * @param wires the APLIC's wire inputs, shared by all domains (1 = high).
   */
  constructor(
    readonly n: number,
    readonly wires: Uint8Array,
  ) {
    this.cfg = new Uint32Array(n + 1);
    this.target = new Uint32Array(n + 1);
    this.pending = new Bitmap(n + 1);
    this.enabled = new Bitmap(n + 1);
  }

  /** Source mode of `i`: SM when not delegated, else 0 (delegated sources are inactive here). */
  mode(i: number): number {
    const c = this.cfg[i]!;
    return (c & C.APLIC_SOURCECFG_D) !== 0 ? 0 : c & C.APLIC_SOURCECFG_SM_MASK;
  }

  /** True if source `i` is active in this domain. */
  active(i: number): boolean {
    return i >= 1 && i <= this.n && C.isActiveMode(this.mode(i));
  }

  /** Rectified input value of source `i` (0 when inactive or Detached). */
  rectified(i: number): number {
    return C.rectify(this.mode(i), this.wires[i]!);
  }

  /** A write to setip/setipnum for source `i`. Returns true if the pending bit became set. */
  setByWrite(i: number, msiMode: boolean): boolean {
    const sm = this.mode(i);
    if (!C.isActiveMode(sm)) return false;
    if (C.isLevelMode(sm) && (!msiMode || C.rectify(sm, this.wires[i]!) === 0)) return false;
    return this.#set(i);
  }

  /** A write to in_clrip/clripnum for source `i`. Returns true if the pending bit became clear. */
  clearByWrite(i: number, msiMode: boolean): boolean {
    const sm = this.mode(i);
    if (!C.isActiveMode(sm)) return false;
    if (C.isLevelMode(sm) && !msiMode) return false;
    return this.#clear(i);
  }

  /**
   * The wire of source `i` changed from `oldWire` to the value now in `wires`.
   * Returns true if the pending bit changed. The same rule serves both
   * delivery modes: a level source is set on the rectified rising edge and
   * cleared when the input goes low, which in direct mode keeps pending equal
   * to the rectified input.
   */
  inputChanged(i: number, oldWire: number): boolean {
    const c = this.cfg[i]!;
    const sm = c & C.APLIC_SOURCECFG_SM_MASK;
    // Delegated, Inactive, Detached and reserved modes ignore the wire.
    if ((c & C.APLIC_SOURCECFG_D) !== 0 || sm < C.APLIC_SM_EDGE_RISE) return false;
    const inv = sm & 1; // Edge0 (5) and Level0 (7) are inverted
    const now = this.wires[i]! ^ inv;
    if ((oldWire ^ inv) === now) return false;
    if (sm >= C.APLIC_SM_LEVEL_HIGH) return now === 1 ? this.#set(i) : this.#clear(i);
    return now === 1 ? this.#set(i) : false; // edge: set on the rectified rising edge
  }

  /** The claim side effect (direct mode): clears pending unless the source is level-sensitive. */
  claim(i: number): boolean {
    const sm = this.mode(i);
    if (!C.isActiveMode(sm) || C.isLevelMode(sm)) return false;
    return this.#clear(i);
  }

  /** An MSI was forwarded for source `i`: its pending bit is cleared. */
  forwarded(i: number): void {
    this.pending.clear(i);
  }

  /**
   * After a `sourcecfg` write or a delivery-mode change: a level source's
   * pending bit follows its rectified input; an edge source becomes pending if
   * its rectified input is high (§4.5.2 allows it; QEMU 2ae6cca1d338 does it).
   * Returns true if the pending bit changed.
   */
  resync(i: number): boolean {
    const sm = this.mode(i);
    if (!C.isActiveMode(sm)) return false;
    const r = C.rectify(sm, this.wires[i]!);
    if (C.isLevelMode(sm)) return r === 1 ? this.#set(i) : this.#clear(i);
    return r === 1 ? this.#set(i) : false;
  }

  /** Clears pending, enable and target of `i` (the source became inactive). */
  deactivate(i: number, keepBits: boolean): void {
    if (keepBits) return;
    this.pending.clear(i);
    this.enabled.clear(i);
    this.target[i] = 0;
  }

  /**
   * Direct mode (§4.8.1 `topi`): the pending∧enabled active source targeting
   * `hart` with the lowest priority number (ties: lowest source number), among
   * those below a nonzero `threshold`: (id << 16) | prio, or 0.
   */
  topi(hart: number, threshold: number): number {
    const pw = this.pending.words;
    const ew = this.enabled.words;
    let best = 0;
    let bestPrio = 256;
    for (let w = 0; w < pw.length; w++) {
      let v = pw[w]! & ew[w]!;
      while (v !== 0) {
        const b = lowestSetBit(v);
        v &= ~(1 << b);
        const i = (w << 5) + b;
        const t = this.target[i]!;
        if (t >>> C.APLIC_TARGET_HART_SHIFT !== hart || !this.active(i)) continue;
        const prio = t & C.APLIC_TARGET_IPRIO_MASK;
        if (threshold !== 0 && prio >= threshold) continue;
        if (prio < bestPrio) {
          best = i;
          bestPrio = prio;
        }
      }
    }
    return best === 0 ? 0 : ((best << C.APLIC_TOPI_ID_SHIFT) | bestPrio) >>> 0;
  }

  /** `in_clrip[k]` read: the rectified inputs of sources 32k..32k+31. */
  rectifiedWord(k: number): number {
    let v = 0;
    for (let b = 0; b < 32; b++) {
      const i = (k << 5) + b;
      if (i > this.n) break;
      if (i >= 1 && this.rectified(i) === 1) v |= 1 << b;
    }
    return v >>> 0;
  }

  /**
   * `domaincfg.DM` changed: targets of active sources get the UNSPECIFIED
   * value "same hart, IPRIO 1 / guest 0, EIID 0" (§4.5.16), and level sources
   * re-sync their pending bit with the input.
   */
  deliveryModeChanged(msiMode: boolean): void {
    for (let i = 1; i <= this.n; i++) {
      if (!this.active(i)) continue;
      const hart = this.target[i]! & (C.APLIC_TARGET_HART_MASK << C.APLIC_TARGET_HART_SHIFT);
      this.target[i] = (msiMode ? hart : hart | 1) >>> 0;
      this.resync(i);
    }
  }

  /** Plain copy. */
  state(): AplicSourcesState {
    return {
      sourcecfg: Array.from(this.cfg),
      target: Array.from(this.target),
      pending: this.pending.toArray(),
      enabled: this.enabled.toArray(),
    };
  }

  /** Loads a {@link state} copy. */
  restore(s: AplicSourcesState): void {
    for (let i = 0; i <= this.n; i++) {
      this.cfg[i] = (s.sourcecfg[i] ?? 0) >>> 0;
      this.target[i] = (s.target[i] ?? 0) >>> 0;
    }
    this.cfg[0] = 0;
    this.target[0] = 0;
    this.pending.loadArray(s.pending);
    this.enabled.loadArray(s.enabled);
    this.pending.clear(0);
    this.enabled.clear(0);
  }

  #set(i: number): boolean {
    const pw = this.pending.words;
    const w = i >>> 5;
    const b = 1 << (i & 31);
    const v = pw[w]!;
    if ((v & b) !== 0) return false;
    pw[w] = v | b;
    return true;
  }

  #clear(i: number): boolean {
    const pw = this.pending.words;
    const w = i >>> 5;
    const b = 1 << (i & 31);
    const v = pw[w]!;
    if ((v & b) === 0) return false;
    pw[w] = v & ~b;
    return true;
  }
}

/**
 * The value a `sourcecfg` write stores (§4.5.2): a leaf written with D = 1
 * becomes 0; D = 1 keeps the child index (-1 if it names no child: WLRL);
 * D = 0 keeps SM, with reserved 2/3 mapped to Inactive unless `storeReservedSm`.
 */
export function sourcecfgValue(value: number, children: number, storeReservedSm: boolean): number {
  if ((value & C.APLIC_SOURCECFG_D) !== 0) {
    const ci = value & C.APLIC_SOURCECFG_CHILDIDX_MASK;
    if (children === 0) return 0;
    return ci < children ? C.APLIC_SOURCECFG_D | ci : -1;
  }
  const sm = value & C.APLIC_SOURCECFG_SM_MASK;
  return (sm === 2 || sm === 3) && !storeReservedSm ? C.APLIC_SM_INACTIVE : sm;
}

/**
 * The value a `target` write stores (§4.5.16). Direct mode: Hart Index and
 * IPRIO (masked to IPRIOLEN bits, 0 stored as 1). MSI mode: Hart Index, Guest
 * Index (only when `guests` > 0, i.e. an S-level domain with H) and EIID.
 */
export function targetValue(value: number, msiMode: boolean, iprioMask: number, guests: number): number {
  const hart = value & (C.APLIC_TARGET_HART_MASK << C.APLIC_TARGET_HART_SHIFT);
  if (!msiMode) {
    const prio = value & iprioMask;
    return (hart | (prio === 0 ? 1 : prio)) >>> 0;
  }
  const guest = guests > 0 ? (value >>> C.APLIC_TARGET_GUEST_SHIFT) & C.APLIC_TARGET_GUEST_MASK : 0;
  return (hart | (guest << C.APLIC_TARGET_GUEST_SHIFT) | (value & C.APLIC_TARGET_EIID_MASK)) >>> 0;
}
