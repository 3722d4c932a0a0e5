/**
 * GICv4.1 virtual PEs (IHI 0069H §5.4 "Virtual LPI support", §9 "GICv4.1"):
 * the vPE table shared by the ITSs and the redistributors, each vPE's virtual
 * pending table (VPT) and vLPI configuration, residency and doorbells.
 *
 * A vPE is made known to an ITS by VMAPP (RDbase, VPT address and size, and in
 * v4.1 the vLPI configuration table address and a default doorbell), moved by
 * VMOVP, and made resident on its redistributor by GICR_VPENDBASER.Valid = 1.
 * A vLPI that becomes pending while the vPE is resident is seen by the virtual
 * CPU interface directly; while it is not resident and the hypervisor asked for
 * a doorbell when descheduling (GICR_VPENDBASER.Doorbell, v4.1), the vPE's
 * default doorbell — a physical LPI on the vPE's redistributor — fires once.
 * Linux: drivers/irqchip/irq-gic-v3-its.c its_vpe_4_1_schedule/deschedule;
 * arch/arm64/kvm/vgic/vgic-v4.c vgic_v4_doorbell_handler (no disable_irq for v4.1).
 *
 * Deviations, documented in the package README: the vPE table and each VPT are kept in the
 * model, not in memory (GICR_VPROPBASER and VMAPP's VPT address are recorded
 * but not dereferenced); the vLPI configuration bytes are read from guest
 * memory at VConf_addr on VMAPP, VINVALL and INV, like a redistributor caches
 * LPI configuration, and may also be set by the host API.
 */

import type { GuestMemory } from "@irqlab/sim";
import { ConfigError } from "@irqlab/sim";
import type { LpiTarget } from "../lpi-target.js";

const LPI_BASE = 8192;
const NO_DOORBELL = 1023;

/** Called when a non-resident vPE's doorbell fires. `doorbellIntid` is 1023 when the vPE has none. */
export type DoorbellHandler = (vpeid: number, doorbellIntid: number, rd: number) => void;

/** Options of a {@link VpeTable}. */
export interface VpeTableOptions {
  /** Number of vPEIDs (GITS_TYPER / GICD_TYPER2.VID: at most 2^16). Default 2^16. */
  readonly vpeIdCount?: number;
  /** Largest VPT size in ID bits (GITS_TYPER.IDbits). Default 16, at most 20. */
  readonly maxIdBits?: number;
  /** Memory holding vLPI configuration tables (VMAPP VConf_addr). */
  readonly memory?: GuestMemory;
  /** Told about every doorbell. */
  readonly doorbell?: DoorbellHandler;
  /** Where the physical doorbell LPI is made pending (the vPE's RD). */
  readonly doorbellTarget?: LpiTarget;
  /** Told when a vLPI becomes pending for a resident vPE (so a vCPU can be kicked). */
  readonly onResidentVlpi?: (rd: number, vpeid: number, vintid: number) => void;
}

/** Cached highest pending vLPI not known (see {@link Vpe.highestPending}). */
const HP_UNKNOWN = -2;

/**
 * One virtual PE. Its pending bits are indexed (a summary bit per VPT word that
 * holds a pending bit) and its highest-priority pending enabled vLPI is cached
 * until a change can affect it: O(1) when cached, else O(VPT words / 32 + pending
 * vLPIs). Pending bits and configuration bytes change only through its methods.
 */
export class Vpe {
  /** Mapped by VMAPP V=1 on some ITS. */
  mapped = false;
  /** Target redistributor (VMAPP/VMOVP RDbase), −1 when unmapped. */
  rd = -1;
  vptAddr = 0;
  /** Number of vINTID bits of the VPT (VMAPP VPT_size + 1). */
  idBits = 0;
  vconfAddr = 0;
  defaultDoorbell = NO_DOORBELL;
  /** Redistributor on which the vPE is resident, −1 when not resident. */
  residentOn = -1;
  /** v4.1: a doorbell was requested when the vPE was descheduled and has not fired. */
  doorbellArmed = false;
  /** Pending bits indexed by vINTID (read-only outside the vPE table: use {@link Vpe.setPendingBit}). */
  pending = new Uint32Array(0);
  /** Configuration byte per vINTID: priority [7:2], enable [0]. Call {@link Vpe.configChanged} after writing it. */
  config = new Uint8Array(0);
  pendingCount = 0;
  /** Bit (w & 31) of word (w >> 5): word w of `pending` is not zero. */
  #summary = new Uint32Array(0);
  /** Highest-priority pending enabled vLPI, −1 for none, HP_UNKNOWN when it must be searched. */
  #hp = -1;
  /** Priority of #hp when it is ≥ 0. */
  #hpPrio = 256;

  constructor(readonly id: number) {}

  /** Whether `vintid` is a vLPI of this vPE's VPT. */
  inRange(vintid: number): boolean {
    return vintid >= LPI_BASE && vintid < this.config.length;
  }

  isPending(vintid: number): boolean {
    return this.inRange(vintid) && (this.pending[vintid >>> 5]! & (1 << (vintid & 31))) !== 0;
  }

  /** Installs a pending table and configuration (VMAPP with a new size, snapshot restore) and rebuilds the index. */
  resetTables(pending: Uint32Array<ArrayBuffer>, config: Uint8Array<ArrayBuffer>): void {
    this.pending = pending;
    this.config = config;
    this.#summary = new Uint32Array((pending.length + 31) >>> 5);
    this.rebuildIndex();
  }

  /** Recomputes pendingCount, the word summary and the cached highest vLPI from `pending`. */
  rebuildIndex(): void {
    const p = this.pending;
    const sum = this.#summary;
    sum.fill(0);
    let n = 0;
    for (let w = 0; w < p.length; w++) {
      let x = p[w]!;
      if (x === 0) continue;
      sum[w >>> 5]! |= 1 << (w & 31);
      while (x !== 0) {
        x &= x - 1;
        n++;
      }
    }
    this.pendingCount = n;
    this.#hp = n === 0 ? -1 : HP_UNKNOWN;
  }

  /** Sets the pending bit of in-range `vintid`; keeps the index. Returns whether it was clear. */
  setPendingBit(vintid: number): boolean {
    const w = vintid >>> 5;
    const bit = 1 << (vintid & 31);
    const old = this.pending[w]!;
    if ((old & bit) !== 0) return false;
    this.pending[w] = old | bit;
    this.#summary[w >>> 5]! |= 1 << (w & 31);
    this.pendingCount++;
    const hp = this.#hp;
    if (hp !== HP_UNKNOWN) {
      const c = this.config[vintid]!;
      const prio = c & 0xfc;
      if ((c & 1) === 1 && (hp < 0 || prio < this.#hpPrio || (prio === this.#hpPrio && vintid < hp))) {
        this.#hp = vintid;
        this.#hpPrio = prio;
      }
    }
    return true;
  }

  /** Clears the pending bit of in-range `vintid`; keeps the index. Returns whether it was set. */
  clearPendingBit(vintid: number): boolean {
    const w = vintid >>> 5;
    const bit = 1 << (vintid & 31);
    const old = this.pending[w]!;
    if ((old & bit) === 0) return false;
    const now = old & ~bit;
    this.pending[w] = now;
    if (now === 0) this.#summary[w >>> 5]! &= ~(1 << (w & 31));
    if (--this.pendingCount === 0) this.#hp = -1;
    else if (vintid === this.#hp) this.#hp = HP_UNKNOWN;
    return true;
  }

  /** Clears every pending bit (VMAPP PTZ). */
  clearAllPending(): void {
    this.pending.fill(0);
    this.#summary.fill(0);
    this.pendingCount = 0;
    this.#hp = -1;
  }

  /** A configuration byte changed: the cached highest vLPI is searched again when next asked. */
  configChanged(): void {
    if (this.pendingCount !== 0) this.#hp = HP_UNKNOWN;
  }

  /** Highest-priority pending enabled vLPI (lowest INTID on ties), or −1. */
  highestPending(): number {
    const hp = this.#hp;
    if (hp !== HP_UNKNOWN) return hp;
    const p = this.pending;
    const cfg = this.config;
    const sum = this.#summary;
    let best = -1;
    let bestPrio = 256;
    // Words below LPI_BASE / 32 hold no vLPI (a restored snapshot may still set bits there).
    const first = LPI_BASE >>> 5;
    for (let s = first >>> 5; s < sum.length; s++) {
      let words = sum[s]!;
      if (s === first >>> 5) words &= ~0 << (first & 31);
      while (words !== 0) {
        const w = (s << 5) | (31 - Math.clz32(words & -words));
        words &= words - 1;
        let bits = p[w]!;
        while (bits !== 0) {
          const id = (w << 5) | (31 - Math.clz32(bits & -bits));
          bits &= bits - 1;
          const c = cfg[id]!;
          if ((c & 1) === 1 && (c & 0xfc) < bestPrio) {
            bestPrio = c & 0xfc;
            best = id;
          }
        }
      }
    }
    this.#hp = best;
    this.#hpPrio = bestPrio;
    return best;
  }
}

/** Plain snapshot of a {@link VpeTable}. */
export interface VpeTableState {
  readonly version: 1;
  readonly vpes: readonly {
    id: number;
    rd: number;
    vptAddr: number;
    idBits: number;
    vconfAddr: number;
    defaultDoorbell: number;
    residentOn: number;
    doorbellArmed: boolean;
    pending: readonly number[];
    config: readonly (readonly [number, number])[];
  }[];
}

/** The vPE table shared by the ITSs and redistributors of one GIC. */
export class VpeTable {
  readonly vpeIdCount: number;
  readonly maxIdBits: number;
  readonly #vpes = new Map<number, Vpe>();

  constructor(private readonly options: VpeTableOptions = {}) {
    const n = options.vpeIdCount ?? 65536;
    if (!Number.isInteger(n) || n < 1 || n > 65536) throw new ConfigError(`VpeTable: vpeIdCount ${n} is not in 1..65536`);
    const bits = options.maxIdBits ?? 16;
    if (!Number.isInteger(bits) || bits < 14 || bits > 20) throw new ConfigError(`VpeTable: maxIdBits ${bits} is not in 14..20`);
    this.vpeIdCount = n;
    this.maxIdBits = bits;
  }

  /** The vPE `vpeid` if VMAPP mapped it. */
  get(vpeid: number): Vpe | undefined {
    const v = this.#vpes.get(vpeid);
    return v?.mapped === true ? v : undefined;
  }

  /** Every mapped vPE. */
  mappedVpes(): Vpe[] {
    return [...this.#vpes.values()].filter((v) => v.mapped);
  }

  /** VMAPP V=1: maps (or remaps) `vpeid` to `rd`. `ptz` says the VPT is known to be zero. */
  map(vpeid: number, rd: number, vptAddr: number, idBits: number, vconfAddr: number, doorbell: number, ptz: boolean): Vpe {
    let v = this.#vpes.get(vpeid);
    if (v === undefined) {
      v = new Vpe(vpeid);
      this.#vpes.set(vpeid, v);
    }
    const size = 2 ** idBits;
    if (v.config.length !== size) {
      const pending = new Uint32Array(size >>> 5);
      pending.set(v.pending.subarray(0, Math.min(v.pending.length, pending.length)));
      v.resetTables(pending, new Uint8Array(size));
    }
    if (ptz) v.clearAllPending();
    v.mapped = true;
    v.rd = rd;
    v.vptAddr = vptAddr;
    v.idBits = idBits;
    v.vconfAddr = vconfAddr;
    v.defaultDoorbell = doorbell;
    this.reloadConfig(v);
    return v;
  }

  /** VMAPP V=0: the vPE is no longer mapped (its pending state stays in the VPT). */
  unmap(vpeid: number): void {
    const v = this.#vpes.get(vpeid);
    if (v === undefined) return;
    v.mapped = false;
    v.rd = -1;
  }

  /** VMOVP: the vPE's redistributor becomes `rd` (and, with DB = 1, its default doorbell). */
  move(v: Vpe, rd: number, doorbell: number | undefined): void {
    v.rd = rd;
    if (doorbell !== undefined) v.defaultDoorbell = doorbell;
  }

  /** VINVALL: reloads every configuration byte of `v` from its vLPI configuration table. */
  reloadConfig(v: Vpe): void {
    const mem = this.options.memory;
    if (mem === undefined || v.vconfAddr === 0) return;
    for (let i = LPI_BASE; i < v.config.length; i++) v.config[i] = readConfig(mem, v.vconfAddr, i);
    v.configChanged();
  }

  /** INV on a virtual ITE: reloads one configuration byte. */
  reloadConfigOne(v: Vpe, vintid: number): void {
    const mem = this.options.memory;
    if (mem === undefined || v.vconfAddr === 0 || !v.inRange(vintid)) return;
    v.config[vintid] = readConfig(mem, v.vconfAddr, vintid);
    v.configChanged();
  }

  /** Sets a configuration byte directly (host API: the property update of its_map_vlpi). */
  setConfig(v: Vpe, vintid: number, priority: number, enabled: boolean): void {
    if (!v.inRange(vintid)) return;
    v.config[vintid] = (priority & 0xfc) | 2 | (enabled ? 1 : 0);
    v.configChanged();
  }

  /** Makes `vintid` pending on `v` (direct injection). Rings the doorbell of a non-resident vPE if armed. */
  inject(v: Vpe, vintid: number): void {
    if (!v.inRange(vintid)) return;
    v.setPendingBit(vintid);
    if (v.residentOn >= 0) {
      this.options.onResidentVlpi?.(v.residentOn, v.id, vintid);
    } else if (v.doorbellArmed && (v.config[vintid]! & 1) === 1) {
      this.#ring(v);
    }
  }

  /** Clears the pending state of `vintid` (CLEAR, DISCARD, acknowledge). */
  clear(v: Vpe, vintid: number): void {
    if (v.inRange(vintid)) v.clearPendingBit(vintid);
  }

  /** Whether `v` has a pending and enabled vLPI (GICR_VPENDBASER.PendingLast). */
  hasPendingEnabled(v: Vpe): boolean {
    return this.highestPending(v) >= 0;
  }

  /** Highest-priority pending enabled vLPI of `v` (lowest INTID on ties), or −1. */
  highestPending(v: Vpe): number {
    return v.pendingCount === 0 ? -1 : v.highestPending();
  }

  /** GICR_VPENDBASER.Valid 0 → 1 on `rd`. */
  schedule(v: Vpe, rd: number): void {
    v.residentOn = rd;
    v.doorbellArmed = false;
  }

  /** GICR_VPENDBASER.Valid 1 → 0. Returns PendingLast. */
  deschedule(v: Vpe, requestDoorbell: boolean): boolean {
    v.residentOn = -1;
    const pendingLast = this.hasPendingEnabled(v);
    v.doorbellArmed = requestDoorbell;
    if (requestDoorbell && pendingLast) this.#ring(v);
    return pendingLast;
  }

  #ring(v: Vpe): void {
    v.doorbellArmed = false;
    if (v.defaultDoorbell !== NO_DOORBELL && v.rd >= 0) this.options.doorbellTarget?.setLpiPending(v.rd, v.defaultDoorbell);
    this.options.doorbell?.(v.id, v.defaultDoorbell, v.rd);
  }

  /** Snapshot. */
  state(): VpeTableState {
    return {
      version: 1,
      vpes: this.mappedVpes().map((v) => ({
        id: v.id,
        rd: v.rd,
        vptAddr: v.vptAddr,
        idBits: v.idBits,
        vconfAddr: v.vconfAddr,
        defaultDoorbell: v.defaultDoorbell,
        residentOn: v.residentOn,
        doorbellArmed: v.doorbellArmed,
        pending: [...v.pending],
        config: [...v.config].flatMap((c, i) => (c !== 0 ? [[i, c] as const] : [])),
      })),
    };
  }

  /** Replaces the contents with a snapshot (the memory and callbacks stay as constructed). */
  loadState(s: VpeTableState): void {
    if ((s.version as number) !== 1) throw new ConfigError(`VpeTable state version ${String(s.version)} is not 1`);
    this.#vpes.clear();
    for (const e of s.vpes) {
      const v = new Vpe(e.id);
      v.mapped = true;
      v.rd = e.rd;
      v.vptAddr = e.vptAddr;
      v.idBits = e.idBits;
      v.vconfAddr = e.vconfAddr;
      v.defaultDoorbell = e.defaultDoorbell;
      v.residentOn = e.residentOn;
      v.doorbellArmed = e.doorbellArmed;
      const config = new Uint8Array(2 ** e.idBits);
      for (const [i, c] of e.config) config[i] = c;
      v.resetTables(Uint32Array.from(e.pending), config);
      this.#vpes.set(e.id, v);
    }
  }
}

function readConfig(mem: GuestMemory, base: number, vintid: number): number {
  const a = base + vintid - LPI_BASE;
  return mem.isRam(a) ? mem.readU8(a) : 0;
}
