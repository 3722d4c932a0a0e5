/**
 * One IMSIC interrupt file: the M-level, S-level or guest (VS) file of a hart,
 * and equally KVM's software file (the "MRIF" a vCPU uses without a VS-file).
 *
 * Spec: RISC-V AIA 1.0, riscv/riscv-aia src/IMSIC.adoc §3.1 (identities),
 * §3.2 (the 4 KiB MMIO page) and §3.8–§3.9 (indirectly accessed registers;
 * both decoded in imsic-access.ts), §3.10
 * (`*topei`), §3.11 (the delivery signal). Cross-check: QEMU
 * hw/intc/riscv_imsic.c; Linux arch/riscv/kvm/aia_imsic.c (software file,
 * VS-file move with OR-merge).
 *
 * Model notes. Pending∧enabled is kept as words plus a summary of non-zero
 * words, and the lowest pending∧enabled identity is cached: a `seteipnum`
 * write, a `*topei` read and a claim are O(1) and allocation-free; a summary
 * of the words that may be non-zero lets `reset` and `moveInto` (KVM's
 * VS-file move) visit only those. Reset state (UNSPECIFIED in the spec) is
 * zeros. `eithreshold` keeps the low 11 bits of a write, as KVM and QEMU do.
 */

import { Bitmap, ConfigError, Tracer, lowestSetBit, type AccessSize, type MmioDevice, type WideValue } from "@irqlab/sim";
import { EIDELIVERY_APLIC, IMSIC_MAX_ID, IMSIC_MIN_ID, TOPEI_ID_MASK, TOPEI_ID_SHIFT, isValidNrIds, type IregStatus, type Xlen } from "./imsic-constants.js";
import { iregRead, iregRmw, iregWrite, mmioRead, mmioWrite, type IregContext, type IregValue } from "./imsic-access.js";
import { STRICT_PROFILE, type AiaProfile } from "./profiles.js";

// Module-local copies of imported hot-path bindings: module runners such as
// vitest's turn each use of an imported binding into a getter call.
const lsb = lowestSetBit;
const TOPEI_SHIFT = TOPEI_ID_SHIFT;
const mmioWriteLocal = mmioWrite;

/** The delivery output of a file (mip.MEIP, mip.SEIP or one `hgeip` bit). */
export type DeliveryLine = (asserted: boolean) => void;

/** Construction options of an {@link ImsicFile}. */
export interface ImsicFileOptions {
  /** Number of identities N (63 ≤ N ≤ 2047, N = 64k − 1). */
  readonly nrIds: number;
  /** Name for traces, e.g. "hart0/vs1". */
  readonly name?: string;
  /** Where guest errors are counted and traced; a private tracer if omitted. */
  readonly tracer?: Tracer;
  /** Compatibility profile (default strict). */
  readonly profile?: AiaProfile;
  /** Whether `eidelivery` supports 0x40000000 (never for guest files); then it resets to it. */
  readonly eideliveryAplic?: boolean;
  /** The delivery output; may be connected later with {@link ImsicFile.connect}. */
  readonly onDelivery?: DeliveryLine;
}

/** Plain, versioned snapshot of a file. */
export interface ImsicFileState {
  readonly version: 1;
  readonly nrIds: number;
  readonly eidelivery: number;
  readonly eithreshold: number;
  /** `eip` as 32-bit words (identity i is bit i % 32 of word i / 32). */
  readonly eip: readonly number[];
  /** `eie`, same layout. */
  readonly eie: readonly number[];
}

/** One interrupt file. Implements the MMIO page as an {@link MmioDevice}. */
export class ImsicFile implements MmioDevice {
  /** Number of identities N. */
  readonly nrIds: number;
  /** Name used in traces. */
  readonly name: string;
  readonly #profile: AiaProfile;
  readonly #aplicOk: boolean;
  readonly #ctx: IregContext;
  readonly #eip: Bitmap;
  readonly #eie: Bitmap;
  readonly #eipW: Uint32Array;
  readonly #eieW: Uint32Array;
  /** Words of eip & eie. */
  readonly #pe: Uint32Array;
  #sumLo = 0;
  #sumHi = 0;
  /** Words that may be non-zero in `eip` or `eie` (bit w of lo for w < 32, of hi for w − 32): clears visit only these. */
  #dirtyLo = 0;
  #dirtyHi = 0;
  /** Lowest pending-and-enabled identity, 0 if none (threshold not applied). */
  #top = 0;
  #eidelivery = 0;
  #eithreshold = 0;
  #line = false;
  #onDelivery: DeliveryLine | undefined;

  /** @throws ConfigError naming N when it is not 64k − 1 within 63..2047. */
  constructor(options: ImsicFileOptions) {
    const n = options.nrIds;
    if (!isValidNrIds(n)) {
      throw new ConfigError(`IMSIC interrupt file: nrIds ${n} is not 64k - 1 within ${IMSIC_MIN_ID}..${IMSIC_MAX_ID}`);
    }
    this.nrIds = n;
    this.name = options.name ?? "imsic-file";
    this.#profile = options.profile ?? STRICT_PROFILE;
    this.#aplicOk = options.eideliveryAplic ?? false;
    this.#eip = new Bitmap(n + 1);
    this.#eie = new Bitmap(n + 1);
    this.#eipW = this.#eip.words;
    this.#eieW = this.#eie.words;
    this.#pe = new Uint32Array(this.#eipW.length);
    this.#onDelivery = options.onDelivery;
    this.#eidelivery = this.#aplicOk ? EIDELIVERY_APLIC : 0;
    const tracer = options.tracer ?? new Tracer();
    const track = tracer.track("aia", this.name, "device");
    this.#ctx = {
      profile: this.#profile,
      error: (kind, message) => {
        tracer.guestError(track, kind, `${this.name}: ${message}`);
      },
    };
  }

  /** Connects (or with undefined disconnects) the delivery output. Does not call it. */
  connect(line: DeliveryLine | undefined): void {
    this.#onDelivery = line;
  }

  /** Current level of the delivery output (IMSIC.adoc §3.11). */
  get deliveryAsserted(): boolean {
    return this.#line;
  }

  /** `eidelivery`. */
  get eidelivery(): number {
    return this.#eidelivery;
  }

  /** `eithreshold`. */
  get eithreshold(): number {
    return this.#eithreshold;
  }

  // ---- MMIO page (IMSIC.adoc §3.2; decoded in imsic-access.ts) ----

  /** MMIO load: every register reads zero; bad width or alignment is a guest error. */
  read(offset: number, size: AccessSize, wide: WideValue): number {
    return mmioRead(this.#ctx, offset, size, wide);
  }

  /** MMIO store: `seteipnum_le` / `seteipnum_be`; anything else is ignored and counted. */
  write(offset: number, size: AccessSize, value: number, _hi: number): void {
    mmioWriteLocal(this, this.#ctx, offset, size, value);
  }

  // ---- Host-side access (MSI injection, KVM software-file emulation) ----

  /**
   * Sets the pending bit of `id`, as a `seteipnum_le` write does. Returns
   * false (and changes nothing) if `id` is not an implemented identity.
   */
  setPending(id: number): boolean {
    if (!(id >= 1 && id <= this.nrIds) || !Number.isInteger(id)) return false;
    const w = id >>> 5;
    const b = 1 << (id & 31);
    const old = this.#eipW[w]!;
    if ((old & b) !== 0) return true;
    this.#eipW[w] = old | b;
    this.#markDirty(w);
    if ((this.#eieW[w]! & b) !== 0) {
      this.#pe[w]! |= b;
      if (w < 32) this.#sumLo |= 1 << w;
      else this.#sumHi |= 1 << (w - 32);
      if (this.#top === 0 || id < this.#top) {
        this.#top = id;
        this.#updateLine();
      }
    }
    return true;
  }

  /** Clears the pending bit of `id` (ignored for unimplemented identities). */
  clearPending(id: number): void {
    if (!(id >= 1 && id <= this.nrIds)) return;
    this.#eip.clear(id);
    this.#refreshWord(id >>> 5);
  }

  /** Sets or clears the enable bit of `id` (ignored for unimplemented identities). */
  setEnabled(id: number, on: boolean): void {
    if (!(id >= 1 && id <= this.nrIds)) return;
    this.#eie.assign(id, on);
    if (on) this.#markDirty(id >>> 5);
    this.#refreshWord(id >>> 5);
  }

  /** Pending bit of `id`. */
  isPending(id: number): boolean {
    return this.#eip.get(id);
  }

  /** Enable bit of `id`. */
  isEnabled(id: number): boolean {
    return this.#eie.get(id);
  }

  // ---- *topei (IMSIC.adoc §3.10) ----

  /** The identity `*topei` reports now: lowest pending∧enabled below a nonzero threshold, or 0. */
  topId(): number {
    const t = this.#top;
    const th = this.#eithreshold;
    return t !== 0 && (th === 0 || t < th) ? t : 0;
  }

  /** A read of `*topei`: identity in bits 26:16, priority (= identity) in bits 10:0, or 0. */
  readTopei(): number {
    const id = this.topId();
    return ((id << TOPEI_SHIFT) | id) >>> 0;
  }

  /**
   * A write of `*topei` (any value): claims the identity reported at the time
   * of the write, not one read earlier. Returns the identity claimed, or 0.
   */
  writeTopei(): number {
    const id = this.topId();
    if (id !== 0) {
      this.#eipW[id >>> 5]! &= ~(1 << (id & 31));
      this.#refreshWord(id >>> 5);
    }
    return id;
  }

  /** `csrrw rd, *topei, x0`: the atomic read and claim. Returns the value read. */
  swapTopei(): number {
    const v = this.readTopei();
    this.writeTopei();
    return v;
  }

  // ---- Indirect registers by *iselect (IMSIC.adoc §3.8–§3.9; decoded in imsic-access.ts) ----

  /** Reads register `isel` (XLEN wide) into `out`; returns `IREG_OK`, `IREG_ILLEGAL` or `IREG_EXIT_TO_USER`. */
  readIreg(isel: number, xlen: Xlen, out: IregValue): IregStatus {
    return iregRead(this, this.#ctx, isel, xlen, out);
  }

  /** Writes the register `isel` selects (`lo`/`hi` halves; `hi` ignored when XLEN is 32). */
  writeIreg(isel: number, xlen: Xlen, lo: number, hi: number): IregStatus {
    return iregWrite(this, this.#ctx, isel, xlen, lo, hi);
  }

  /** CSR read-modify-write: new = (old & ~mask) | (value & mask), old value in `out` (KVM's SW-file `*ireg`). */
  rmwIreg(isel: number, xlen: Xlen, valueLo: number, valueHi: number, maskLo: number, maskHi: number, out: IregValue): IregStatus {
    return iregRmw(this, this.#ctx, isel, xlen, valueLo, valueHi, maskLo, maskHi, out);
  }

  // ---- Host-side register access (no guest checks, no guest errors) ----

  /** Number of 32-bit `eip`/`eie` words, (N + 1) / 32. */
  get eixWords(): number {
    return this.#eipW.length;
  }

  /** Word `k` of `eip` (or `eie` when `enable`): identities 32k..32k+31; 0 beyond N. */
  readEix(enable: boolean, k: number): number {
    return (enable ? this.#eieW : this.#eipW)[k] ?? 0;
  }

  /** Stores word `k` of `eip` (or `eie`): bit 0 of word 0 and words beyond N are read-only zero. */
  writeEix(enable: boolean, k: number, value: number): void {
    const words = enable ? this.#eieW : this.#eipW;
    if (!(k >= 0 && k < words.length)) return;
    words[k] = (k === 0 ? value & ~1 : value) >>> 0; // identity 0 is never valid
    this.#markDirty(k);
    this.#refreshAll();
  }

  /** Writes `eidelivery` (WARL: 0, 1, and 0x40000000 where supported). */
  writeEidelivery(value: number): void {
    this.#eidelivery = this.#warlDelivery(value >>> 0);
    this.#updateLine();
  }

  /** Writes `eithreshold` (the low 11 bits are kept, as KVM and QEMU do). */
  writeEithreshold(value: number): void {
    this.#eithreshold = value & TOPEI_ID_MASK;
    this.#updateLine();
  }

  // ---- Snapshot, restore, merge (KVM moves a guest file) ----

  /** A plain, versioned copy of the architectural state. */
  state(): ImsicFileState {
    return {
      version: 1,
      nrIds: this.nrIds,
      eidelivery: this.#eidelivery,
      eithreshold: this.#eithreshold,
      eip: this.#eip.toArray(),
      eie: this.#eie.toArray(),
    };
  }

  /** A new file holding `state` (options other than nrIds from `options`). */
  static fromState(state: ImsicFileState, options: Omit<ImsicFileOptions, "nrIds"> = {}): ImsicFile {
    const f = new ImsicFile({ ...options, nrIds: state.nrIds });
    f.restore(state);
    return f;
  }

  /**
   * Replaces the whole state with `state`; the delivery output follows.
   * @throws ConfigError if the snapshot's version or nrIds does not match.
   */
  restore(state: ImsicFileState): void {
    this.#load(state, false);
  }

  /**
   * Merges `state` in as KVM does when it moves a guest file to another hart
   * (`imsic_vsfile_local_update`): `eip` and `eie` are ORed in, so MSIs that
   * already landed here survive; `eithreshold` and then `eidelivery` are overwritten.
   * @throws ConfigError if the snapshot's version or nrIds does not match.
   */
  mergeFrom(state: ImsicFileState): void {
    this.#load(state, true);
  }

  /** Returns the state and clears the file (KVM's read with clear = true). */
  readAndClear(): ImsicFileState {
    const s = this.state();
    this.reset(0);
    return s;
  }

  /**
   * KVM's move of a guest file (imsic_vsfile_read with clear, then
   * imsic_vsfile_local_update / imsic_swfile_update) without a snapshot:
   * `target.mergeFrom(this.readAndClear())` in one pass over the words that
   * may be non-zero, with the same line changes in the same order (this
   * file's callback runs first and already sees `target`'s merged words).
   * N may differ: words beyond `target`'s identities are dropped, missing
   * ones are zero.
   */
  moveInto(target: ImsicFile): void {
    const th = this.#eithreshold;
    const del = this.#eidelivery;
    const lo = this.#dirtyLo;
    const hi = this.#dirtyHi;
    this.#dirtyLo = this.#dirtyHi = this.#sumLo = this.#sumHi = this.#top = 0; // before the pass: `target` may be this file
    if (lo !== 0) this.#moveWords(target, 0, lo);
    if (hi !== 0) this.#moveWords(target, 32, hi);
    this.#eithreshold = this.#eidelivery = 0;
    this.#updateLine(); // this file's line drops before target's is evaluated
    target.#findTop();
    target.#eithreshold = th & TOPEI_ID_MASK;
    target.#eidelivery = target.#warlDelivery(del);
    target.#updateLine();
  }

  /** Zeroes `eip`, `eie`, `eithreshold`; `eidelivery` becomes `eidelivery` (default 0). */
  reset(eidelivery = 0): void {
    if (this.#dirtyLo !== 0) this.#zeroWords(0, this.#dirtyLo);
    if (this.#dirtyHi !== 0) this.#zeroWords(32, this.#dirtyHi);
    this.#dirtyLo = this.#dirtyHi = this.#sumLo = this.#sumHi = this.#top = this.#eithreshold = 0;
    this.#eidelivery = this.#warlDelivery(eidelivery);
    this.#updateLine();
  }

  // ---- helpers ----

  #warlDelivery(v: number): number {
    return v === EIDELIVERY_APLIC && this.#aplicOk ? EIDELIVERY_APLIC : v & 1;
  }

  /** Loads (or with `merge` ORs in) a snapshot; one line update at the end. */
  #load(state: ImsicFileState, merge: boolean): void {
    if ((state.version as number) !== 1) throw new ConfigError(`IMSIC file snapshot version ${String(state.version)} is not 1`);
    if (state.nrIds !== this.nrIds) {
      throw new ConfigError(`IMSIC file snapshot nrIds ${state.nrIds} does not match this file's ${this.nrIds}`);
    }
    for (let i = 0; i < this.#eipW.length; i++) {
      this.#eipW[i] = (merge ? this.#eipW[i]! : 0) | ((state.eip[i] ?? 0) >>> 0);
      this.#eieW[i] = (merge ? this.#eieW[i]! : 0) | ((state.eie[i] ?? 0) >>> 0);
      if ((this.#eipW[i]! | this.#eieW[i]!) !== 0) this.#markDirty(i);
    }
    this.#eipW[0]! &= ~1; // identity 0 is never valid
    this.#eieW[0]! &= ~1;
    this.#eithreshold = state.eithreshold & TOPEI_ID_MASK;
    this.#eidelivery = this.#warlDelivery(state.eidelivery);
    this.#refreshAll();
  }

  /** Zeroes the words `bits` names (word base + bit). */
  #zeroWords(base: number, bits: number): void {
    for (; bits !== 0; bits &= bits - 1) {
      const w = base + lsb(bits);
      this.#eipW[w] = this.#eieW[w] = this.#pe[w] = 0;
    }
  }

  /** moveInto's pass over the words `bits` names (word base + bit): zeroes each here and ORs it into `target`. */
  #moveWords(target: ImsicFile, base: number, bits: number): void {
    const p = this.#eipW;
    const e = this.#eieW;
    const tp = target.#eipW;
    const te = target.#eieW;
    const tpe = target.#pe;
    const m = tp.length;
    let moved = 0;
    let nonzero = 0;
    while (bits !== 0) {
      const bit = bits & -bits;
      bits ^= bit;
      const w = base + lsb(bit);
      const pw = p[w]!;
      const ew = e[w]!;
      p[w] = 0; // before the OR: a move into itself keeps the words
      e[w] = 0;
      this.#pe[w] = 0;
      if (w < m) { // beyond target's identities: dropped
        const np = tp[w]! | pw;
        const ne = te[w]! | ew;
        tp[w] = np;
        te[w] = ne;
        tpe[w] = np & ne;
        moved |= bit;
        if ((np & ne) !== 0) nonzero |= bit;
      }
    }
    if (base === 0) {
      target.#dirtyLo |= moved;
      target.#sumLo |= nonzero; // an OR-merge only adds bits (and a file moved into itself starts from zero)
    } else {
      target.#dirtyHi |= moved;
      target.#sumHi |= nonzero;
    }
  }

  #markDirty(w: number): void {
    if (w < 32) this.#dirtyLo |= 1 << w;
    else this.#dirtyHi |= 1 << (w - 32);
  }

  #refreshWord(w: number): void {
    const v = (this.#eipW[w]! & this.#eieW[w]!) >>> 0;
    this.#pe[w] = v;
    if (w < 32) this.#sumLo = v !== 0 ? this.#sumLo | (1 << w) : this.#sumLo & ~(1 << w);
    else this.#sumHi = v !== 0 ? this.#sumHi | (1 << (w - 32)) : this.#sumHi & ~(1 << (w - 32));
    this.#findTop();
    this.#updateLine();
  }

  #refreshAll(): void {
    let lo = 0;
    let hi = 0;
    for (let w = 0; w < this.#pe.length; w++) {
      const v = (this.#eipW[w]! & this.#eieW[w]!) >>> 0;
      this.#pe[w] = v;
      if (v !== 0) {
        if (w < 32) lo |= 1 << w;
        else hi |= 1 << (w - 32);
      }
    }
    this.#sumLo = lo;
    this.#sumHi = hi;
    this.#findTop();
    this.#updateLine();
  }

  #findTop(): void {
    let w: number;
    if (this.#sumLo !== 0) w = lsb(this.#sumLo);
    else if (this.#sumHi !== 0) w = 32 + lsb(this.#sumHi);
    else {
      this.#top = 0;
      return;
    }
    this.#top = (w << 5) + lsb(this.#pe[w]!);
  }

  #updateLine(): void {
    const id = this.#top;
    const th = this.#eithreshold;
    const on = this.#eidelivery === 1 && id !== 0 && (th === 0 || id < th);
    if (on !== this.#line) {
      this.#line = on;
      this.#onDelivery?.(on);
    }
  }
}
