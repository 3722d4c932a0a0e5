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
 * Model notes. The `eip`/`eie` words live in the internal base class
 * `ImsicEix` (imsic-eix.ts), which caches the lowest pending∧enabled identity: a
 * `seteipnum` write, a `*topei` read and a claim are O(1) and
 * allocation-free, and `reset` and `moveInto` (KVM's VS-file move) visit only
 * the words that may be non-zero. Reset state (UNSPECIFIED in the spec) is
 * zeros. `eithreshold` keeps the low 11 bits of a write, as KVM and QEMU do.
 */

import { ConfigError, Tracer, type AccessSize, type MmioDevice, type TrackId, type WideValue } from "@irqlab/sim";
import { EIDELIVERY_APLIC, IMSIC_MAX_ID, IMSIC_MIN_ID, TOPEI_ID_MASK, TOPEI_ID_SHIFT, isValidNrIds, type IregStatus, type Xlen } from "./imsic-constants.js";
import { ImsicEix } from "./imsic-eix.js";
import { iregRead, iregRmw, iregWrite, mmioRead, mmioWrite, type IregContext, type IregValue } from "./imsic-access.js";
import { STRICT_PROFILE, type AiaProfile } from "./profiles.js";

/** The delivery output of a file (mip.MEIP, mip.SEIP or one `hgeip` bit). */
export type DeliveryLine = (asserted: boolean) => void;

/**
 * An object the delivery outputs of several files drive ({@link ImsicFile.connectTarget}),
 * each told apart by the input number it was connected with: a hart's files
 * drive the hart itself, with no function made per file.
 */
export interface DeliveryTarget {
  deliveryChanged(input: number, asserted: boolean): void;
}

/** A {@link DeliveryLine} as a target (its input number unused). */
class LineTarget implements DeliveryTarget {
  constructor(private readonly line: DeliveryLine) {}

  deliveryChanged(_input: number, asserted: boolean): void {
    this.line(asserted);
  }
}

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

/**
 * @internal Refuses an identity count no file can have (the check an
 * {@link ImsicFile} makes when it is created).
 * @throws ConfigError naming N when it is not 64k − 1 within 63..2047.
 */
export function checkNrIds(n: number): void {
  if (!isValidNrIds(n)) {
    throw new ConfigError(`IMSIC interrupt file: nrIds ${n} is not 64k - 1 within ${IMSIC_MIN_ID}..${IMSIC_MAX_ID}`);
  }
}

/**
 * What the register decoders need of a file: its profile and where its guest
 * errors go. An object of its own rather than a closure: a host of 1024 harts
 * has up to 64,512 guest files, and a closure with its context took about 80
 * bytes more a file.
 */
class FileContext implements IregContext {
  // Registered at the first guest error unless the tracer records events from the start: a host makes
  // its guest files as vCPUs first move onto its harts, and registering a track was a fifth of making one.
  #track: TrackId;

  constructor(
    readonly profile: AiaProfile,
    private readonly tracer: Tracer,
    private readonly name: string,
  ) {
    this.#track = tracer.enabled ? tracer.track("aia", name, "device") : -1;
  }

  error(kind: string, message: string): void {
    if (this.#track === -1) this.#track = this.tracer.track("aia", this.name, "device");
    this.tracer.guestError(this.#track, kind, `${this.name}: ${message}`);
  }
}

/** One interrupt file. Implements the MMIO page as an {@link MmioDevice}. */
export class ImsicFile extends ImsicEix implements MmioDevice {
  /** Number of identities N. */
  readonly nrIds: number;
  // What a seteipnum and a *topei claim read and write first, beside the base class's words, so that a
  // delivery touches as few of the file's cache lines as it can (a host of thousands of guest files).
  #eidelivery = 0;
  #eithreshold = 0;
  #line = false;
  #target: DeliveryTarget | undefined;
  #input = 0;
  /** Name used in traces. */
  readonly name: string;
  readonly #profile: AiaProfile;
  readonly #aplicOk: boolean;
  readonly #ctx: IregContext;

  /** @throws ConfigError naming N when it is not 64k − 1 within 63..2047. */
  constructor(options: ImsicFileOptions) {
    const n = options.nrIds;
    checkNrIds(n);
    super(n);
    this.nrIds = n;
    this.name = options.name ?? "imsic-file";
    this.#profile = options.profile ?? STRICT_PROFILE;
    this.#aplicOk = options.eideliveryAplic ?? false;
    if (options.onDelivery !== undefined) this.#target = new LineTarget(options.onDelivery);
    this.#eidelivery = this.#aplicOk ? EIDELIVERY_APLIC : 0;
    const tracer = options.tracer ?? new Tracer();
    this.#ctx = new FileContext(this.#profile, tracer, this.name);
  }

  /** Connects (or with undefined disconnects) the delivery output. Does not call it. */
  connect(line: DeliveryLine | undefined): void {
    this.connectTarget(line === undefined ? undefined : new LineTarget(line), 0);
  }

  /**
   * Connects the delivery output to `target`, which hears it as input number
   * `input` (or with undefined disconnects it). Does not call it.
   */
  connectTarget(target: DeliveryTarget | undefined, input: number): void {
    this.#target = target;
    this.#input = input;
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
    mmioWrite(this, this.#ctx, offset, size, value);
  }

  // ---- Host-side access (MSI injection, KVM software-file emulation) ----

  /**
   * Loads, all at once, the state of this file that a `seteipnum` or an MSI
   * reads: its fields and its first words. A host's guest files are
   * thousands, and the one an MSI reaches has usually left the cache; its
   * caller (KVM's injection) asks for it beside the vCPU's state, so that the
   * CPU fetches them side by side rather than one after the other. Returns a
   * number of no meaning for the caller to keep, so that the compiler cannot
   * drop the loads.
   */
  prefetch(): number {
    return this.eixPrefetch() + (this.#input === 0 ? 0 : 1);
  }

  /**
   * Sets the pending bit of `id`, as a `seteipnum_le` write does. Returns
   * false (and changes nothing) if `id` is not an implemented identity.
   */
  setPending(id: number): boolean {
    if (!(id >= 1 && id <= this.nrIds) || !Number.isInteger(id)) return false;
    if (this.eixSetPending(id)) this.#updateLine();
    return true;
  }

  /** Clears the pending bit of `id` (ignored for unimplemented identities). */
  clearPending(id: number): void {
    if (!(id >= 1 && id <= this.nrIds)) return;
    this.eixClearPending(id);
    this.#updateLine();
  }

  /** Sets or clears the enable bit of `id` (ignored for unimplemented identities). */
  setEnabled(id: number, on: boolean): void {
    if (!(id >= 1 && id <= this.nrIds)) return;
    this.eixSetEnabled(id, on);
    this.#updateLine();
  }

  /** Pending bit of `id`. */
  isPending(id: number): boolean {
    return this.eixIsPending(id);
  }

  /** Enable bit of `id`. */
  isEnabled(id: number): boolean {
    return this.eixIsEnabled(id);
  }

  // ---- *topei (IMSIC.adoc §3.10) ----

  /** The identity `*topei` reports now: lowest pending∧enabled below a nonzero threshold, or 0. */
  topId(): number {
    const t = this.eixTop;
    const th = this.#eithreshold;
    return t !== 0 && (th === 0 || t < th) ? t : 0;
  }

  /** A read of `*topei`: identity in bits 26:16, priority (= identity) in bits 10:0, or 0. */
  readTopei(): number {
    const id = this.topId();
    return ((id << TOPEI_ID_SHIFT) | id) >>> 0;
  }

  /**
   * A write of `*topei` (any value): claims the identity reported at the time
   * of the write, not one read earlier. Returns the identity claimed, or 0.
   */
  writeTopei(): number {
    const id = this.topId();
    if (id !== 0) {
      this.eixClearPending(id);
      this.#updateLine();
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
    return this.eixCount;
  }

  /** Word `k` of `eip` (or `eie` when `enable`): identities 32k..32k+31; 0 beyond N. */
  readEix(enable: boolean, k: number): number {
    return this.eixRead(enable, k);
  }

  /** Stores word `k` of `eip` (or `eie`): bit 0 of word 0 and words beyond N are read-only zero. */
  writeEix(enable: boolean, k: number, value: number): void {
    this.eixWrite(enable, k, value);
    this.#updateLine();
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
      eip: this.eixEipArray(),
      eie: this.eixEieArray(),
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
    this.eixMoveInto(target);
    this.#eithreshold = this.#eidelivery = 0;
    this.#updateLine(); // this file's line drops before target's is evaluated
    target.#movedIn(th, del);
  }

  /** Zeroes `eip`, `eie`, `eithreshold`; `eidelivery` becomes `eidelivery` (default 0). */
  reset(eidelivery = 0): void {
    this.eixClear();
    this.#eithreshold = 0;
    this.#eidelivery = this.#warlDelivery(eidelivery);
    this.#updateLine();
  }

  // ---- helpers ----

  /** The end of a move into this file: `top`, then `eithreshold` and `eidelivery` from the source, then the line. */
  #movedIn(th: number, del: number): void {
    this.eixFindTop();
    this.#eithreshold = th & TOPEI_ID_MASK;
    this.#eidelivery = this.#warlDelivery(del);
    this.#updateLine();
  }

  #warlDelivery(v: number): number {
    return v === EIDELIVERY_APLIC && this.#aplicOk ? EIDELIVERY_APLIC : v & 1;
  }

  /** Loads (or with `merge` ORs in) a snapshot; one line update at the end. */
  #load(state: ImsicFileState, merge: boolean): void {
    if ((state.version as number) !== 1) throw new ConfigError(`IMSIC file snapshot version ${String(state.version)} is not 1`);
    if (state.nrIds !== this.nrIds) {
      throw new ConfigError(`IMSIC file snapshot nrIds ${state.nrIds} does not match this file's ${this.nrIds}`);
    }
    this.eixLoad(state.eip, state.eie, merge);
    this.#eithreshold = state.eithreshold & TOPEI_ID_MASK;
    this.#eidelivery = this.#warlDelivery(state.eidelivery);
    this.#updateLine();
  }

  #updateLine(): void {
    const id = this.eixTop;
    const th = this.#eithreshold;
    const on = this.#eidelivery === 1 && id !== 0 && (th === 0 || id < th);
    if (on !== this.#line) {
      this.#line = on;
      this.#target?.deliveryChanged(this.#input, on);
    }
  }
}
