/**
 * Test fixtures for the ITS (not exported from the package): a fake
 * {@link LpiTarget} that records LPI state per redistributor, and a harness
 * that lays out guest memory, programs CBASER/BASERn through MMIO and submits
 * commands through the queue as a guest driver does.
 */

import { GuestMemory, Tracer } from "@irqlab/sim";
import { Gicv3 } from "../gicv3.js";
import { GICD_CTLR, GICR_CTLR, GICR_PENDBASER, GICR_PROPBASER, ICC_IGRPEN1_EL1, ICC_PMR_EL1 } from "../gicv3-constants.js";
import type { LpiTarget } from "../lpi-target.js";
import { GicrVlpiFrame } from "../v4/gicr-vlpi-frame.js";
import { VpeTable } from "../v4/vpe.js";
import { Its } from "./its.js";
import { writeItsCommand } from "./its-command-encoding.js";
import * as C from "./its-constants.js";
import type { ItsProfileName } from "./its-profiles.js";

/** A redistributor stand-in: pending bits per (rd, intid), and call logs. */
export class FakeLpiTarget implements LpiTarget {
  /** Pending LPIs as rd × 2^24 + intid. */
  readonly #pending = new Set<number>();
  /** Calls of setLpiPending that found the LPI not yet pending. */
  becamePending = 0;
  readonly invalidated: [number, number][] = [];
  readonly invalidatedAll: number[] = [];

  constructor(readonly redistributorCount: number) {}

  setLpiPending(rd: number, intid: number): void {
    const k = rd * 2 ** 24 + intid;
    if (!this.#pending.has(k)) this.becamePending++;
    this.#pending.add(k);
  }

  clearLpiPending(rd: number, intid: number): void {
    this.#pending.delete(rd * 2 ** 24 + intid);
  }

  isLpiPending(rd: number, intid: number): boolean {
    return this.#pending.has(rd * 2 ** 24 + intid);
  }

  invalidateLpi(rd: number, intid: number): void {
    this.invalidated.push([rd, intid]);
  }

  invalidateAllLpis(rd: number): void {
    this.invalidatedAll.push(rd);
  }

  /** Every pending (rd, intid) as "rd:intid" strings, sorted as strings. */
  pendingList(): string[] {
    return [...this.#pending].map((k) => `${Math.floor(k / 2 ** 24)}:${k % 2 ** 24}`).sort();
  }

  /** Clears every pending LPI. */
  clearAll(): void {
    this.#pending.clear();
  }
}

/** Guest-physical layout used by the harness. */
export const RAM_BASE = 0x4000_0000;
/** Size of the harness RAM. */
export const RAM_SIZE = 0x0400_0000;
/** Command queue (64 KiB, 2048 commands). */
export const CMDQ_BASE = RAM_BASE;
/** Device table (one 64 KiB page). */
export const DT_BASE = RAM_BASE + 0x10_0000;
/** Collection table (one 64 KiB page). */
export const CT_BASE = RAM_BASE + 0x20_0000;
/** ITTs: DeviceID d at ITT_BASE + d × 64 KiB. */
export const ITT_BASE = RAM_BASE + 0x100_0000;

/** Options of {@link makeIts}. */
export interface HarnessOptions {
  readonly profile: ItsProfileName;
  readonly rds?: number;
  readonly vpes?: VpeTable;
  readonly memory?: GuestMemory;
  readonly target?: FakeLpiTarget;
  /** What the ITS delivers to instead of the fake (a Gicv3). */
  readonly lpiTarget?: LpiTarget;
  readonly lpiIdBits?: number;
  /** Program CBASER and BASER0/1 and enable (default true). */
  readonly enable?: boolean;
}

/** An ITS wired to a fake target and guest RAM, with a queue writer. */
export class ItsHarness {
  readonly memory: GuestMemory;
  readonly target: FakeLpiTarget;
  readonly tracer = new Tracer();
  readonly its: Its;

  constructor(o: HarnessOptions) {
    this.memory = o.memory ?? new GuestMemory();
    if (o.memory === undefined) this.memory.addRam(RAM_BASE, RAM_SIZE);
    this.target = o.target ?? new FakeLpiTarget(o.rds ?? 4);
    this.its = new Its({
      profile: o.profile,
      target: o.lpiTarget ?? this.target,
      memory: this.memory,
      tracer: this.tracer,
      lpiIdBits: o.lpiIdBits ?? 17,
      ...(o.vpes !== undefined ? { vpes: o.vpes } : {}),
    });
    if (o.enable ?? true) this.setup();
  }

  /** Programs CBASER (16 pages), BASER0 and BASER1 (one 64 KiB page each, valid) and enables the ITS. */
  setup(): void {
    this.write64(C.GITS_CBASER, CMDQ_BASE + 15, C.GITS_CBASER_HI_VALID);
    this.writeBaser(0, DT_BASE);
    this.writeBaser(1, CT_BASE);
    this.its.write(C.GITS_CTLR, 4, C.GITS_CTLR_ENABLE, 0);
  }

  /** Writes GITS_BASER<n> with a flat table of one 64 KiB page at `base`, Valid. */
  writeBaser(n: number, base: number, pages = 1): void {
    const old = this.read64(C.GITS_BASER + 8 * n);
    const lo = ((old[0] & 0x0000_0f00) | (base & 0xffff_0000) | (pages - 1)) >>> 0;
    this.write64(C.GITS_BASER + 8 * n, lo, (old[1] | C.GITS_BASER_HI_VALID) >>> 0);
  }

  read64(offset: number): [number, number] {
    const wide = { hi: 0 };
    const lo = this.its.read(offset, 8, wide);
    return [lo, wide.hi];
  }

  write64(offset: number, lo: number, hi: number): void {
    this.its.write(offset, 8, lo >>> 0, hi >>> 0);
  }

  /** Appends commands at CWRITER and advances CWRITER by one MMIO write. */
  submit(...cmds: readonly (readonly number[])[]): void {
    const size = this.its.queue.size;
    let off = this.its.read(C.GITS_CWRITER, 4, { hi: 0 });
    for (const words of cmds) {
      writeItsCommand(this.memory, CMDQ_BASE + off, words);
      off = (off + C.ITS_CMD_SIZE) % size;
    }
    this.its.write(C.GITS_CWRITER, 8, off, 0);
  }

  /** An MSI: the device writes EventID to GITS_TRANSLATER with its DeviceID on the bus. */
  msi(deviceId: number, eventId: number): void {
    this.its.requesterId = deviceId;
    this.its.write(C.GITS_TRANSLATER, 4, eventId, 0);
  }

  /** Guest errors counted for `source` ("its:E_ITS_MAPD_DEVICE_OOR", ...). */
  errorCount(source: string): number {
    return this.tracer.counters.get(`guest-error:${source}`);
  }
}

/** ITT address of DeviceID `d` in the harness layout. */
export function ittOf(d: number): number {
  return ITT_BASE + d * 0x1_0000;
}

/** LPI configuration table of {@link gicWithIts}. */
export const PROP = RAM_BASE + 0x200_0000;
/** LPI pending tables (64 KiB per PE). */
export const PEND = RAM_BASE + 0x210_0000;
/** vLPI configuration table. */
export const VCONF = RAM_BASE + 0x300_0000;

/** A 2-PE GICv4.1 with LPIs enabled (config: priority 0xA0, enabled) and an ITS in front. */
export function gicWithIts(profile: ItsProfileName, lpis = 512) {
  const memory = new GuestMemory();
  memory.addRam(RAM_BASE, RAM_SIZE);
  const gic = new Gicv3({ cpus: 2, memory, v41: true });
  gic.distributor.write(GICD_CTLR, 4, 2, 0);
  for (let i = 0; i < lpis; i++) memory.writeU8(PROP + i, 0xa0 | 3);
  for (let i = 0; i < 512; i++) memory.writeU8(VCONF + i, 0x80 | 3);
  const stride = gic.redistributors.stride;
  for (let pe = 0; pe < 2; pe++) {
    gic.writeSysReg(pe, ICC_PMR_EL1, 0xff);
    gic.writeSysReg(pe, ICC_IGRPEN1_EL1, 1);
    gic.redistributors.write(pe * stride + GICR_PROPBASER, 8, PROP | 15, 0);
    gic.redistributors.write(pe * stride + GICR_PENDBASER, 8, PEND + pe * 0x10000, 0);
    gic.redistributors.write(pe * stride + GICR_CTLR, 4, 1, 0);
  }
  const vpes = new VpeTable({
    memory,
    onResidentVlpi: (rd) => {
      gic.hyp[rd]!.update();
    },
  });
  const frames = [0, 1].map((rd) => {
    const f = new GicrVlpiFrame({ vpes, rd });
    gic.setVlpiFrame(rd, f);
    gic.setDirectVlpiSource(rd, f);
    return f;
  });
  const h = new ItsHarness({ profile, memory, vpes, lpiTarget: gic, lpiIdBits: 16 });
  gic.redistributors.onLpisDisabled = (rd) => {
    h.its.invalidateRedistributor(rd);
  };
  return { gic, h, vpes, frames, stride };
}
