/**
 * The GICv3 Interrupt Translation Service: the 128 KiB register region (control
 * frame ITS_base and translation frame ITS_base + 64 KiB), IHI 0069H §12.19,
 * §5.2. Cross-check: QEMU hw/intc/arm_gicv3_its.c (gicv3_its_read/write,
 * its_writel, its_readll); Linux arch/arm64/kvm/vgic/vgic-its.c (its_registers[]).
 *
 * An MSI is a write of the EventID to GITS_TRANSLATER; the DeviceID comes from
 * the bus (QEMU: attrs.requester_id; KVM: kvm_msi.devid). The device model
 * sets {@link Its.requesterId} before the write, or calls {@link Its.translate}
 * directly (KVM_SIGNAL_MSI). Guest misbehaviour never throws: bad accesses are
 * RAZ/WI and every command error is counted and traced as a guest error.
 */

import { ConfigError, GuestMemory, Tracer, type AccessSize, type MmioDevice, type TrackId, type WideValue } from "@irqlab/sim";
import type { LpiTarget } from "../lpi-target.js";
import type { VpeTable } from "../v4/vpe.js";
import { ITS_MSI_DISABLED, ItsCommandExecutor } from "./its-commands.js";
import { ItsCommandQueue, type ItsCommandQueueState } from "./its-command-queue.js";
import * as C from "./its-constants.js";
import { GITS_TRANSLATER, gitsIdRegister, isGits64Register } from "./its-constants.js";
import { GuestMemoryTableStore } from "./its-memory-tables.js";
import { ITS_PROFILE_NAMES, type ItsProfile, type ItsProfileName, itsProfile, itsTyperHi, itsTyperLo } from "./its-profiles.js";
import { ModelTableStore, type ModelTableStoreState, baserReset, baserTableParams, writeBaser } from "./its-tables.js";
import { ItsTranslationCache } from "./its-translation-cache.js";

/** Construction options of an {@link Its}. */
export interface ItsOptions {
  /** Behaviour profile: "linux-kvm" (KVM's emulated ITS), "linux-kvm-6.6" (the same in Linux v6.6) or "qemu" (QEMU TCG). */
  readonly profile: ItsProfileName;
  /** The redistributors LPIs are delivered to. */
  readonly target: LpiTarget;
  /** Guest memory holding the command queue (and, under "qemu", the tables). */
  readonly memory: GuestMemory;
  /** The vPE table: makes this a GICv4.1 ITS (GITS_TYPER.Virtual = 1, V* commands). */
  readonly vpes?: VpeTable;
  readonly tracer?: Tracer;
  /** Trace track name (default "its"). */
  readonly name?: string;
  /** DeviceID bits, 1..20 (default 16, as KVM and QEMU). */
  readonly devBits?: number;
  /** EventID bits, 1..20 (default 16). */
  readonly idBits?: number;
  /** LPI INTID bits: pINTIDs are 8192 .. 2^lpiIdBits − 1 (default 16, KVM's cap). */
  readonly lpiIdBits?: number;
  /**
   * Called after a MOVALL that retargeted this ITS's LPIs (KVM profiles). KVM's
   * MOVALL acts on every LPI of the VM, so a VM with several ITSs calls
   * {@link Its.retargetLpis} of the others here.
   */
  readonly onMovall?: (rd1: number, rd2: number) => void;
}

/** One recorded command error. */
export interface ItsCommandErrorRecord {
  /** Command number (DW0[7:0]). */
  readonly cmd: number;
  /** E_ITS_* value, or 0 when the error has none. */
  readonly code: number;
  /** Linux name of `code` ("" when none). */
  readonly name: string;
  readonly detail: string;
}

/** Plain, versioned snapshot of an {@link Its} (the vPE table has its own). */
export interface ItsState {
  readonly version: 1;
  readonly profile: ItsProfileName;
  readonly enabled: boolean;
  readonly baser: readonly number[];
  readonly queue: ItsCommandQueueState;
  /** Model tables (KVM profiles); undefined under "qemu", whose tables are guest memory. */
  readonly tables: ModelTableStoreState | undefined;
}

const MAX_ERROR_LOG = 256;

/** A GICv3/GICv4.1 ITS. */
export class Its implements MmioDevice {
  readonly profile: ItsProfile;
  /** DeviceID of the next GITS_TRANSLATER write (the bus requester ID). */
  requesterId = 0;
  /** Command errors so far. */
  commandErrors = 0;
  readonly executor: ItsCommandExecutor;
  readonly queue: ItsCommandQueue;
  readonly cache: ItsTranslationCache | undefined;
  readonly tracer: Tracer;
  readonly track: TrackId;
  #enabled = false;
  readonly #baser = new Uint32Array(2 * C.GITS_BASER_NR_REGS);
  readonly #store: ModelTableStore | GuestMemoryTableStore;
  readonly #errors: ItsCommandErrorRecord[] = [];
  readonly #vpes: VpeTable | undefined;
  readonly #devBits: number;
  readonly #idBits: number;
  readonly #wide: WideValue = { hi: 0 };

  /** @throws ConfigError naming a bad option. */
  constructor(options: ItsOptions) {
    const { profile, target, memory } = options;
    if (!ITS_PROFILE_NAMES.includes(profile)) {
      throw new ConfigError(`Its: profile '${profile as string}' is not one of ${ITS_PROFILE_NAMES.join(", ")}`);
    }
    if (!(memory instanceof GuestMemory)) throw new ConfigError("Its: memory is not a GuestMemory");
    const count = target.redistributorCount;
    if (!Number.isInteger(count) || count < 1 || count > 65536) {
      throw new ConfigError(`Its: target.redistributorCount ${count} is not in 1..65536`);
    }
    this.#devBits = bits("devBits", options.devBits ?? 16, 1, 20);
    this.#idBits = bits("idBits", options.idBits ?? 16, 1, 20);
    const lpiIdBits = bits("lpiIdBits", options.lpiIdBits ?? 16, 14, 24);
    this.profile = itsProfile(profile);
    this.#vpes = options.vpes;
    this.tracer = options.tracer ?? new Tracer();
    this.track = this.tracer.track("gic", options.name ?? "its", "device");
    this.#store = this.profile.tablesInGuestMemory
      ? new GuestMemoryTableStore(memory)
      : new ModelTableStore(memory, 2 ** this.#devBits, 65536);
    this.cache = this.profile.translationCache ? new ItsTranslationCache() : undefined;
    this.executor = new ItsCommandExecutor({
      profile: this.profile,
      store: this.#store,
      cache: this.cache,
      target,
      vpes: options.vpes,
      devBits: this.#devBits,
      idBits: this.#idBits,
      lpiIdBits,
      isRam: (a) => memory.isRam(a),
      error: (cmd, code, detail) => {
        this.#commandError(cmd, code, detail);
      },
      onMovall: options.onMovall,
    });
    this.queue = new ItsCommandQueue(this.profile, memory, this.tracer, this.track);
    this.reset();
  }

  /** Restores an ITS from {@link state}. Options must describe the same machine. */
  static fromState(state: ItsState, options: ItsOptions): Its {
    const its = new Its(options);
    its.loadState(state);
    return its;
  }

  /** Reset values (KVM vgic_its_create / ITS_CTRL_RESET; QEMU gicv3_its_reset). */
  reset(): void {
    this.#enabled = false;
    this.queue.load({ cbaserLo: 0, cbaserHi: 0, cwriter: 0, creadr: 0, stalled: false });
    for (let n = 0; n < C.GITS_BASER_NR_REGS; n++) {
      const [lo, hi] = baserReset(n, this.#vpes !== undefined);
      this.#baser[2 * n] = lo;
      this.#baser[2 * n + 1] = hi;
    }
    this.#store.clearDevices();
    this.#store.clearCollections();
    this.cache?.invalidateAll();
    this.#configureTables();
  }

  /** GITS_CTLR.Enabled. */
  get enabled(): boolean {
    return this.#enabled;
  }

  /** The most recent command errors (at most 256), oldest first. */
  errors(): readonly ItsCommandErrorRecord[] {
    return this.#errors;
  }

  /**
   * Translates an MSI (DeviceID, EventID) as a GITS_TRANSLATER write would.
   * Returns ITS_MSI_DELIVERED / ITS_MSI_DELIVERED_VIRTUAL, or a negative ITS_MSI_* reason.
   */
  translate(deviceId: number, eventId: number): number {
    const r = this.#enabled ? this.executor.translate(deviceId, eventId) : ITS_MSI_DISABLED;
    if (r < 0) this.#msiDropped(deviceId, eventId, r);
    return r;
  }

  /** {@link translate} for a caller that has already missed in the translation cache (see ItsCommandExecutor.translateUncached). */
  translateAfterCacheMiss(deviceId: number, eventId: number): number {
    const r = this.#enabled ? this.executor.translateUncached(deviceId, eventId) : ITS_MSI_DISABLED;
    if (r < 0) this.#msiDropped(deviceId, eventId, r);
    return r;
  }

  #msiDropped(deviceId: number, eventId: number, reason: number): void {
    this.tracer.guestError(this.track, "its:translate", `MSI ${deviceId}:${eventId} not translated (${reason})`);
  }

  /**
   * Executes one command directly, as a host driver's queue write plus SYNC
   * would (used by the host-side vLPI API). Returns CMD_OK, CMD_ERROR or CMD_STALL.
   */
  executeCommand(words: ArrayLike<number>): number {
    if (words.length !== 8) throw new ConfigError(`Its.executeCommand: ${words.length} words, expected 8`);
    const w = Uint32Array.from(words);
    return this.executor.execute(w);
  }

  /**
   * What a MOVALL RDbase1, RDbase2 executed by another ITS of the same VM does
   * to this ITS's LPIs under KVM (vgic_its_cmd_handle_movall walks the VM's
   * lpi_xa): see ItsCommandExecutor.retargetLpis. No-op under "qemu".
   */
  retargetLpis(rd1: number, rd2: number): void {
    this.executor.retargetLpis(rd1, rd2);
  }

  /** GICR_CTLR.EnableLPIs 1 → 0 on `rd`: drops its cached translations (KVM). */
  invalidateRedistributor(rd: number): void {
    this.cache?.invalidateRedistributor(rd);
  }

  read(offset: number, size: AccessSize, wide: WideValue): number {
    if (size === 8) {
      // A refused 8-byte load still has a defined (zero) high word: the bus hands it to the guest.
      wide.hi = 0;
      if ((offset & 7) !== 0 || !this.#isRegister64(offset)) return this.#bad(offset, size, "read");
      wide.hi = this.#read32(offset + 4);
      return this.#read32(offset);
    }
    if (size !== 4 || (offset & 3) !== 0) return this.#bad(offset, size, "read");
    return this.#read32(offset);
  }

  write(offset: number, size: AccessSize, value: number, hi: number): void {
    if (offset === GITS_TRANSLATER && (size === 4 || size === 2)) {
      this.translate(this.requesterId, value);
      return;
    }
    if (size === 8) {
      if ((offset & 7) !== 0 || !this.#isRegister64(offset)) {
        this.#bad(offset, size, "write");
        return;
      }
      this.#write64(offset, value >>> 0, hi >>> 0);
      return;
    }
    if (size !== 4 || (offset & 3) !== 0) {
      this.#bad(offset, size, "write");
      return;
    }
    if (this.#isRegister64(offset & ~7)) {
      const base = offset & ~7;
      const [lo, h] = this.#current64(base);
      if ((offset & 4) === 0) this.#write64(base, value >>> 0, h);
      else this.#write64(base, lo, value >>> 0);
      return;
    }
    this.#write32(offset, value >>> 0);
  }

  #read32(offset: number): number {
    switch (offset) {
      case C.GITS_CTLR: {
        const quiescent = this.queue.creadr === this.queue.cwriter && !this.queue.stalled;
        return ((this.#enabled ? C.GITS_CTLR_ENABLE : 0) | (quiescent ? C.GITS_CTLR_QUIESCENT : 0)) >>> 0;
      }
      case C.GITS_IIDR: return this.profile.iidr >>> 0;
      case C.GITS_TYPER: return itsTyperLo(this.profile, this.#idBits, this.#devBits, this.#vpes !== undefined);
      case C.GITS_TYPER + 4: return itsTyperHi(this.profile, this.#vpes !== undefined);
      case C.GITS_CBASER: return this.queue.cbaserLo;
      case C.GITS_CBASER + 4: return this.queue.cbaserHi;
      case C.GITS_CWRITER: return this.queue.cwriter;
      case C.GITS_CREADR: return this.queue.readCreadr();
      case C.GITS_CWRITER + 4:
      case C.GITS_CREADR + 4:
        return 0;
      case C.GITS_MPIDR:
      case C.GITS_MPIDR + 4:
        return this.#vpes !== undefined ? 0 : this.#bad(offset, 4, "read");
      default:
        if (offset >= C.GITS_PIDR4 && offset < 0x10000) return gitsIdRegister(offset, this.#vpes !== undefined);
        if (offset >= C.GITS_BASER && offset < C.GITS_BASER + 8 * C.GITS_BASER_NR_REGS) return this.#baser[(offset - C.GITS_BASER) >>> 2]!;
        if (offset === C.GITS_TRANSLATER) return 0; // write-only
        return this.#bad(offset, 4, "read");
    }
  }

  #write32(offset: number, value: number): void {
    if (offset === C.GITS_CTLR) {
      this.#writeCtlr(value);
      return;
    }
    this.tracer.guestError(this.track, "its:register", `write 0x${value.toString(16)} to read-only or unknown offset 0x${offset.toString(16)}`);
  }

  #writeCtlr(value: number): void {
    const enable = (value & C.GITS_CTLR_ENABLE) !== 0;
    if (enable === this.#enabled) return;
    if (!enable) {
      this.#enabled = false;
      this.cache?.invalidateAll();
      return;
    }
    if (this.profile.enableNeedsValidTables) {
      // vgic_mmio_write_its_ctlr(): "Only enable the ITS if CBASER and the BASERs are valid".
      const valid = this.queue.valid && this.#baser[1]! >>> 31 === 1 && this.#baser[3]! >>> 31 === 1;
      if (!valid) {
        this.tracer.guestError(this.track, "its:ctlr", "enable with invalid CBASER/BASER ignored");
        return;
      }
    }
    this.#enabled = true;
    this.#configureTables();
    this.queue.process(this.executor);
  }

  #current64(base: number): [number, number] {
    const wide = this.#wide;
    const lo = this.read(base, 8, wide);
    return [lo, wide.hi];
  }

  #write64(offset: number, lo: number, hi: number): void {
    switch (offset) {
      case C.GITS_CBASER:
        if (this.#enabled) {
          this.tracer.guestError(this.track, "its:cbaser", "CBASER write while enabled ignored");
          return;
        }
        this.queue.writeCbaser(lo, hi);
        return;
      case C.GITS_CWRITER:
        if (this.queue.writeCwriter(lo) && this.#enabled) this.queue.process(this.executor);
        return;
      default:
        if (offset >= C.GITS_BASER && offset < C.GITS_BASER + 8 * C.GITS_BASER_NR_REGS) {
          this.#writeBaserN((offset - C.GITS_BASER) >>> 3, lo, hi);
          return;
        }
        this.tracer.guestError(this.track, "its:register", `write to read-only offset 0x${offset.toString(16)}`);
    }
  }

  #writeBaserN(n: number, lo: number, hi: number): void {
    if (this.#enabled) {
      this.tracer.guestError(this.track, "its:baser", `GITS_BASER${n} write while enabled ignored`);
      return;
    }
    const old = [this.#baser[2 * n]!, this.#baser[2 * n + 1]!] as const;
    const [nlo, nhi] = writeBaser(this.profile, old[0], old[1], lo, hi);
    this.#baser[2 * n] = nlo;
    this.#baser[2 * n + 1] = nhi;
    const type = (nhi >>> C.GITS_BASER_HI_TYPE_SHIFT) & 7;
    const rule = this.profile.baserWriteFrees;
    // vgic_mmio_write_its_baser() frees the devices / collections (vgic_its_free_device_list /
    // vgic_its_free_collection_list) and invalidates the cache: mainline when the value changes
    // ("The ITS driver rewrites an unchanged GITS_BASER<n> on resume"), Linux 6.6 when Valid = 0.
    const frees = rule === "any-change" ? nlo !== old[0] || nhi !== old[1] : rule === "valid-cleared" && nhi >>> 31 === 0;
    if (frees) {
      if (type === C.GITS_BASER_TYPE_DEVICE) this.#store.clearDevices();
      if (type === C.GITS_BASER_TYPE_COLLECTION) this.#store.clearCollections();
      this.cache?.invalidateAll();
    }
    this.#configureTables();
  }

  #configureTables(): void {
    let device = baserTableParams(0, 0);
    let collection = baserTableParams(0, 0);
    for (let n = 0; n < C.GITS_BASER_NR_REGS; n++) {
      const lo = this.#baser[2 * n]!;
      const hi = this.#baser[2 * n + 1]!;
      const type = (hi >>> C.GITS_BASER_HI_TYPE_SHIFT) & 7;
      if (type === C.GITS_BASER_TYPE_DEVICE) device = baserTableParams(lo, hi);
      else if (type === C.GITS_BASER_TYPE_COLLECTION) collection = baserTableParams(lo, hi);
    }
    this.#store.configure(device, collection);
  }

  #commandError(cmd: number, code: number, detail: string): void {
    this.commandErrors++;
    const name = C.itsErrorName(code);
    const source = `its:${name !== "" ? name : C.itsCommandName(cmd)}`;
    this.tracer.guestError(this.track, source, detail);
    if (this.#errors.length >= MAX_ERROR_LOG) this.#errors.shift();
    this.#errors.push({ cmd, code, name, detail });
  }

  /**
   * Whether `offset` starts a 64-bit register of this ITS. GITS_MPIDR exists
   * only with GICv4.1 (IHI 0069H §12.19, GITS_MPIDR: present when FEAT_GICv4p1
   * is implemented); without it, offset 0x18 is reserved.
   */
  #isRegister64(offset: number): boolean {
    return isGits64Register(offset) && (offset !== C.GITS_MPIDR || this.#vpes !== undefined);
  }

  #bad(offset: number, size: number, kind: string): number {
    this.tracer.guestError(this.track, "its:access", `bad ${size}-byte ${kind} at offset 0x${offset.toString(16)}`);
    return 0;
  }

  /** Snapshot (registers, queue and, under the KVM profiles, the model tables). */
  state(): ItsState {
    return {
      version: 1,
      profile: this.profile.name,
      enabled: this.#enabled,
      baser: [...this.#baser],
      queue: this.queue.state(),
      tables: this.#store instanceof ModelTableStore ? this.#store.state() : undefined,
    };
  }

  /** Restores a snapshot taken by {@link state} from an ITS with the same profile. */
  loadState(s: ItsState): void {
    if ((s.version as number) !== 1) throw new ConfigError(`Its state version ${String(s.version)} is not 1`);
    if (s.profile !== this.profile.name) throw new ConfigError(`Its state profile '${s.profile}' differs from '${this.profile.name}'`);
    if (s.baser.length !== this.#baser.length) throw new ConfigError(`Its state has ${s.baser.length} BASER words`);
    this.#baser.set(s.baser);
    this.queue.load(s.queue);
    this.#enabled = s.enabled;
    if (this.#store instanceof ModelTableStore && s.tables !== undefined) this.#store.load(s.tables);
    this.cache?.invalidateAll();
    this.#configureTables();
  }
}

function bits(name: string, v: number, min: number, max: number): number {
  if (!Number.isInteger(v) || v < min || v > max) throw new ConfigError(`Its: ${name} ${v} is not in ${min}..${max}`);
  return v;
}
