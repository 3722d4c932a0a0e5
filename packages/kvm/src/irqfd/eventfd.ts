/**
 * An eventfd(2): a 64-bit counter that writers add to and a reader drains,
 * with poll waiters woken on every write. It is the wire between a device
 * model (or VFIO's host interrupt handler) and KVM's irqfd, and the wire back
 * from KVM's resampler to the VMM.
 *
 * Semantics kept from fs/eventfd.c: write(n) adds n (n = 2^64 − 1 is EINVAL;
 * an overflowing write would block, here it is refused with EAGAIN as on a
 * non-blocking fd); read() returns the counter and resets it (EAGAIN when
 * zero); every write wakes the waiters with EPOLLIN, closing wakes them with
 * EPOLLHUP. Waiters run synchronously, as eventfd_signal() calls the wait
 * queue callbacks (irqfd_wakeup) in the writer's context.
 *
 * The counter is a JS number: exact up to 2^53, ample for a count of signals.
 */

import { ConfigError } from "@irqlab/sim";

/** Why a waiter is woken. */
export type EventFdWake = "in" | "hup";

/** A poll waiter (an irqfd's wait-queue entry). */
export type EventFdWaiter = (fd: EventFd, why: EventFdWake) => void;

/**
 * A priority waiter an eventfd wakes through a method of its own, as KVM's
 * irqfd is (irqfd_wakeup is a function of the irqfd's wait-queue entry): the
 * wake-up reads that one object, where a closure is two to reach, itself
 * and the scope it captured.
 */
export interface EventFdWakeTarget {
  eventfdWake(fd: EventFd, why: EventFdWake): void;
}

/** A priority waiter given as a function. */
class FunctionWaiter implements EventFdWakeTarget {
  constructor(readonly fn: EventFdWaiter) {}

  eventfdWake(fd: EventFd, why: EventFdWake): void {
    this.fn(fd, why);
  }
}

/**
 * Hands out descriptor numbers the way a process does (lowest first, from 3:
 * 0..2 are stdio). One per VMM, so that two identical runs trace the same
 * numbers; a module-wide counter would not.
 */
export class FdTable {
  #next = 3;

  /** A new eventfd with the next descriptor number. */
  eventfd(initval = 0): EventFd {
    return new EventFd(initval, this.#next++);
  }
}

/** An eventfd. */
export class EventFd {
  /** A descriptor number for traces and error messages; -1 when created outside an {@link FdTable}. */
  readonly fd: number;
  #count = 0;
  #closed = false;
  /** Replaced, never mutated, when waiters come and go: a wake-up iterates a stable list without copying it. */
  #waiters: readonly EventFdWaiter[] = [];
  /**
   * The one exclusive priority waiter (kernel/sched/wait.c
   * add_wait_queue_priority_exclusive): KVM's irqfd. It is woken first and,
   * as irqfd_wakeup() returns 1 for EPOLLIN, consumes the wake-up, so other
   * pollers of the eventfd do not see it; EPOLLHUP reaches everyone.
   */
  #priority: EventFdWakeTarget | undefined;

  /**
   * @param initval the counter's initial value (eventfd(initval, 0))
   * @param fd its descriptor number (see {@link FdTable}); -1 if none
   */
  constructor(initval = 0, fd = -1) {
    if (!Number.isSafeInteger(initval) || initval < 0) throw new ConfigError(`eventfd initval ${initval} is not a non-negative integer`);
    this.#count = initval;
    this.fd = fd;
  }

  /** The counter (what a read would return), without draining it. */
  get count(): number {
    return this.#count;
  }

  /** Whether close() was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /** eventfd_signal(): adds 1 and wakes the waiters. */
  signal(): void {
    this.write(1);
  }

  /**
   * write(2) of an 8-byte value: adds `n` (1 by default) and wakes the waiters.
   * @throws ConfigError on a closed fd (EBADF) or an invalid value (EINVAL).
   */
  write(n = 1): void {
    if (this.#closed) throw new ConfigError(`write to closed eventfd ${this.fd} (EBADF)`);
    if (!Number.isSafeInteger(n) || n < 0) throw new ConfigError(`eventfd ${this.fd}: cannot add ${n} (EINVAL)`);
    if (n === 0) return;
    this.#count += n;
    const p = this.#priority;
    if (p !== undefined) {
      p.eventfdWake(this, "in");
      return;
    }
    for (const w of this.#waiters) w(this, "in");
  }

  /** read(2): returns the counter and resets it, or undefined when it is zero (EAGAIN). */
  read(): number | undefined {
    if (this.#closed) throw new ConfigError(`read from closed eventfd ${this.fd} (EBADF)`);
    const n = this.#count;
    if (n === 0) return undefined;
    this.#count = 0;
    return n;
  }

  /** eventfd_ctx_do_read as an irqfd does it: drains without the EBADF check. */
  drain(): number {
    const n = this.#count;
    this.#count = 0;
    return n;
  }

  /** Adds a poll waiter. */
  addWaiter(w: EventFdWaiter): void {
    this.#waiters = [...this.#waiters, w];
  }

  /**
   * add_wait_queue_priority_exclusive(): installs `w` as the eventfd's one
   * priority waiter, or returns false (the kernel's -EBUSY) when it already
   * has one. This is what lets one eventfd be an irqfd of only one VM at a
   * time (virt/kvm/eventfd.c kvm_irqfd_register).
   */
  addPriorityWaiterExclusive(w: EventFdWaiter | EventFdWakeTarget): boolean {
    if (this.#priority !== undefined) return false;
    this.#priority = typeof w === "function" ? new FunctionWaiter(w) : w;
    return true;
  }

  /** Whether an exclusive priority waiter (an irqfd) is installed. */
  get hasPriorityWaiter(): boolean {
    return this.#priority !== undefined;
  }

  /** Removes a poll waiter, priority or not; returns whether it was there. */
  removeWaiter(w: EventFdWaiter | EventFdWakeTarget): boolean {
    const p = this.#priority;
    if (p !== undefined && (p === w || (p instanceof FunctionWaiter && p.fn === w))) {
      this.#priority = undefined;
      return true;
    }
    if (typeof w !== "function") return false;
    const i = this.#waiters.indexOf(w);
    if (i < 0) return false;
    this.#waiters = this.#waiters.filter((_, k) => k !== i);
    return true;
  }

  /** close(2): waiters get EPOLLHUP once; further writes fail. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#priority?.eventfdWake(this, "hup");
    for (const w of this.#waiters) w(this, "hup");
  }
}
