/**
 * Decoding and execution of the GICv3 ITS commands (IHI 0069H §6.3: MAPD,
 * MAPC, MAPTI, MAPI, MOVI, MOVALL, DISCARD, INT, CLEAR, INV, INVALL, SYNC)
 * with their range checks, and the translation of an MSI (§5.2.3).
 * The GICv4.1 commands are decoded in ../v4/v4-commands.ts.
 *
 * Checks and their order follow the profile: the KVM profiles as
 * arch/arm64/kvm/vgic/vgic-its.c vgic_its_cmd_handle_*(), "qemu" as
 * hw/intc/arm_gicv3_its.c process_mapd()/process_mapc()/process_mapti()/
 * process_its_cmd()/process_movi(). A failed check reports a command error
 * (E_ITS_* value, counted and traced by the ITS) and returns CMD_ERROR; a
 * guest-memory fault while touching a table returns CMD_STALL under the QEMU
 * profile. Commands arrive as 8 little-endian 32-bit words (DW0 low, DW0 high,
 * DW1 low, ...).
 */

import { GuestMemoryFault } from "@irqlab/sim";
import type { LpiTarget } from "../lpi-target.js";
import type { VpeTable } from "../v4/vpe.js";
import { executeV4Command } from "../v4/v4-commands.js";
import * as C from "./its-constants.js";
import type { ItsProfile } from "./its-profiles.js";
import { DteRecord, IteRecord, type ItsTableStore, ModelTableStore } from "./its-tables.js";
import type { ItsTranslationCache } from "./its-translation-cache.js";

/** The command completed. */
export const CMD_OK = 0;
/** The command failed a check and was skipped (or discarded, under KVM). */
export const CMD_ERROR = 1;
/** The command hit a guest-memory fault and the queue must stall (QEMU). */
export const CMD_STALL = 2;

/** MSI translation outcomes returned by {@link ItsCommandExecutor.translate}. */
export const ITS_MSI_DELIVERED = 0;
/** Delivered as a vLPI to a vPE (GICv4). */
export const ITS_MSI_DELIVERED_VIRTUAL = 1;
/** The ITS is disabled (KVM returns -EBUSY to KVM_SIGNAL_MSI). */
export const ITS_MSI_DISABLED = -1;
/** No device, ITE, collection or vPE: the MSI is dropped ("blocked by guest"). */
export const ITS_MSI_UNMAPPED = -2;
/** A table read faulted (QEMU answers the bus write with MEMTX_ERROR). */
export const ITS_MSI_MEMORY_FAULT = -3;

/** What commands act on. */
export interface ItsCommandContext {
  readonly profile: ItsProfile;
  readonly store: ItsTableStore;
  readonly cache: ItsTranslationCache | undefined;
  readonly target: LpiTarget;
  /** The vPE table when the ITS implements GICv4.1 (GITS_TYPER.Virtual = 1). */
  readonly vpes: VpeTable | undefined;
  /** GITS_TYPER.Devbits / IDbits: DeviceIDs < 2^devBits, EventIDs < 2^idBits. */
  readonly devBits: number;
  readonly idBits: number;
  /** Implemented LPI INTIDs are 8192 .. 2^lpiIdBits − 1 (GICR_PROPBASER.IDbits + 1). */
  readonly lpiIdBits: number;
  /** Whether a guest-physical address is RAM (KVM's memslot check of an ITE address). */
  isRam(addr: number): boolean;
  /** Reports a command error: counted and traced by the ITS. */
  error(cmd: number, code: number, detail: string): void;
  /**
   * After a MOVALL that retargets LPIs (KVM): KVM walks every LPI of the VM
   * (lpi_xa), so the other ITSs of the VM retarget theirs too
   * ({@link ItsCommandExecutor.retargetLpis}).
   */
  readonly onMovall?: ((rd1: number, rd2: number) => void) | undefined;
}

/** Error code of `cause` for command `cmd`, on the scheme of the E_ITS_* values (0x01 | cmd << 8 | cause). */
export function itsErrorCode(cmd: number, cause: number): number {
  return 0x010000 | (cmd << 8) | cause;
}

/**
 * RDbase of a doubleword given as (lo, hi) words: a processor number (PTA = 0).
 * The field is [51:16]; KVM (its_cmd_get_target_addr) and QEMU (FIELD(MAPC, RDBASE, 16, 32)) read [47:16].
 */
export function rdbaseOf(lo: number, hi: number): number {
  return (lo >>> 16) + (hi & 0xffff) * 65536;
}

/** Executes commands and translates MSIs against one ITS's tables. */
/** 2^(Size + 1) for each DTE Size field (0–31): how many EventIDs a device's ITT holds (a table: `**` is slow on the hot path). */
const EVENT_ID_LIMIT = Float64Array.from({ length: 32 }, (_, size) => 2 ** (size + 1));

export class ItsCommandExecutor {
  readonly dte = new DteRecord();
  readonly ite = new IteRecord();
  readonly #model: ModelTableStore | undefined;
  // Hot-path copies of ctx fields.
  readonly #cache: ItsTranslationCache | undefined;
  readonly #target: LpiTarget;
  readonly #vpes: VpeTable | undefined;
  /** 2^devBits: DeviceIDs below it are in range. */
  readonly #devLimit: number;

  constructor(readonly ctx: ItsCommandContext) {
    this.#model = ctx.store instanceof ModelTableStore ? ctx.store : undefined;
    this.#cache = ctx.cache;
    this.#target = ctx.target;
    this.#vpes = ctx.vpes;
    this.#devLimit = 2 ** ctx.devBits;
  }

  /** Executes one command. Never throws for guest input. */
  execute(w: Uint32Array): number {
    const cmd = w[0]! & 0xff;
    try {
      switch (cmd) {
        case C.GITS_CMD_MAPD: return this.#mapd(w);
        case C.GITS_CMD_MAPC: return this.#mapc(w);
        case C.GITS_CMD_MAPTI: return this.#mapti(w, w[3]!);
        case C.GITS_CMD_MAPI: return this.#mapti(w, w[2]!);
        case C.GITS_CMD_MOVI: return this.#movi(w);
        case C.GITS_CMD_MOVALL: return this.#movall(w);
        case C.GITS_CMD_DISCARD: return this.#byIte(w, cmd, C.E_ITS_DISCARD_UNMAPPED_INTERRUPT);
        case C.GITS_CMD_INT: return this.#byIte(w, cmd, C.E_ITS_INT_UNMAPPED_INTERRUPT);
        case C.GITS_CMD_CLEAR: return this.#byIte(w, cmd, C.E_ITS_CLEAR_UNMAPPED_INTERRUPT);
        case C.GITS_CMD_INV: return this.#byIte(w, cmd, C.E_ITS_INV_UNMAPPED_INTERRUPT);
        case C.GITS_CMD_INVALL: return this.#invall(w);
        case C.GITS_CMD_SYNC: return CMD_OK; // "we are in sync all of the time" (vgic-its.c); QEMU: no-op
        default:
          if (this.ctx.vpes !== undefined) return executeV4Command(this, w, cmd);
          // KVM: -ENODEV, ignored; QEMU: trace only, continue.
          this.ctx.error(cmd, 0, `unknown or unsupported command ${C.itsCommandName(cmd)}`);
          return CMD_ERROR;
      }
    } catch (e) {
      if (!(e instanceof GuestMemoryFault)) throw e;
      this.ctx.error(cmd, 0, `${C.itsCommandName(cmd)}: ${e.message}`);
      return this.ctx.profile.stallOnMemoryFault ? CMD_STALL : CMD_ERROR;
    }
  }

  /** Whether `intid` is an implemented LPI. */
  isLpi(intid: number): boolean {
    return intid >= C.LPI_INTID_BASE && intid < 2 ** this.ctx.lpiIdBits;
  }

  /** Whether processor number `rd` names a redistributor (LpiTarget.hasRedistributor, else rd < count). */
  isRd(rd: number): boolean {
    const t = this.#target;
    return t.hasRedistributor !== undefined ? t.hasRedistributor(rd) : rd < t.redistributorCount;
  }

  /**
   * Looks up (devId, eventId) into {@link ite} (valid = false when any level is
   * missing). Fills {@link dte}. Returns false only for a DeviceID or EventID out of range.
   */
  lookup(devId: number, eventId: number): boolean {
    const { store } = this.ctx;
    this.ite.valid = false;
    // KVM finds an ITE in its own lists (find_ite() → find_its_device()); only MAPD checks a DeviceID
    // against the guest's device table (vgic_its_check_id()). QEMU reads the table for every command.
    if (devId >= this.#devLimit || (this.#model === undefined && !store.deviceIdInRange(devId))) return false;
    store.readDte(devId, this.dte);
    if (!this.dte.valid) return true;
    if (eventId >= (EVENT_ID_LIMIT[this.dte.size] ?? 2 ** (this.dte.size + 1))) return false;
    store.readIte(devId, this.dte, eventId, this.ite);
    return true;
  }

  /** Translates an MSI (a GITS_TRANSLATER write, KVM_SIGNAL_MSI). Allocation-free on a cache hit. */
  translate(devId: number, eventId: number): number {
    const cache = this.#cache;
    if (cache !== undefined) {
      const v = cache.lookup(devId, eventId);
      if (v >= 0) {
        this.#pendCached(v);
        return ITS_MSI_DELIVERED;
      }
    }
    return this.translateUncached(devId, eventId);
  }

  /** Pends the LPI of a cached translation, rd × 2^24 + pINTID (its-translation-cache.ts), unpacked inline. */
  #pendCached(v: number): void {
    this.#target.setLpiPending(Math.floor(v / 16777216), v % 16777216);
  }

  /**
   * {@link translate} without asking the translation cache, for a caller
   * that has just missed in it (KVM_SIGNAL_MSI: vgic_its_inject_msi tries the
   * cache, then vgic_its_trigger_msi walks the tables once). Fills the cache
   * as translate does.
   */
  translateUncached(devId: number, eventId: number): number {
    try {
      return this.#translateSlow(devId, eventId);
    } catch (e) {
      if (!(e instanceof GuestMemoryFault)) throw e;
      return ITS_MSI_MEMORY_FAULT;
    }
  }

  #translateSlow(devId: number, eventId: number): number {
    let ite: IteRecord | undefined;
    const model = this.#model;
    if (model !== undefined) {
      ite = devId < this.#devLimit ? model.lookupIte(devId, eventId) : undefined;
    } else {
      this.lookup(devId, eventId);
      ite = this.ite.valid ? this.ite : undefined;
    }
    if (ite === undefined) return ITS_MSI_UNMAPPED;
    if (!ite.physical) {
      const vpes = this.#vpes;
      const vpe = vpes?.get(ite.vpeid);
      if (vpe === undefined) return ITS_MSI_UNMAPPED;
      vpes!.inject(vpe, ite.intid);
      return ITS_MSI_DELIVERED_VIRTUAL;
    }
    const rd = ite.icid < 0 ? -1 : this.ctx.store.readCte(ite.icid);
    if (rd < 0 || !this.isRd(rd)) return ITS_MSI_UNMAPPED;
    // vgic_its_resolve_lpi() checks the collection; vgic_its_trigger_msi() pends the LPI on irq->target_vcpu.
    const to = ite.affinity >= 0 ? ite.affinity : rd;
    this.ctx.target.setLpiPending(to, ite.intid);
    this.ctx.cache?.insert(devId, eventId, to, ite.intid);
    return ITS_MSI_DELIVERED;
  }

  #mapd(w: Uint32Array): number {
    const { ctx } = this;
    const devId = w[1]!;
    const size = w[2]! & 0x1f;
    const itt = ((w[4]! & 0xffff_ff00) >>> 0) + (w[5]! & 0xfffff) * 2 ** 32;
    const valid = w[5]! >>> 31 === 1;
    if (devId >= this.#devLimit || !ctx.store.deviceIdInRange(devId)) {
      return this.fail(C.GITS_CMD_MAPD, C.E_ITS_MAPD_DEVICE_OOR, `DeviceID ${devId} out of range`);
    }
    if (valid && size + 1 > ctx.idBits) {
      return this.fail(C.GITS_CMD_MAPD, C.E_ITS_MAPD_ITTSIZE_OOR, `ITT size ${size + 1} bits > IDbits ${ctx.idBits}`);
    }
    if (ctx.profile.mapdFreesItes) {
      ctx.store.readDte(devId, this.dte);
      if (this.dte.valid) {
        ctx.store.forEachIte(devId, this.dte, (_ev, ite) => {
          this.dropIte(ite);
        });
        ctx.cache?.invalidateAll();
      }
    }
    ctx.store.writeDte(devId, valid, size, itt);
    if (!valid && ctx.profile.unmapClearsGuestEntry && this.#model !== undefined) {
      // vgic_its_cmd_handle_mapd(): "if (!valid) return vgic_its_write_entry_lock(its, gpa, 0ULL, dte)",
      // mapped before or not, at the address vgic_its_check_id() found.
      this.#model.zeroGuestEntry(this.#model.deviceEntryAddress(devId));
    }
    return CMD_OK;
  }

  #mapc(w: Uint32Array): number {
    const { ctx } = this;
    const icid = w[4]! & 0xffff;
    const kvm = ctx.profile.family === "linux-kvm";
    // QEMU process_mapc() keeps only the processor-number bits (RDBASE_PROCNUM_MASK, 16 bits).
    const rd = kvm ? rdbaseOf(w[4]!, w[5]!) : rdbaseOf(w[4]!, w[5]!) & 0xffff;
    const valid = w[5]! >>> 31 === 1;
    if (kvm) {
      // vgic_its_cmd_handle_mapc(): a V=1 MAPC needs the vCPU (kvm_get_vcpu_by_id; Linux ≤ 6.6 checked
      // `target_addr >= online_vcpus` first, for V=0 too); a new ICID must fit BASER1.
      if ((valid || ctx.profile.mapcUnmapChecksTarget) && !this.isRd(rd)) {
        return this.fail(C.GITS_CMD_MAPC, C.E_ITS_MAPC_PROCNUM_OOR, `RDbase ${rd} is not a redistributor`);
      }
      if (valid && !ctx.store.collectionExists(icid) && !ctx.store.collectionIdInRange(icid)) {
        return this.fail(C.GITS_CMD_MAPC, C.E_ITS_MAPC_COLLECTION_OOR, `ICID ${icid} out of range`);
      }
    } else {
      // process_mapc(): ICID first, RDbase only for a valid mapping.
      if (!ctx.store.collectionIdInRange(icid)) return this.fail(C.GITS_CMD_MAPC, C.E_ITS_MAPC_COLLECTION_OOR, `ICID ${icid} out of range`);
      if (valid && !this.isRd(rd)) return this.fail(C.GITS_CMD_MAPC, C.E_ITS_MAPC_PROCNUM_OOR, `RDbase ${rd} is not a redistributor`);
    }
    if (!valid) {
      ctx.cache?.invalidateAll();
      if (kvm && this.#model !== undefined) {
        // vgic_its_free_collection(): ITEs keep a NULL collection, even after a later MAPC V=1.
        this.#model.forEachPhysicalIte((_d, _e, ite) => {
          if (ite.icid === icid) ite.icid = -1;
        });
        this.#model.deleteCollection(icid);
      } else {
        ctx.store.writeCte(icid, -1);
      }
      return CMD_OK;
    }
    if (kvm && this.#model !== undefined && ctx.store.collectionExists(icid)) {
      // update_affinity_collection(): every LPI of an existing collection now targets its vCPU,
      // with its pending state, also one that MOVALL had moved elsewhere.
      this.#model.forEachPhysicalIte((_d, _e, ite) => {
        if (ite.icid !== icid) return;
        const from = this.targetRd(ite);
        if (from >= 0) this.movePending(from, rd, ite.intid);
        ite.affinity = -1;
      });
    }
    ctx.store.writeCte(icid, rd);
    ctx.cache?.invalidateAll();
    return CMD_OK;
  }

  #mapti(w: Uint32Array, intid: number): number {
    const { ctx } = this;
    const cmd = w[0]! & 0xff;
    const devId = w[1]!;
    const eventId = w[2]!;
    const icid = w[4]! & 0xffff;
    const kvm = ctx.profile.family === "linux-kvm";
    if (!kvm && !ctx.store.collectionIdInRange(icid)) {
      return this.fail(cmd, itsErrorCode(cmd, 3), `ICID ${icid} out of range`);
    }
    // KVM looks the device up in its list (vgic_its_cmd_handle_mapi → find_its_device); QEMU reads the DTE from the table.
    if (devId >= this.#devLimit || (this.#model === undefined && !ctx.store.deviceIdInRange(devId))) {
      return this.fail(cmd, kvm ? C.E_ITS_MAPTI_UNMAPPED_DEVICE : itsErrorCode(cmd, 1), `DeviceID ${devId} out of range`);
    }
    ctx.store.readDte(devId, this.dte);
    if (!this.dte.valid) return this.fail(cmd, C.E_ITS_MAPTI_UNMAPPED_DEVICE, `DeviceID ${devId} not mapped`);
    if (eventId >= (EVENT_ID_LIMIT[this.dte.size] ?? 2 ** (this.dte.size + 1)) || (kvm && !this.#ittEntryInRam(eventId))) {
      return this.fail(cmd, C.E_ITS_MAPTI_ID_OOR, `EventID ${eventId} out of range of DeviceID ${devId}`);
    }
    if (!this.isLpi(intid)) return this.fail(cmd, C.E_ITS_MAPTI_PHYSICALID_OOR, `pINTID ${intid} is not an LPI`);
    ctx.store.readIte(devId, this.dte, eventId, this.ite);
    if (this.ite.valid && ctx.profile.maptiKeepsExisting) return CMD_OK; // vgic-its.c: "silently ignore"
    if (this.ite.valid) this.dropIte(this.ite);
    if (!ctx.store.collectionExists(icid) && ctx.profile.maptiAllocatesCollection) {
      if (!ctx.store.collectionIdInRange(icid)) return this.fail(cmd, C.E_ITS_MAPC_COLLECTION_OOR, `ICID ${icid} out of range`);
      ctx.store.writeCte(icid, -1);
    }
    const ite = this.ite;
    ite.valid = true;
    ite.physical = true;
    ite.intid = intid;
    ite.icid = icid;
    ite.vpeid = 0;
    ite.doorbell = C.INTID_SPURIOUS;
    ite.affinity = -1; // vgic_add_lpi(): a new LPI targets the collection's vCPU
    ctx.store.writeIte(devId, this.dte, eventId, ite);
    const rd = ctx.store.readCte(icid);
    if (rd >= 0 && this.isRd(rd)) ctx.target.invalidateLpi(rd, intid); // vgic_add_lpi() reads the config byte
    return CMD_OK;
  }

  #movi(w: Uint32Array): number {
    const { ctx } = this;
    const devId = w[1]!;
    const eventId = w[2]!;
    const icid = w[4]! & 0xffff;
    this.lookup(devId, eventId);
    if (!this.ite.valid) return this.fail(C.GITS_CMD_MOVI, C.E_ITS_MOVI_UNMAPPED_INTERRUPT, `no ITE for ${devId}:${eventId}`);
    if (!this.ite.physical) return this.fail(C.GITS_CMD_MOVI, C.E_ITS_MOVI_UNMAPPED_INTERRUPT, `MOVI on virtual ITE ${devId}:${eventId}`);
    const oldRd = this.ite.icid < 0 ? -1 : ctx.store.readCte(this.ite.icid);
    const newRd = ctx.store.readCte(icid);
    if (oldRd < 0 || newRd < 0) {
      return this.fail(C.GITS_CMD_MOVI, C.E_ITS_MOVI_UNMAPPED_COLLECTION, `collection unmapped (ICID ${this.ite.icid} → ${icid})`);
    }
    // update_affinity(ite->irq, vcpu): the LPI leaves wherever it was, also an RDbase MOVALL chose.
    const from = this.targetRd(this.ite);
    this.ite.icid = icid;
    this.ite.affinity = -1;
    ctx.store.writeIte(devId, this.dte, eventId, this.ite);
    this.movePending(from, newRd, this.ite.intid);
    ctx.cache?.invalidateAll();
    return CMD_OK;
  }

  #movall(w: Uint32Array): number {
    const rd1 = rdbaseOf(w[4]!, w[5]!);
    const rd2 = rdbaseOf(w[6]!, w[7]!);
    if (!this.isRd(rd1) || !this.isRd(rd2)) {
      return this.fail(C.GITS_CMD_MOVALL, C.E_ITS_MOVALL_PROCNUM_OOR, `RDbase ${rd1} or ${rd2} is not a redistributor`);
    }
    if (rd1 === rd2) return CMD_OK;
    if (this.ctx.profile.movall === "pending-only") {
      // QEMU gicv3_redist_movall_lpis(): the pending bits move; translations keep using the collections.
      const end = 2 ** this.ctx.lpiIdBits;
      for (let intid = C.LPI_INTID_BASE; intid < end; intid++) this.movePending(rd1, rd2, intid);
      this.ctx.cache?.invalidateAll();
      return CMD_OK;
    }
    this.retargetLpis(rd1, rd2);
    this.ctx.onMovall?.(rd1, rd2);
    return CMD_OK;
  }

  /**
   * MOVALL RDbase1, RDbase2 on this ITS's LPIs under KVM (vgic_its_cmd_handle_movall → update_affinity):
   * each LPI the profile's `movall` selects (mainline every LPI, Linux 6.6 those targeting RDbase1)
   * now targets RDbase2 with its pending state, and keeps doing so for later MSIs and INTs while its
   * collection still names its old RDbase, until MAPC of that collection or MOVI retargets it.
   * The translation cache is invalidated (vgic_its_invalidate_cache).
   */
  retargetLpis(rd1: number, rd2: number): void {
    const model = this.#model;
    if (model === undefined || this.ctx.profile.movall === "pending-only") return;
    const everyLpi = this.ctx.profile.movall === "every-lpi";
    model.forEachPhysicalIte((_d, _e, ite) => {
      const from = this.targetRd(ite);
      if (!everyLpi && from !== rd1) return;
      if (from >= 0) this.movePending(from, rd2, ite.intid);
      ite.affinity = rd2;
    });
    this.ctx.cache?.invalidateAll();
  }

  /**
   * RDbase a physical ITE's LPI targets (KVM's vgic_irq.target_vcpu): the one MOVALL set, else its
   * collection's; −1 when it has neither.
   */
  targetRd(ite: IteRecord): number {
    if (ite.affinity >= 0) return ite.affinity;
    return ite.icid < 0 ? -1 : this.ctx.store.readCte(ite.icid);
  }

  /** DISCARD, INT, CLEAR, INV: commands naming one (DeviceID, EventID). */
  #byIte(w: Uint32Array, cmd: number, unmapped: number): number {
    const { ctx } = this;
    const devId = w[1]!;
    const eventId = w[2]!;
    if (cmd === C.GITS_CMD_INT && this.#cache !== undefined) {
      // A cached translation is what the walk below would find (the cache never outlives an ITE, its
      // collection's mapping or its target) and what it would cache again: pend it without the walk.
      const v = this.#cache.peek(devId, eventId);
      if (v >= 0) {
        this.#pendCached(v);
        return CMD_OK;
      }
    }
    this.lookup(devId, eventId);
    const ite = this.ite;
    if (!ite.valid) return this.fail(cmd, unmapped, `no ITE for ${devId}:${eventId}`);
    if (!ite.physical) return executeV4Command(this, w, cmd);
    const rd = ite.icid < 0 ? -1 : ctx.store.readCte(ite.icid);
    const mapped = rd >= 0 && this.isRd(rd);
    // KVM checks the collection only for INT and DISCARD; QEMU for every command (lookup_cte()).
    if (!mapped && (cmd === C.GITS_CMD_INT || cmd === C.GITS_CMD_DISCARD || ctx.profile.family === "qemu")) {
      return this.fail(cmd, unmapped, `collection of ${devId}:${eventId} is unmapped`);
    }
    // KVM acts on the vgic_irq, wherever it targets (MOVALL may have moved it off the collection's RDbase).
    const to = ite.affinity >= 0 ? ite.affinity : mapped ? rd : -1;
    switch (cmd) {
      case C.GITS_CMD_INT:
        ctx.target.setLpiPending(to, ite.intid);
        // vgic_its_cmd_handle_int → vgic_its_trigger_msi → vgic_its_resolve_lpi caches the translation,
        // so later MSIs of this (DeviceID, EventID) hit the cache as after a first MSI.
        if (to >= 0) ctx.cache?.insert(devId, eventId, to, ite.intid);
        break;
      case C.GITS_CMD_CLEAR:
        if (to >= 0) ctx.target.clearLpiPending(to, ite.intid);
        break;
      case C.GITS_CMD_INV:
        if (to >= 0) ctx.target.invalidateLpi(to, ite.intid);
        break;
      default: // DISCARD
        ctx.target.clearLpiPending(to, ite.intid);
        ctx.store.clearIte(devId, this.dte, eventId);
        ctx.cache?.invalidateAll();
        if (ctx.profile.unmapClearsGuestEntry && this.#model !== undefined) {
          // vgic_its_cmd_handle_discard(): vgic_its_write_entry_lock(its, itt_addr + event_id * ite_esz, 0ULL, ite).
          this.#model.zeroGuestEntry(this.dte.ittAddr + eventId * ctx.profile.ittEntrySize);
        }
    }
    return CMD_OK;
  }

  #invall(w: Uint32Array): number {
    const icid = w[4]! & 0xffff;
    const rd = this.ctx.store.readCte(icid);
    if (rd < 0 || !this.isRd(rd)) {
      return this.fail(C.GITS_CMD_INVALL, C.E_ITS_INVALL_UNMAPPED_COLLECTION, `collection ${icid} unmapped`);
    }
    this.ctx.target.invalidateAllLpis(rd);
    return CMD_OK;
  }

  /** Moves the pending state of LPI `intid` from `from` to `to`. */
  movePending(from: number, to: number, intid: number): void {
    if (from === to || !this.ctx.target.isLpiPending(from, intid)) return;
    this.ctx.target.clearLpiPending(from, intid);
    this.ctx.target.setLpiPending(to, intid);
  }

  /** Forgets the interrupt of an ITE being freed: clears its pending state. */
  dropIte(ite: IteRecord): void {
    if (ite.physical) {
      const rd = this.targetRd(ite);
      if (rd >= 0 && this.isRd(rd)) this.ctx.target.clearLpiPending(rd, ite.intid);
    } else {
      const vpes = this.ctx.vpes;
      const vpe = vpes?.get(ite.vpeid);
      if (vpe !== undefined) vpes!.clear(vpe, ite.intid);
    }
  }

  /** Reports an error and returns CMD_ERROR. */
  fail(cmd: number, code: number, detail: string): number {
    this.ctx.error(cmd, code, detail);
    return CMD_ERROR;
  }

  /** KVM vgic_its_check_event_id(): the ITE's guest address must be RAM (8-byte entries). */
  #ittEntryInRam(eventId: number): boolean {
    return this.ctx.isRam(this.dte.ittAddr + eventId * this.ctx.profile.ittEntrySize);
  }
}
