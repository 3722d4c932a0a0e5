/**
 * The driver's side of the ITS command queue, as Linux runs it
 * (drivers/irqchip/irq-gic-v3-its.c): a 64 KiB ring of 32-byte commands
 * (ITS_CMD_QUEUE_SZ, 2048 entries) described by GITS_CBASER; commands are
 * written at the driver's write pointer (its_allocate_entry, waiting while
 * the ring is full), published by a GITS_CWRITER write (its_post_commands)
 * and waited for by polling GITS_CREADR (its_wait_for_range_completion:
 * one million polls with udelay(1) between them, i.e. one second, then
 * "ITS queue timeout"). Architecture: IHI 0069H §6.2, §12.19.4–§12.19.6.
 */

import { GITS_CBASER, GITS_CBASER_HI_VALID, GITS_CREADR, GITS_CWRITER, ITS_CMD_SIZE, itsCommandName } from "@irqlab/gic";
import { op, StateMachineProgram, type AccessSize, type ComputeOp, type GuestOp, type GuestResult, type MmioReadOp, type SeqOp } from "@irqlab/sim";
import type { GuestCode } from "../guest-image.js";
import type { ItsCommandBuffer } from "./its-command-builders.js";
import { SZ_64K, type KernelPages } from "./its-pages.js";

/** ITS_CMD_QUEUE_SZ. */
export const ITS_CMD_QUEUE_SZ = SZ_64K;
/** ITS_CMD_QUEUE_NR_ENTRIES. */
export const ITS_CMD_QUEUE_NR_ENTRIES = ITS_CMD_QUEUE_SZ / ITS_CMD_SIZE;
/** Polls of GITS_CREADR before giving up (its_wait_for_range_completion, its_allocate_entry: 1000000). */
export const ITS_QUEUE_POLLS = 1_000_000;
/** udelay(1) between two polls. */
export const ITS_POLL_DELAY_NS = 1000;

/** GITS_CBASER.InnerCache = RaWaWb (7 << 59), in the high word (GITS_CBASER_RaWaWb). */
const GITS_CBASER_HI_RAWAWB = 7 << 27;
/** GITS_CBASER.Shareability = Inner Shareable (1 << 10) (GITS_CBASER_InnerShareable). */
const GITS_CBASER_INNER_SHAREABLE = 1 << 10;
/** CREADR / CWRITER Offset [19:5]. */
const OFFSET_MASK = 0x000f_ffe0;

const POLL_DELAY: ComputeOp = op.compute(ITS_POLL_DELAY_NS);

/**
 * The command numbers up to 0xf that kvm-unit-tests' its_cmd_string[]
 * (lib/arm64/gic-v3-its-cmd.c) names, one bit each: MOVI, INT, CLEAR, SYNC,
 * MAPD … DISCARD (0x01, 0x03–0x05, 0x08–0x0f). Its timeout message prints
 * the others as a NULL string ("" here).
 */
const KUT_NAMED_COMMANDS = 0xff3a;

/** A store the queue fills in again for every command (see ItsCommandQueue's #slotStores). */
interface ReusedStore {
  readonly kind: "mmio-write";
  addr: number;
  readonly size: AccessSize;
  value: number;
  hi: number;
}

function reusedStore(addr: number, size: AccessSize): ReusedStore {
  // Made by the builder, for the shape every other op has.
  return op.write(addr, size, 0);
}

/**
 * The command ring of one ITS. One command is in flight at a time, as under
 * Linux's its->lock (taken with interrupts off): no other CPU and no
 * interrupt handler sends while a send is under way.
 */
export class ItsCommandQueue {
  /** Physical address of the ring (0 until {@link init}). */
  base = 0;
  /** Offset of the next free slot, in bytes (its->cmd_write − its->cmd_base). */
  write = 0;
  /** Commands written since init. */
  commands = 0;
  /** Timeouts seen ("ITS queue timeout", "ITS queue not draining"). */
  readonly errors: string[] = [];

  /** The load of GITS_CREADR (one op, reused: the queue reads it before every command and while waiting). */
  readonly #creadr: MmioReadOp;

  /** The 8-byte load of GITS_CREADR (readq), as kvm-unit-tests' library reads it. */
  readonly #creadr64: MmioReadOp;

  /**
   * The copy of a command into its slot (four 8-byte stores, one op.seq) and
   * the GITS_CWRITER stores (4 bytes, Linux's writel_relaxed; 8 bytes,
   * kvm-unit-tests' writeq): one set of ops per queue, filled in for each
   * command. Whoever runs a yielded op is done with it before the program
   * resumes, and the queue yields one command at a time.
   */
  readonly #slotStores: readonly ReusedStore[] = Array.from({ length: 4 }, () => reusedStore(0, 8));
  readonly #copySeq: SeqOp;
  readonly #cwriter: ReusedStore;
  readonly #cwriter64: ReusedStore;
  readonly #unsynced: UnsyncedSend;

  constructor(private readonly its: number) {
    this.#creadr = op.read(its + GITS_CREADR, 4);
    this.#creadr64 = op.read(its + GITS_CREADR, 8);
    this.#copySeq = op.seq(this.#slotStores);
    this.#cwriter = reusedStore(its + GITS_CWRITER, 4);
    this.#cwriter64 = reusedStore(its + GITS_CWRITER, 8);
    this.#unsynced = new UnsyncedSend(this, (c) => this.#copy(c), this.#cwriter64, this.#creadr64);
  }

  /**
   * its_probe_one(): allocates the ring, programs GITS_CBASER (Valid,
   * RaWaWb, Inner Shareable, 16 pages) and zeroes GITS_CWRITER. Returns
   * false when RAM is exhausted.
   */
  *init(pages: KernelPages): GuestCode<boolean> {
    const base = yield* pages.alloc(ITS_CMD_QUEUE_SZ, SZ_64K);
    if (base === undefined) return false;
    this.base = base;
    this.write = 0;
    const lo = (base % 2 ** 32 | GITS_CBASER_INNER_SHAREABLE | (ITS_CMD_QUEUE_SZ / 4096 - 1)) >>> 0;
    const hi = (Math.floor(base / 2 ** 32) | GITS_CBASER_HI_RAWAWB | GITS_CBASER_HI_VALID) >>> 0;
    yield op.write(this.its + GITS_CBASER, 8, lo, hi);
    yield op.write(this.its + GITS_CWRITER, 8, 0, 0);
    return true;
  }

  /** its_queue_full() on a GITS_CREADR value: the slot after the write pointer is the one the ITS reads next. */
  #full(creadr: number): boolean {
    return (this.write / ITS_CMD_SIZE + 1) % ITS_CMD_QUEUE_NR_ENTRIES === (creadr & OFFSET_MASK) / ITS_CMD_SIZE;
  }

  /**
   * its_allocate_entry() + the copy into the slot (four 8-byte stores, as
   * its_fixup_cmd leaves them, one op.seq): false when the ring never drains.
   */
  push(c: ItsCommandBuffer): GuestCode<boolean> {
    return this.#exchange(c, undefined, undefined);
  }

  /**
   * its_send_single_command() once the command is built: the command, then
   * `sync` when given (a full ring posts the command alone, as Linux's
   * "goto post"), then {@link post}.
   */
  send(c: ItsCommandBuffer, sync: ItsCommandBuffer | undefined, builder: string): GuestCode<boolean> {
    return this.#exchange(c, sync, builder);
  }

  /**
   * The end of its_send_single_command(): GITS_CREADR read, then
   * its_post_commands() (CWRITER = the write pointer) and
   * its_wait_for_range_completion() until CREADR has moved past everything
   * posted. False on timeout, with Linux's two messages recorded ("ITS
   * queue timeout (to linear)" in byte offsets, then "ITS cmd <builder> failed").
   */
  post(builder: string): GuestCode<boolean> {
    return this.#exchange(undefined, undefined, builder);
  }

  /**
   * {@link push} of `c` and then of `sync` (each when given), then {@link post}
   * when `builder` is given: one generator, so that the driver's commands
   * (an INT for every LPI a test raises) resume no nested ones.
   */
  *#exchange(c: ItsCommandBuffer | undefined, sync: ItsCommandBuffer | undefined, builder: string | undefined): GuestCode<boolean> {
    for (let next = c ?? sync; next !== undefined; next = next === c ? sync : undefined) {
      let room = true;
      for (let polls = ITS_QUEUE_POLLS; this.#full((yield this.#creadr).value); ) {
        if (--polls === 0) {
          this.errors.push("ITS queue not draining");
          room = false;
          break;
        }
        yield POLL_DELAY;
      }
      if (room) yield this.#copy(next);
      else if (next === c) return false;
    }
    if (builder === undefined) return true;
    let prev = (yield this.#creadr).value & OFFSET_MASK;
    const next = this.write;
    this.#cwriter.value = next;
    yield this.#cwriter;
    const to = next < prev ? next + ITS_CMD_QUEUE_SZ : next;
    let linear = prev;
    for (let polls = ITS_QUEUE_POLLS; ; ) {
      const rd = (yield this.#creadr).value & OFFSET_MASK;
      linear += rd < prev ? rd - prev + ITS_CMD_QUEUE_SZ : rd - prev;
      if (linear >= to) return true;
      if (--polls === 0) {
        this.errors.push(`ITS queue timeout (${to} ${linear})`, `ITS cmd ${builder} failed`);
        return false;
      }
      prev = rd;
      yield POLL_DELAY;
    }
  }

  /**
   * kvm-unit-tests' its_send_single_command() (lib/arm64/gic-v3-its-cmd.c),
   * for the tests that use its ITS library rather than Linux's driver: the
   * command into the next slot with no check that the ring has room
   * (its_allocate_entry there only advances and wraps), no SYNC after it,
   * GITS_CWRITER written with an 8-byte store, then GITS_CREADR read with
   * 8-byte loads until it reaches the command's end or falls below its start
   * (its_wait_for_range_completion), udelay(1) between reads. False after
   * 1000000 reads, with the source's "<CMD> timeout!" recorded.
   */
  sendUnsynced(c: ItsCommandBuffer): GuestCode<boolean> {
    return this.#unsynced.start(c);
  }

  /** The copy of a command into the slot at the write pointer: the op.seq of its four stores, advancing the pointer. */
  #copy(c: ItsCommandBuffer): SeqOp {
    const slot = this.base + this.write;
    this.write = (this.write + ITS_CMD_SIZE) % ITS_CMD_QUEUE_SZ;
    this.commands++;
    const stores = this.#slotStores;
    for (let i = 0; i < 4; i++) {
      const w = stores[i]!;
      w.addr = slot + 8 * i;
      w.value = (c[2 * i] ?? 0) >>> 0;
      w.hi = (c[2 * i + 1] ?? 0) >>> 0;
    }
    return this.#copySeq;
  }
}

/** The timeout message of kvm-unit-tests' wait for command `cmd` ("<CMD> timeout!", named from its_cmd_string[]). */
function kutTimeout(cmd: number): string {
  const name = cmd > 0xf ? "Unexpected" : ((KUT_NAMED_COMMANDS >>> cmd) & 1) !== 0 ? itsCommandName(cmd) : "";
  return `${name} timeout!`;
}

const NO_COMMAND: ItsCommandBuffer = new Uint32Array(8);

// Where an UnsyncedSend resumes: the op it yielded last was ...
const SEND_START = 0; // nothing yet
const SEND_AT_COPY = 1; // the command's copy into its slot
const SEND_AT_CWRITER = 2; // the GITS_CWRITER store
const SEND_AT_CREADR = 3; // a GITS_CREADR load
const SEND_AT_DELAY = 4; // udelay(1)
const SEND_OVER = 5;

/**
 * {@link ItsCommandQueue.sendUnsynced}'s program: its_send_single_command's
 * ops in its order — the copy, the CWRITER store, CREADR loads with udelay(1)
 * between them — as a state machine rather than a generator, one per queue
 * and started again for each command, so that a command sent in a timed loop
 * makes no program and no yield record.
 */
class UnsyncedSend extends StateMachineProgram<boolean> {
  #at = SEND_OVER;
  #command: ItsCommandBuffer = NO_COMMAND;
  #from = 0;
  #to = 0;
  #reads = 0;

  constructor(
    private readonly queue: ItsCommandQueue,
    private readonly copy: (c: ItsCommandBuffer) => SeqOp,
    private readonly cwriter: ReusedStore,
    private readonly creadr: MmioReadOp,
  ) {
    super(creadr);
  }

  start(c: ItsCommandBuffer): this {
    this.#command = c;
    this.#at = SEND_START;
    return this;
  }

  next(r: GuestResult): IteratorResult<GuestOp, boolean> {
    switch (this.#at) {
      case SEND_START: {
        this.#from = this.queue.write;
        const copy = this.copy(this.#command);
        this.#to = this.queue.write;
        return this.#yield(SEND_AT_COPY, copy);
      }
      case SEND_AT_COPY:
        this.cwriter.value = this.#to;
        return this.#yield(SEND_AT_CWRITER, this.cwriter);
      case SEND_AT_CWRITER:
        this.#reads = ITS_QUEUE_POLLS;
        return this.#yield(SEND_AT_CREADR, this.creadr);
      case SEND_AT_CREADR: {
        const rd = r.value;
        if (rd >= this.#to || rd < this.#from) return this.#return(true);
        if (--this.#reads === 0) {
          this.queue.errors.push(kutTimeout((this.#command[0] ?? 0) & 0xff));
          return this.#return(false);
        }
        return this.#yield(SEND_AT_DELAY, POLL_DELAY);
      }
      case SEND_AT_DELAY:
        return this.#yield(SEND_AT_CREADR, this.creadr);
      default:
        return this.finish(false);
    }
  }

  #yield(at: number, o: GuestOp): IteratorYieldResult<GuestOp> {
    this.#at = at;
    return this.yieldOp(o);
  }

  #return(ok: boolean): IteratorReturnResult<boolean> {
    this.#at = SEND_OVER;
    return this.finish(ok);
  }

  protected ended(): void {
    this.#at = SEND_OVER;
  }
}
