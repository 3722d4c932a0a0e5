/**
 * What the CPUs of the `hotplug` image share in guest RAM: a bakery lock
 * that serialises console output, then one 16-byte record per possible CPU
 * (32-bit words: its logical number, an online flag the CPU sets once it is
 * up and clears before PSCI CPU_OFF, a count of the IPIs it took, and a
 * "go offline" request the boot CPU sets before it sends the IPI). A CPU
 * started with PSCI CPU_ON gets its record's address as context (x0), as
 * Linux passes secondary_data.
 */

import { op } from "@irqlab/sim";
import type { GuestCode } from "../guest-image.js";
import { BakeryLock } from "../sync/bakery-lock.js";

const RECORD_BYTES = 16;
/** Word offsets in a record. */
const LOGICAL = 0;
const ONLINE = 4;
const IPIS = 8;
const DIE = 12;

/** The shared block: the lock at `base`, then the records. */
export class HotplugArea {
  readonly base: number;
  readonly cpus: number;
  readonly lock: BakeryLock;
  readonly #records: number;

  constructor(base: number, cpus: number) {
    this.base = base;
    this.cpus = cpus;
    this.lock = new BakeryLock(base, cpus);
    this.#records = base + BakeryLock.bytes(cpus);
  }

  /** Bytes the block takes for `cpus` possible CPUs. */
  static bytes(cpus: number): number {
    return BakeryLock.bytes(cpus) + RECORD_BYTES * cpus;
  }

  /** The entry address handed to CPU_ON: the block's base, checked by the secondary. */
  get entry(): number {
    return this.base;
  }

  /** Address of logical CPU `logical`'s record (its CPU_ON context). */
  record(logical: number): number {
    return this.#records + RECORD_BYTES * logical;
  }

  /** The logical CPU whose record starts at `addr`, or undefined. */
  recordIndex(addr: number): number | undefined {
    const i = (addr - this.#records) / RECORD_BYTES;
    return Number.isInteger(i) && i >= 0 && i < this.cpus ? i : undefined;
  }

  /** Zeroes the lock and every record, and writes the logical numbers. */
  *init(): GuestCode {
    yield* this.lock.init();
    for (let i = 0; i < this.cpus; i++) yield* this.resetRecord(i);
  }

  /** A CPU's record before it is (re)started: its number, everything else 0. */
  *resetRecord(logical: number): GuestCode {
    const r = this.record(logical);
    yield op.write(r + LOGICAL, 4, logical);
    yield op.write(r + ONLINE, 4, 0);
    yield op.write(r + IPIS, 4, 0);
    yield op.write(r + DIE, 4, 0);
  }

  /** The logical number stored in a record (the secondary's check of its context). */
  *storedLogical(logical: number): GuestCode<number> {
    return (yield op.read(this.record(logical) + LOGICAL, 4)).value;
  }

  *online(logical: number): GuestCode<boolean> {
    return (yield op.read(this.record(logical) + ONLINE, 4)).value !== 0;
  }

  *setOnline(logical: number, on: boolean): GuestCode {
    yield op.write(this.record(logical) + ONLINE, 4, on ? 1 : 0);
  }

  *ipis(logical: number): GuestCode<number> {
    return (yield op.read(this.record(logical) + IPIS, 4)).value;
  }

  /** One more IPI taken (only the CPU itself writes its count). */
  *countIpi(logical: number): GuestCode {
    const r = this.record(logical) + IPIS;
    const n = (yield op.read(r, 4)).value;
    yield op.write(r, 4, n + 1);
  }

  *dieRequested(logical: number): GuestCode<boolean> {
    return (yield op.read(this.record(logical) + DIE, 4)).value !== 0;
  }

  *requestDie(logical: number): GuestCode {
    yield op.write(this.record(logical) + DIE, 4, 1);
  }
}
