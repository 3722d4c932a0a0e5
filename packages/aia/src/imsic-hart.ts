/**
 * The IMSIC of one hart: an M-level interrupt file, an optional S-level file
 * and GEILEN guest files, with the guest files' delivery signals gathered in
 * `hgeip` and the supervisor guest external interrupt (SGEIP) derived from
 * `hgeip & hgeie`.
 *
 * Spec: RISC-V AIA 1.0, riscv/riscv-aia src/IMSIC.adoc §3.1 (files of an
 * IMSIC, guest files 1..GEILEN of one size), §3.11 (delivery: M → mip.MEIP,
 * S → mip.SEIP, guest file g → hgeip bit g); src/VSLevel.adoc §6.3.3
 * (`hgeie`/`hgeip`, bit 0 read-only zero; hip.SGEIP = OR(hgeip & hgeie));
 * priv spec H extension for `hstatus.VGEIN`. Cross-check: QEMU
 * hw/intc/riscv_imsic.c (page i > 0 drives hgeip[i]); Linux
 * arch/riscv/kvm/aia.c (hgei_interrupt reads hgeip & hgeie).
 */

import { ConfigError, Tracer, type MmioBus } from "@irqlab/sim";
import { GEILEN_MAX_RV32, GEILEN_MAX_RV64, IMSIC_MMIO_PAGE_SIZE, type Xlen } from "./imsic-constants.js";
import { ImsicFile, checkNrIds, type DeliveryTarget, type ImsicFileState } from "./imsic-file.js";
import type { ImsicLayout } from "./imsic-layout.js";
import { STRICT_PROFILE, type AiaProfile } from "./profiles.js";

/** The outputs of a hart's IMSIC. Each is optional; each is called only on a change. */
export interface ImsicHartLines {
  /** mip.MEIP from the M-level file. */
  meip?(asserted: boolean): void;
  /** mip.SEIP from the S-level file. */
  seip?(asserted: boolean): void;
  /** `hgeip` bit `guest` from guest file `guest`. */
  hgeip?(guest: number, asserted: boolean): void;
  /** hip.SGEIP = OR over g of hgeip[g] & hgeie[g]. */
  sgeip?(asserted: boolean): void;
}

/** Construction options of an {@link ImsicHart}. */
export interface ImsicHartOptions {
  /** Hart index, for names. */
  readonly hartIndex: number;
  /** Identities of the M-level file. */
  readonly mIds: number;
  /** Identities of the S-level file; omit for a hart without S-mode (then GEILEN must be 0). */
  readonly sIds?: number;
  /** Identities of each guest file (default sIds). */
  readonly guestIds?: number;
  /** Number of guest files (default 0). At most 63 on RV64, 31 on RV32. */
  readonly geilen?: number;
  /** XLEN, for the GEILEN limit (default 64). */
  readonly xlen?: Xlen;
  /** Whether M and S files support `eidelivery` = 0x40000000. */
  readonly eideliveryAplic?: boolean;
  readonly tracer?: Tracer;
  readonly profile?: AiaProfile;
  readonly lines?: ImsicHartLines;
}

/** Plain, versioned snapshot of a hart's IMSIC. */
export interface ImsicHartState {
  readonly version: 1;
  readonly m: ImsicFileState;
  readonly s: ImsicFileState | null;
  /** Guest files 1..GEILEN, in order. */
  readonly guests: readonly ImsicFileState[];
  readonly hgeieLo: number;
  readonly hgeieHi: number;
}

/** The input numbers of the hart's M- and S-level files (guest file g is input g, 1..GEILEN). */
const M_INPUT = -1;
const S_INPUT = 0;

/** One hart's IMSIC. */
export class ImsicHart implements DeliveryTarget {
  readonly hartIndex: number;
  readonly geilen: number;
  /** The M-level file. */
  readonly m: ImsicFile;
  /** The S-level file, if the hart has S-mode. */
  readonly s: ImsicFile | undefined;
  /**
   * Guest file g at g − 1, made at first use: a file nothing has reached is
   * in its reset state whether it exists or not, and a host of 1024 harts
   * with GEILEN 63 then holds the few thousand files its vCPUs use rather
   * than 64,512 (some 50 MB of heap that the files in use were spread over).
   */
  readonly #guests: (ImsicFile | undefined)[];
  readonly #guestFileOptions: { readonly nrIds: number; readonly tracer: Tracer; readonly profile: AiaProfile; readonly base: string };
  readonly #lines: ImsicHartLines;
  #hgeipLo = 0;
  #hgeipHi = 0;
  #hgeieLo = 0;
  #hgeieHi = 0;
  #sgeip = false;
  readonly #hgeMaskLo: number;
  readonly #hgeMaskHi: number;

  /** @throws ConfigError naming GEILEN over the limit, or a bad identity count. */
  constructor(o: ImsicHartOptions) {
    const xlen = o.xlen ?? 64;
    const max = xlen === 64 ? GEILEN_MAX_RV64 : GEILEN_MAX_RV32;
    const geilen = o.geilen ?? 0;
    if (!Number.isInteger(geilen) || geilen < 0 || geilen > max) {
      throw new ConfigError(`IMSIC hart ${o.hartIndex}: GEILEN ${geilen} is not within 0..${max} on RV${xlen}`);
    }
    if (geilen > 0 && o.sIds === undefined) {
      throw new ConfigError(`IMSIC hart ${o.hartIndex}: GEILEN ${geilen} needs an S-level file (sIds)`);
    }
    this.hartIndex = o.hartIndex;
    this.geilen = geilen;
    // The writable hgeie bits 1..GEILEN, fixed for the hart's life (writeHgeie runs at every vCPU block).
    // These words, like hgeip and hgeie, are kept as signed 32-bit integers, which a field holds as they
    // are; an unsigned word with bit 31 set would be a double, in a box of its own.
    this.#hgeMaskLo = geilen >= 31 ? 0xfffffffe | 0 : ((1 << (geilen + 1)) - 2) | 0;
    this.#hgeMaskHi = geilen < 32 ? 0 : geilen >= 63 ? -1 : ((1 << (geilen - 31)) - 1) | 0;
    this.#lines = o.lines ?? {};
    const tracer = o.tracer ?? new Tracer();
    const profile = o.profile ?? STRICT_PROFILE;
    const base = `imsic${o.hartIndex}`;
    const aplic = o.eideliveryAplic ?? false;
    this.m = new ImsicFile({ nrIds: o.mIds, name: `${base}/m`, tracer, profile, eideliveryAplic: aplic });
    this.m.connectTarget(this, M_INPUT);
    if (o.sIds !== undefined) {
      this.s = new ImsicFile({ nrIds: o.sIds, name: `${base}/s`, tracer, profile, eideliveryAplic: aplic });
      this.s.connectTarget(this, S_INPUT);
    }
    const gIds = o.guestIds ?? o.sIds ?? 0;
    // Checked now, as making the files would check it, although they are made at first use.
    if (geilen > 0) checkNrIds(gIds);
    this.#guests = new Array<ImsicFile | undefined>(geilen).fill(undefined);
    this.#guestFileOptions = { nrIds: gIds, tracer, profile, base };
  }

  /** Guest file `g` (1..GEILEN, checked by the caller), made if this is its first use. */
  #guest(g: number): ImsicFile {
    let f = this.#guests[g - 1];
    if (f === undefined) {
      const { nrIds, tracer, profile, base } = this.#guestFileOptions;
      f = new ImsicFile({ nrIds, name: `${base}/g${g}`, tracer, profile });
      f.connectTarget(this, g);
      this.#guests[g - 1] = f;
    }
    return f;
  }

  /**
   * Guest file `guest` (1..GEILEN).
   * @throws ConfigError naming the index when out of range (host misuse).
   */
  guestFile(guest: number): ImsicFile {
    if (!Number.isInteger(guest) || guest < 1 || guest > this.geilen) {
      throw new ConfigError(`IMSIC hart ${this.hartIndex}: guest file ${guest} is not within 1..${this.geilen}`);
    }
    return this.#guest(guest);
  }

  /** The file `vsiselect`/`vsireg`/`vstopei` reach for `hstatus.VGEIN` = `vgein`, or undefined if VGEIN is not valid. */
  vsFile(vgein: number): ImsicFile | undefined {
    return Number.isInteger(vgein) && vgein >= 1 && vgein <= this.geilen ? this.#guest(vgein) : undefined;
  }

  /** All guest files, index 0 holding guest file 1 (those not used yet are made now). */
  guestFiles(): readonly ImsicFile[] {
    const all: ImsicFile[] = [];
    for (let g = 1; g <= this.geilen; g++) all.push(this.#guest(g));
    return all;
  }

  /** `hgeip` bits 31:0 (bit g = delivery signal of guest file g). */
  get hgeipLo(): number {
    return this.#hgeipLo >>> 0;
  }

  /** `hgeip` bits 63:32. */
  get hgeipHi(): number {
    return this.#hgeipHi >>> 0;
  }

  /** `hgeie` bits 31:0. */
  get hgeieLo(): number {
    return this.#hgeieLo >>> 0;
  }

  /** `hgeie` bits 63:32. */
  get hgeieHi(): number {
    return this.#hgeieHi >>> 0;
  }

  /** hgeip bit `guest`. */
  hgeip(guest: number): boolean {
    if (guest < 1 || guest > this.geilen) return false;
    return ((guest < 32 ? this.#hgeipLo >>> guest : this.#hgeipHi >>> (guest - 32)) & 1) === 1;
  }

  /** hip.SGEIP. */
  get sgeipAsserted(): boolean {
    return this.#sgeip;
  }

  /** Writes `hgeie`: bit 0 and bits above GEILEN are read-only zero. */
  writeHgeie(lo: number, hi = 0): void {
    this.#hgeieLo = lo & this.#hgeMaskLo;
    this.#hgeieHi = hi & this.#hgeMaskHi;
    this.#updateSgeip();
  }

  /**
   * Maps every file's page onto `bus` where `layout` puts hart `hart` of
   * `group`. Region names are `<prefix>imsic-m/<g>/<h>`, `...imsic-s/<g>/<h>`,
   * `...imsic-s/<g>/<h>/guest<n>`.
   * @throws RegionOverlapError if a page is taken; ConfigError if the layout has fewer guest pages.
   */
  mapInto(bus: MmioBus, layout: ImsicLayout, group: number, hart: number, prefix = ""): void {
    if (layout.geilen < this.geilen) {
      throw new ConfigError(`IMSIC hart ${this.hartIndex}: layout has ${layout.geilen} guest pages, hart has GEILEN ${this.geilen}`);
    }
    bus.map(layout.mFileAddress(group, hart), IMSIC_MMIO_PAGE_SIZE, this.m, `${prefix}imsic-m/${group}/${hart}`);
    if (this.s === undefined) return;
    bus.map(layout.sFileAddress(group, hart, 0), IMSIC_MMIO_PAGE_SIZE, this.s, `${prefix}imsic-s/${group}/${hart}`);
    for (let g = 1; g <= this.geilen; g++) {
      bus.map(layout.sFileAddress(group, hart, g), IMSIC_MMIO_PAGE_SIZE, this.guestFile(g), `${prefix}imsic-s/${group}/${hart}/guest${g}`);
    }
  }

  /** A plain, versioned copy of every file and `hgeie`. */
  state(): ImsicHartState {
    return {
      version: 1,
      m: this.m.state(),
      s: this.s?.state() ?? null,
      guests: this.guestFiles().map((f) => f.state()),
      hgeieLo: this.hgeieLo,
      hgeieHi: this.hgeieHi,
    };
  }

  /**
   * Restores every file and `hgeie`; the outputs follow.
   * @throws ConfigError when the snapshot's shape does not match this hart.
   */
  restore(state: ImsicHartState): void {
    if ((state.version as number) !== 1) throw new ConfigError(`IMSIC hart snapshot version ${String(state.version)} is not 1`);
    if (state.guests.length !== this.geilen || (state.s === null) !== (this.s === undefined)) {
      throw new ConfigError(`IMSIC hart ${this.hartIndex}: snapshot has ${state.guests.length} guest files, hart has ${this.geilen}`);
    }
    this.m.restore(state.m);
    if (this.s !== undefined && state.s !== null) this.s.restore(state.s);
    state.guests.forEach((g, i) => {
      this.#guest(i + 1).restore(g);
    });
    this.writeHgeie(state.hgeieLo, state.hgeieHi);
  }

  /**
   * @internal The output of one of this hart's files changed (they are
   * connected to the hart, guest file g as input g): the hart's lines follow.
   */
  deliveryChanged(input: number, asserted: boolean): void {
    if (input > 0) this.#guestLine(input, asserted);
    else if (input === S_INPUT) this.#lines.seip?.(asserted);
    else this.#lines.meip?.(asserted);
  }

  #guestLine(g: number, on: boolean): void {
    if (g < 32) this.#hgeipLo = on ? this.#hgeipLo | (1 << g) : this.#hgeipLo & ~(1 << g);
    else this.#hgeipHi = on ? this.#hgeipHi | (1 << (g - 32)) : this.#hgeipHi & ~(1 << (g - 32));
    this.#lines.hgeip?.(g, on);
    this.#updateSgeip();
  }

  #updateSgeip(): void {
    const on = (this.#hgeipLo & this.#hgeieLo) !== 0 || (this.#hgeipHi & this.#hgeieHi) !== 0;
    if (on !== this.#sgeip) {
      this.#sgeip = on;
      this.#lines.sgeip?.(on);
    }
  }
}
