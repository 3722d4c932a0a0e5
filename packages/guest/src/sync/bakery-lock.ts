/**
 * A spinlock in guest memory that needs only loads and stores: Lamport's
 * bakery algorithm (L. Lamport, "A New Solution of Dijkstra's Concurrent
 * Programming Problem", CACM 17(8), 1974).
 *
 * The guest-operation protocol has no atomic read-modify-write (no
 * LDXR/STXR or CAS on arm64, no LR/SC or AMO on riscv64), so the usual
 * ticket spinlock cannot be written; the bakery lock can, and it is correct
 * under sequential consistency, which the model's memory provides (every load
 * and store is one operation, executed in one global order). A real kernel
 * on weakly ordered hardware would need barriers between the steps.
 *
 * Layout at `base`, for `slots` CPUs (slot = logical CPU number), all 32-bit
 * words: choosing[0..slots), then number[0..slots). Zero means free / not
 * choosing. {@link BakeryLock.bytes} gives the size.
 */

import { op } from "@irqlab/sim";
import { cpuRelax } from "../cpu.js";
import type { GuestCode } from "../guest-image.js";

/** A bakery lock in guest RAM. */
export class BakeryLock {
  /** Guest-physical address of choosing[0]. */
  readonly base: number;
  /** How many CPUs may take it (slot numbers 0..slots-1). */
  readonly slots: number;

  constructor(base: number, slots: number) {
    this.base = base;
    this.slots = slots;
  }

  /** Bytes of guest memory a lock for `slots` CPUs occupies. */
  static bytes(slots: number): number {
    return 8 * slots;
  }

  /** Zeroes the lock's words (before any CPU uses it). */
  *init(): GuestCode {
    for (let i = 0; i < 2 * this.slots; i++) yield op.write(this.base + 4 * i, 4, 0);
  }

  /** Takes the lock for CPU `me`, spinning with cpu_relax() while another CPU holds or enters it. */
  *lock(me: number): GuestCode {
    const choosing = (i: number): number => this.base + 4 * i;
    const number = (i: number): number => this.base + 4 * (this.slots + i);
    yield op.write(choosing(me), 4, 1);
    let max = 0;
    for (let j = 0; j < this.slots; j++) max = Math.max(max, (yield op.read(number(j), 4)).value);
    const mine = max + 1;
    yield op.write(number(me), 4, mine);
    yield op.write(choosing(me), 4, 0);
    for (let j = 0; j < this.slots; j++) {
      if (j === me) continue;
      while ((yield op.read(choosing(j), 4)).value !== 0) yield cpuRelax();
      for (;;) {
        const theirs = (yield op.read(number(j), 4)).value;
        if (theirs === 0 || theirs > mine || (theirs === mine && j > me)) break;
        yield cpuRelax();
      }
    }
  }

  /** Releases the lock held by CPU `me`. */
  *unlock(me: number): GuestCode {
    yield op.write(this.base + 4 * (this.slots + me), 4, 0);
  }
}
