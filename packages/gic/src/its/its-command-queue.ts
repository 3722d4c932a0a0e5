/**
 * The ITS command queue: GITS_CBASER, GITS_CWRITER, GITS_CREADR
 * (IHI 0069H §12.19.4–§12.19.6, §6.2 "command queue").
 *
 * The queue is a ring of 32-byte commands in memory at CBASER.PA, of
 * (CBASER.Size + 1) 4 KiB pages. Software writes commands then advances
 * CWRITER; the ITS executes from CREADR until it reaches CWRITER. As in KVM
 * (vgic_its_process_commands()) and QEMU (process_cmdq()), commands run
 * synchronously inside the MMIO write that advanced CWRITER or enabled the ITS.
 *
 * Profiles: under "linux-kvm" an unreadable command is skipped and the queue
 * never stalls; under "qemu" a memory fault reading a command or a table sets
 * GITS_CREADR.Stalled and stops processing until CBASER is written again
 * (QEMU masks CWRITER.Retry, so Retry does not restart it).
 * Commands are read as eight 32-bit words into one preallocated buffer.
 */

import { GuestMemoryFault, type GuestMemory, type Tracer, type TrackId } from "@irqlab/sim";
import { CMD_STALL, type ItsCommandExecutor } from "./its-commands.js";
import { GITS_CBASER_HI_VALID, ITS_CMD_SIZE, itsCommandName } from "./its-constants.js";
import type { ItsProfile } from "./its-profiles.js";

/** Plain snapshot of the queue registers. */
export interface ItsCommandQueueState {
  readonly cbaserLo: number;
  readonly cbaserHi: number;
  readonly cwriter: number;
  readonly creadr: number;
  readonly stalled: boolean;
}

/** CBASER/CWRITER/CREADR and the processing loop. */
export class ItsCommandQueue {
  cbaserLo = 0;
  cbaserHi = 0;
  /** CWRITER.Offset (bytes). */
  cwriter = 0;
  /** CREADR.Offset (bytes). */
  creadr = 0;
  /** CREADR.Stalled. */
  stalled = false;
  /** Commands executed since construction. */
  executed = 0;
  readonly #words = new Uint32Array(8);

  constructor(
    private readonly profile: ItsProfile,
    private readonly memory: GuestMemory,
    private readonly tracer: Tracer,
    private readonly track: TrackId,
  ) {}

  /** CBASER.Valid. */
  get valid(): boolean {
    return (this.cbaserHi & GITS_CBASER_HI_VALID) !== 0;
  }

  /** CBASER.PA (bits [51:12]). */
  get base(): number {
    return ((this.cbaserLo & 0xffff_f000) >>> 0) + (this.cbaserHi & 0xfffff) * 2 ** 32;
  }

  /** Queue size in bytes: (CBASER.Size + 1) × 4 KiB. */
  get size(): number {
    return ((this.cbaserLo & 0xff) + 1) * 4096;
  }

  /** A GITS_CBASER write (the caller ignores it while the ITS is enabled). */
  writeCbaser(lo: number, hi: number): void {
    // KVM forces 64 KiB alignment (vgic_mmio_write_its_cbaser: reg &= ~GENMASK(15, 12)).
    this.cbaserLo = (this.profile.cbaserAlign64k ? lo & ~0xf000 : lo) >>> 0;
    this.cbaserHi = hi >>> 0;
    this.creadr = 0;
    this.stalled = false;
    if (this.profile.cbaserResetsCwriter) this.cwriter = 0;
  }

  /**
   * A GITS_CWRITER write of `value` (low word). Returns true when the caller
   * should process the queue.
   */
  writeCwriter(value: number): boolean {
    const offset = value & 0x000f_ffe0;
    if (offset >= this.size) {
      this.tracer.guestError(this.track, "its:cwriter", `CWRITER offset 0x${offset.toString(16)} beyond queue of ${this.size} bytes`);
      if (this.profile.storeOutOfRangeCwriter) this.cwriter = offset;
      return false;
    }
    this.cwriter = offset;
    return true;
  }

  /** GITS_CREADR read value (low word). */
  readCreadr(): number {
    return (this.creadr | (this.stalled ? 1 : 0)) >>> 0;
  }

  /** Executes commands from CREADR to CWRITER. Returns how many ran. */
  process(ex: ItsCommandExecutor): number {
    if (!this.valid || this.stalled) return 0;
    const size = this.size;
    if (this.cwriter >= size || this.creadr >= size) {
      this.tracer.guestError(this.track, "its:cmdq", `CWRITER/CREADR beyond queue of ${size} bytes`);
      return 0;
    }
    const base = this.base;
    const words = this.#words;
    let n = 0;
    while (this.creadr !== this.cwriter && n < size / ITS_CMD_SIZE) {
      n++;
      const addr = base + this.creadr;
      try {
        this.memory.readU32s(addr, words);
      } catch (e) {
        if (!(e instanceof GuestMemoryFault)) throw e;
        this.tracer.guestError(this.track, "its:cmdq", `command at 0x${addr.toString(16)} unreadable`);
        if (this.profile.stallOnMemoryFault) {
          this.stalled = true;
          return n - 1;
        }
        this.creadr = (this.creadr + ITS_CMD_SIZE) % size;
        continue;
      }
      if (this.tracer.enabled) {
        this.tracer.instant(this.track, "its", itsCommandName(words[0]! & 0xff), { offset: this.creadr });
      }
      this.executed++;
      if (ex.execute(words) === CMD_STALL) {
        this.stalled = true;
        return n;
      }
      this.creadr = (this.creadr + ITS_CMD_SIZE) % size;
    }
    return n;
  }

  /** Snapshot. */
  state(): ItsCommandQueueState {
    return { cbaserLo: this.cbaserLo, cbaserHi: this.cbaserHi, cwriter: this.cwriter, creadr: this.creadr, stalled: this.stalled };
  }

  /** Restores a snapshot. */
  load(s: ItsCommandQueueState): void {
    this.cbaserLo = s.cbaserLo >>> 0;
    this.cbaserHi = s.cbaserHi >>> 0;
    this.cwriter = s.cwriter;
    this.creadr = s.creadr;
    this.stalled = s.stalled;
  }
}
