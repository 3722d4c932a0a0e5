/**
 * The GICv3 ITS driver of an arm64 guest, following Linux's
 * drivers/irqchip/irq-gic-v3-its.c:
 *
 * - probe (its_probe_one): GITS_TYPER parsed, the device and collection
 *   tables allocated (its-tables.ts), the command queue set up
 *   (its-command-queue.ts), GITS_CTLR.Enabled set; the LPI property table
 *   (its-lpi-tables.ts);
 * - per CPU (its_cpu_init): the redistributor's PROPBASER / PENDBASER /
 *   EnableLPIs, then the CPU's collection (ICID = logical CPU number,
 *   RDbase = Processor_Number or the redistributor address when
 *   GITS_TYPER.PTA) with MAPC and INVALL;
 * - per device (its_msi_prepare → its_create_device, its_irq_domain_alloc,
 *   its_irq_domain_activate): the ITT, MAPD, one LPI per vector and MAPTI
 *   to a CPU's collection; LPIs start disabled and are enabled and disabled
 *   through the property table plus INV (lpi_update_config);
 * - commands one at a time, each followed by a SYNC to the collection it
 *   touched (none after MAPD) and a wait for GITS_CREADR
 *   (its_send_single_command).
 *
 * The lower-level calls (mapd, mapc, mapti, int, inv, invall, discard,
 * movi, sync) take explicit IDs as kvm-unit-tests' lib/arm64/gic-v3-its-cmd.c
 * does, for tests that build their own mappings. A device's MSI doorbell is
 * {@link ItsDriver.doorbell} (GITS_TRANSLATER), the data its event ID.
 */

import {
  GITS_CMD_CLEAR,
  GITS_CMD_DISCARD,
  GITS_CMD_INT,
  GITS_CMD_INV,
  GITS_CTLR,
  GITS_CTLR_ENABLE,
  GITS_TRANSLATER,
  GITS_TYPER,
  LPI_PROP_ENABLED,
  itsCommandName,
} from "@irqlab/gic";
import { op } from "@irqlab/sim";
import type { CpuInfo, Gicv3Info, ItsInfo } from "../boot/platform-info.js";
import type { GuestCode } from "../guest-image.js";
import * as B from "./its-command-builders.js";
import { ItsCommandQueue } from "./its-command-queue.js";
import { LpiTables } from "./its-lpi-tables.js";
import type { KernelPages } from "./its-pages.js";
import { findRedistributor, type RedistributorInfo } from "./its-redistributor.js";
import { ItsTables } from "./its-tables.js";

/** The commands {@link ItsDriver} sends for one event of a device. */
type EventCommand = typeof GITS_CMD_INT | typeof GITS_CMD_CLEAR | typeof GITS_CMD_INV | typeof GITS_CMD_DISCARD;

/** The builder Linux names in "ITS cmd <builder> failed" for each event command (its_build_int_cmd, ...), named once. */
const EVENT_BUILDER = Object.freeze(
  Object.fromEntries([GITS_CMD_INT, GITS_CMD_CLEAR, GITS_CMD_INV, GITS_CMD_DISCARD].map((c) => [c, `its_build_${itsCommandName(c).toLowerCase()}_cmd`])),
) as Readonly<Record<EventCommand, string>>;

/** GITS_TYPER as the driver reads it (IHI 0069H §12.19.16). */
export interface ItsTyper {
  /** Physical [0]. */
  readonly physical: boolean;
  /** Virtual [1] (GICv4). */
  readonly virtual: boolean;
  /** ITT_entry_size [7:4] + 1, bytes. */
  readonly ittEntrySize: number;
  /** IDbits [12:8] + 1: EventID bits. */
  readonly idBits: number;
  /** Devbits [17:13] + 1: DeviceID bits. */
  readonly devBits: number;
  /** PTA [19]: collections target redistributor addresses instead of processor numbers. */
  readonly pta: boolean;
  /** CIDbits [35:32] + 1 when CIL [36], else 16. */
  readonly cidBits: number;
}

/** Decodes GITS_TYPER from its two words. */
export function parseItsTyper(lo: number, hi: number): ItsTyper {
  return {
    physical: (lo & 1) !== 0,
    virtual: (lo & 2) !== 0,
    ittEntrySize: ((lo >>> 4) & 0xf) + 1,
    idBits: ((lo >>> 8) & 0x1f) + 1,
    devBits: ((lo >>> 13) & 0x1f) + 1,
    pta: ((lo >>> 19) & 1) !== 0,
    cidBits: (hi & 0x10) !== 0 ? (hi & 0xf) + 1 : 16,
  };
}

/** ITS_ITT_ALIGN. */
export const ITS_ITT_ALIGN = 256;

/** A device the ITS knows (struct its_device). */
export interface ItsDevice {
  readonly devId: number;
  /** ITT entries: a power of two, at least 2. */
  readonly nrItes: number;
  /** ITT address (256-byte aligned). */
  readonly itt: number;
  /** First LPI of the device's vectors (event e is LPI lpiBase + e); 0 when it has none. */
  readonly lpiBase: number;
  /** LPIs allocated to it. */
  readonly nrLpis: number;
  /** ICID each mapped event targets (−1: unmapped). */
  readonly collection: Int32Array;
}

/** A collection (struct its_collection). */
export interface ItsCollection {
  readonly icid: number;
  /** target_address: Processor_Number << 16, or the redistributor's address (PTA). */
  readonly target: number;
}

/** The outcome of {@link ItsDriver.probe}. */
export type ItsProbeResult = { readonly ok: true; readonly its: ItsDriver } | { readonly ok: false; readonly message: string };

/** One ITS and the LPIs it serves. */
export class ItsDriver {
  readonly info: ItsInfo;
  readonly gic: Gicv3Info;
  readonly typer: ItsTyper;
  readonly queue: ItsCommandQueue;
  readonly tables: ItsTables;
  readonly lpis: LpiTables;
  readonly pages: KernelPages;
  /** Collections by ICID. */
  readonly collections = new Map<number, ItsCollection>();
  /** Devices by DeviceID. */
  readonly devices = new Map<number, ItsDevice>();
  /** Redistributors found, by logical CPU. */
  readonly redistributors = new Map<number, RedistributorInfo>();
  readonly #cmd = B.newItsCommandBuffer();
  readonly #sync = B.newItsCommandBuffer();

  private constructor(info: ItsInfo, gic: Gicv3Info, typer: ItsTyper, pages: KernelPages) {
    this.info = info;
    this.gic = gic;
    this.typer = typer;
    this.pages = pages;
    this.queue = new ItsCommandQueue(info.region.base);
    this.tables = new ItsTables(info.region.base);
    this.lpis = new LpiTables();
  }

  /**
   * its_probe_one() + its_init(): reads GITS_TYPER, allocates the tables,
   * the command queue and the LPI property table, and enables the ITS.
   */
  static *probe(gic: Gicv3Info, info: ItsInfo, pages: KernelPages): GuestCode<ItsProbeResult> {
    const base = info.region.base;
    const t = yield op.read(base + GITS_TYPER, 8);
    const typer = parseItsTyper(t.value, t.hi);
    const at = `ITS@0x${base.toString(16)}`;
    if (!typer.physical) return { ok: false, message: `${at}: no physical LPI support` };
    const its = new ItsDriver(info, gic, typer, pages);
    if (!(yield* its.lpis.init(gic.distributor.base, pages))) return { ok: false, message: `${at}: no memory for the LPI property table` };
    if (!(yield* its.tables.allocate(pages, typer.devBits))) return { ok: false, message: `${at}: failed to allocate the device and collection tables` };
    if (!(yield* its.queue.init(pages))) return { ok: false, message: `${at}: no memory for the command queue` };
    const ctlr = (yield op.read(base + GITS_CTLR, 4)).value;
    yield op.write(base + GITS_CTLR, 4, ctlr | GITS_CTLR_ENABLE);
    return { ok: true, its };
  }

  /** GITS_TRANSLATER: the MSI doorbell address a device writes its event ID to. */
  get doorbell(): number {
    return this.info.region.base + GITS_TRANSLATER;
  }

  /** Errors the queue reported (timeouts). */
  get errors(): readonly string[] {
    return this.queue.errors;
  }

  /**
   * its_cpu_init(): the CPU's redistributor gets its LPI tables and
   * EnableLPIs, and its collection (ICID = logical CPU number) is mapped
   * with MAPC + INVALL. May run on any CPU. Returns an error message or
   * undefined.
   */
  *cpuInit(cpu: CpuInfo): GuestCode<string | undefined> {
    const err = yield* this.enableLpis(cpu);
    if (err !== undefined) return err;
    const col = this.createCollection(cpu.logical, cpu.logical);
    if (col === undefined) return `CPU${cpu.logical}: no redistributor`;
    yield* this.mapc(col, true);
    yield* this.invall(col);
    return undefined;
  }

  /**
   * its_cpu_init_lpis() alone (kvm-unit-tests gicv3_lpi_rdist_enable): the
   * CPU's redistributor gets its pending table, PROPBASER and EnableLPIs;
   * no collection is mapped. Returns an error message or undefined.
   */
  *enableLpis(cpu: CpuInfo): GuestCode<string | undefined> {
    const rd = yield* findRedistributor(this.gic, cpu.hwid);
    if (rd === undefined) return `CPU${cpu.logical}: no redistributor for MPIDR 0x${cpu.hwid.toString(16)}`;
    if (!rd.plpis) return `CPU${cpu.logical}: redistributor has no physical LPIs`;
    this.redistributors.set(cpu.logical, rd);
    const err = yield* this.lpis.enableRedistributor(rd.base, this.pages);
    if (err !== undefined) return `CPU${cpu.logical}: ${err === "no-memory" ? "no memory for the LPI pending table" : "LPIs already enabled"}`;
    return undefined;
  }

  /**
   * A collection `icid` aimed at logical CPU `cpu`'s redistributor
   * (its_cpu_init_collection, kvm-unit-tests its_create_collection); not
   * mapped until {@link mapc}. Undefined when the CPU has no known redistributor.
   */
  createCollection(icid: number, cpu: number): ItsCollection | undefined {
    const rd = this.redistributors.get(cpu);
    if (rd === undefined) return undefined;
    const col: ItsCollection = { icid, target: this.typer.pta ? rd.base : rd.processorNumber * 0x1_0000 };
    this.collections.set(icid, col);
    return col;
  }

  /**
   * its_create_device(): room in the device table, an ITT of
   * max(2, nrItes rounded up to a power of two) entries and `nrLpis` LPIs;
   * then MAPD. Undefined when the DeviceID is out of range or memory or
   * LPIs ran out.
   */
  *createDevice(devId: number, nrItes: number, nrLpis = 0): GuestCode<ItsDevice | undefined> {
    if (!(yield* this.tables.allocDevice(devId, this.pages))) return undefined;
    const ites = Math.max(2, 2 ** Math.ceil(Math.log2(Math.max(1, nrItes))));
    const size = Math.max(ites * this.typer.ittEntrySize, ITS_ITT_ALIGN);
    const itt = yield* this.pages.alloc(Math.ceil(size / 8) * 8, ITS_ITT_ALIGN);
    if (itt === undefined) return undefined;
    let lpiBase = 0;
    if (nrLpis > 0) {
      const b = this.lpis.allocate(nrLpis);
      if (b === undefined) return undefined;
      lpiBase = b;
    }
    const dev: ItsDevice = { devId, nrItes: ites, itt, lpiBase, nrLpis, collection: new Int32Array(ites).fill(-1) };
    this.devices.set(devId, dev);
    yield* this.mapd(dev, true);
    return dev;
  }

  /**
   * What a PCI/MSI-X driver gets from pci_alloc_irq_vectors() on this ITS
   * (its_pci_msi_prepare, its_create_device, its_irq_domain_alloc/activate):
   * `nvecs` rounded up to a power of two (at least 32 for DeviceID 0) sizes
   * the ITT and is the number of LPIs the device gets; the first `nvecs`
   * events are mapped with MAPTI to `cpu`'s collection and left disabled
   * until {@link enableEvent}.
   */
  *mapDevice(devId: number, nvecs: number, cpu = 0): GuestCode<ItsDevice | undefined> {
    const rounded = Math.max(devId === 0 ? 32 : 1, 2 ** Math.ceil(Math.log2(Math.max(1, nvecs))));
    const dev = yield* this.createDevice(devId, rounded, rounded);
    if (dev === undefined) return undefined;
    const col = this.collections.get(cpu);
    if (col === undefined) return undefined;
    for (let ev = 0; ev < nvecs; ev++) yield* this.mapti(dev, ev, dev.lpiBase + ev, col);
    return dev;
  }

  /**
   * Undoes {@link mapDevice} (its_irq_domain_deactivate/free, its_free_device):
   * DISCARD every mapped event, MAPD V=0, LPIs back to the allocator.
   */
  *unmapDevice(dev: ItsDevice): GuestCode {
    for (let ev = 0; ev < dev.nrItes; ev++) if (dev.collection[ev]! >= 0) yield* this.discard(dev, ev);
    yield* this.mapd(dev, false);
    if (dev.nrLpis > 0) this.lpis.free(dev.lpiBase, dev.nrLpis);
    this.devices.delete(dev.devId);
  }

  /** LPI of event `ev` of a device from {@link mapDevice}. */
  lpiOf(dev: ItsDevice, ev: number): number {
    return dev.lpiBase + ev;
  }

  /** irq_unmask → lpi_update_config(d, 0, LPI_PROP_ENABLED): the property byte, then INV. */
  *enableEvent(dev: ItsDevice, ev: number): GuestCode<boolean> {
    yield* this.lpis.updateConfig(this.lpiOf(dev, ev), 0, LPI_PROP_ENABLED);
    return yield* this.inv(dev, ev);
  }

  /** irq_mask → lpi_update_config(d, LPI_PROP_ENABLED, 0). */
  *disableEvent(dev: ItsDevice, ev: number): GuestCode<boolean> {
    yield* this.lpis.updateConfig(this.lpiOf(dev, ev), LPI_PROP_ENABLED, 0);
    return yield* this.inv(dev, ev);
  }

  // ---- single commands (its_send_*) ----

  /** MAPD (no SYNC: its_build_mapd_cmd returns no collection). */
  *mapd(dev: ItsDevice, valid: boolean): GuestCode<boolean> {
    B.buildMapd(this.#cmd, dev.devId, dev.itt, dev.nrItes, valid);
    if (!valid) dev.collection.fill(-1);
    return yield* this.#send(undefined, "its_build_mapd_cmd");
  }

  /** MAPC + SYNC to the collection's target. */
  *mapc(col: ItsCollection, valid: boolean): GuestCode<boolean> {
    B.buildMapc(this.#cmd, col.icid, col.target, valid);
    return yield* this.#send(col, "its_build_mapc_cmd");
  }

  /** MAPTI event → LPI in collection `col`, + SYNC. */
  *mapti(dev: ItsDevice, ev: number, lpi: number, col: ItsCollection): GuestCode<boolean> {
    B.buildMapti(this.#cmd, dev.devId, ev, lpi, col.icid);
    if (ev < dev.collection.length) dev.collection[ev] = col.icid;
    return yield* this.#send(col, "its_build_mapti_cmd");
  }

  /** MOVI to collection `col`, + SYNC to the event's old collection (its_build_movi_cmd syncs on dev_event_to_col). */
  *movi(dev: ItsDevice, ev: number, col: ItsCollection): GuestCode<boolean> {
    B.buildMovi(this.#cmd, dev.devId, ev, col.icid);
    const old = ev < dev.collection.length ? dev.collection[ev]! : -1;
    if (ev < dev.collection.length) dev.collection[ev] = col.icid;
    return yield* this.#send(old >= 0 ? this.collections.get(old) : undefined, "its_build_movi_cmd");
  }

  /** INT: the event's LPI becomes pending, as if the device had written GITS_TRANSLATER. */
  *int(dev: ItsDevice, ev: number): GuestCode<boolean> {
    return yield* this.#event(GITS_CMD_INT, dev, ev);
  }

  /** CLEAR: the event's LPI stops being pending. */
  *clear(dev: ItsDevice, ev: number): GuestCode<boolean> {
    return yield* this.#event(GITS_CMD_CLEAR, dev, ev);
  }

  /** INV: the redistributor re-reads the event's LPI configuration byte. */
  *inv(dev: ItsDevice, ev: number): GuestCode<boolean> {
    return yield* this.#event(GITS_CMD_INV, dev, ev);
  }

  /** DISCARD: the event's mapping is removed and its pending LPI dropped. */
  *discard(dev: ItsDevice, ev: number): GuestCode<boolean> {
    const ok = yield* this.#event(GITS_CMD_DISCARD, dev, ev);
    if (ev < dev.collection.length) dev.collection[ev] = -1;
    return ok;
  }

  /** INVALL of a collection, + SYNC to its target. */
  *invall(col: ItsCollection): GuestCode<boolean> {
    B.buildInvall(this.#cmd, col.icid);
    return yield* this.#send(col, "its_build_invall_cmd");
  }

  /** SYNC to a collection's target. */
  *sync(col: ItsCollection): GuestCode<boolean> {
    B.buildSync(this.#cmd, col.target);
    return yield* this.queue.send(this.#cmd, undefined, "its_build_sync_cmd");
  }

  /** An event command (INT, CLEAR, INV, DISCARD) built into the command buffer, and the code that sends it with a SYNC to the event's collection. */
  #event(cmd: EventCommand, dev: ItsDevice, ev: number): GuestCode<boolean> {
    B.buildEventCommand(this.#cmd, cmd, dev.devId, ev);
    const icid = ev < dev.collection.length ? dev.collection[ev]! : -1;
    return this.#send(icid >= 0 ? this.collections.get(icid) : undefined, EVENT_BUILDER[cmd]);
  }

  /** its_send_single_command() of the built command: it, a SYNC to `sync` when given, CWRITER, wait. */
  #send(sync: ItsCollection | undefined, builder: string): GuestCode<boolean> {
    if (sync === undefined) return this.queue.send(this.#cmd, undefined, builder);
    B.buildSync(this.#sync, sync.target);
    return this.queue.send(this.#cmd, this.#sync, builder);
  }
}
