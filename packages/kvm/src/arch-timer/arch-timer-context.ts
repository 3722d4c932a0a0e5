/**
 * One EL1 timer of a vCPU (struct arch_timer_context, arch/arm64/kvm/
 * arch_timer.c): its control register and compare value, and its output, a
 * level driven from the VM's virtual clock (Arm ARM D11.2.4 "Timers").
 *
 * The output is high while the timer is enabled, not masked and the counter
 * has reached the compare value (kvm_timer_should_fire: ENABLE set, IMASK
 * clear, CVAL ≤ counter). The counter is the guest's virtual count
 * (CNTVCT_EL0, starting at VM creation: arch-counter.ts) for the vtimer and
 * the host's physical count (CNTPCT_EL0, offset 0) for the ptimer. Once an
 * offset other than KVM's default has been set for a counter (a write of
 * KVM_REG_ARM_TIMER_CNT / _PTIMER_CNT, KVM_ARM_SET_COUNTER_OFFSET), it
 * counts the host's ticks minus that offset, modulo 2^64, compared in 64-bit
 * arithmetic.
 *
 * Each change of CTL or CVAL re-evaluates the output at once, as
 * timer_emulate() does for an emulated timer; while the timer can fire but
 * the counter has not got there, one event waits on the VM's event queue at
 * the first nanosecond the counter reaches CVAL (and, while it fires on an
 * offset counter close to 2^64, one at the wrap that lowers it again). That event plays the part
 * of the host's timer interrupt for a running vCPU (kvm_arch_timer_handler)
 * and of the background hrtimer for a blocked one (kvm_timer_blocking →
 * kvm_bg_timer_expire): either way the output rises at that instant and
 * whoever listens (vgic PPI or the userspace-irqchip notification) follows.
 * A timer that is disabled or masked schedules nothing.
 */

import type { EventQueue } from "@irqlab/sim";
import { counterDeadlineNs, counterTicks, offsetCounter } from "../arch-counter.js";
import { ARCH_TIMER_CTRL_ENABLE, ARCH_TIMER_CTRL_IT_MASK, ARCH_TIMER_CTRL_IT_STAT, TIMER_VTIMER } from "./timer-uapi.js";

const TWO_32 = 2 ** 32;

/** What a timer needs from its vCPU: the clock, the counter's origin and rate, where its output goes. */
export interface ArchTimerClock {
  readonly queue: EventQueue;
  /** Virtual time the guest's virtual counter counts from (the VM's creation). */
  readonly counterEpoch: number;
  /** The counter frequency (CNTFRQ_EL0). */
  readonly counterHz: number;
  /** The VM-wide offset of timer `index`'s counter (voffset, poffset), or undefined while it is KVM's default. */
  offsetOf(index: number): bigint | undefined;
  /** The timer's output changed to `level`. */
  outputChanged(timer: ArchTimerContext, level: boolean): void;
  /** The timer's event fired (for traces). */
  fired(timer: ArchTimerContext): void;
}

/** One EL1 timer: vtimer (index TIMER_VTIMER) or ptimer (TIMER_PTIMER). */
export class ArchTimerContext {
  /** CNTx_CTL_EL0 as written: ENABLE and IMASK (ISTATUS is computed on read). */
  ctl = 0;
  /** CNTx_CVAL_EL0, low and high words. */
  cvalLo = 0;
  cvalHi = 0;
  #level = false;
  #event = -1;
  readonly #fire = (): void => {
    this.#event = -1;
    // An expiry, unless this is the wrap of a firing timer's counter.
    if (!this.#level) this.clock.fired(this);
    this.update();
  };

  constructor(
    /** enum kvm_arch_timers: TIMER_VTIMER or TIMER_PTIMER. */
    readonly index: number,
    private readonly clock: ArchTimerClock,
  ) {}

  /** The output level (irq.level): kvm_timer_should_fire at the last update. */
  get level(): boolean {
    return this.#level;
  }

  /** Whether an expiry event is waiting on the queue. */
  get armed(): boolean {
    return this.#event >= 0;
  }

  /** The counter this timer compares against at virtual time `now`, while its offset is KVM's default. */
  counter(now: number): number {
    const c = this.clock;
    return this.index === TIMER_VTIMER ? counterTicks(now - c.counterEpoch, c.counterHz) : counterTicks(now, c.counterHz);
  }

  /** CVAL as a number (≥ 2^53 only when far beyond any counter value the model reaches). */
  get cval(): number {
    return this.cvalHi * TWO_32 + this.cvalLo;
  }

  /** CVAL exactly. */
  get cvalBig(): bigint {
    return (BigInt(this.cvalHi) << 32n) | BigInt(this.cvalLo);
  }

  /** The timer condition: counter ≥ CVAL (unsigned 64-bit). */
  met(now: number): boolean {
    const c = this.clock;
    const off = c.offsetOf(this.index);
    if (off === undefined) return this.counter(now) >= this.cval;
    return offsetCounter(now, c.counterHz, off) >= this.cvalBig;
  }

  /** kvm_timer_irq_can_fire: enabled and not masked. */
  canFire(): boolean {
    return (this.ctl & (ARCH_TIMER_CTRL_ENABLE | ARCH_TIMER_CTRL_IT_MASK)) === ARCH_TIMER_CTRL_ENABLE;
  }

  /** CTL as the guest reads it: ISTATUS set while enabled and the condition is met (hardware, no trap). */
  readCtl(now: number): number {
    const met = (this.ctl & ARCH_TIMER_CTRL_ENABLE) !== 0 && this.met(now);
    return met ? this.ctl | ARCH_TIMER_CTRL_IT_STAT : this.ctl;
  }

  /** TVAL as the guest reads it: CVAL − counter, low 32 bits (the upper half of the register is RES0). */
  readTval(now: number): number {
    const c = this.clock;
    const off = c.offsetOf(this.index);
    if (off !== undefined) return Number(BigInt.asUintN(32, this.cvalBig - offsetCounter(now, c.counterHz, off)));
    return (this.cvalLo - (this.counter(now) % TWO_32)) >>> 0;
  }

  /** CTL write: ENABLE and IMASK; ISTATUS is read-only and the other bits RES0. */
  writeCtl(value: number): void {
    this.ctl = value & (ARCH_TIMER_CTRL_ENABLE | ARCH_TIMER_CTRL_IT_MASK);
    this.update();
  }

  /** CVAL write (64 bits). */
  writeCval(lo: number, hi: number): void {
    this.cvalLo = lo >>> 0;
    this.cvalHi = hi >>> 0;
    this.update();
  }

  /** TVAL write: CVAL = counter + the value sign-extended from 32 bits (kvm_arm_timer_write TIMER_REG_TVAL). */
  writeTval(now: number, value: number): void {
    const c = this.clock;
    const off = c.offsetOf(this.index);
    if (off !== undefined) {
      const u = BigInt.asUintN(64, offsetCounter(now, c.counterHz, off) + BigInt(value | 0));
      this.writeCval(Number(u & 0xffff_ffffn), Number(u >> 32n));
      return;
    }
    const v = this.counter(now) + (value | 0);
    if (v >= 0) {
      this.cvalHi = Math.floor(v / TWO_32) >>> 0;
      this.cvalLo = (v - this.cvalHi * TWO_32) >>> 0;
    } else {
      const u = BigInt.asUintN(64, BigInt(v));
      this.cvalHi = Number(u >> 32n);
      this.cvalLo = Number(u & 0xffff_ffffn);
    }
    this.update();
  }

  /**
   * Re-evaluates the output (kvm_timer_should_fire) and re-arms the expiry
   * event: timer_emulate(), called after every register change and by the
   * event itself.
   */
  update(): void {
    const q = this.clock.queue;
    const now = q.now;
    const can = this.canFire();
    const fire = can && this.met(now);
    if (this.#event >= 0) {
      q.cancel(this.#event);
      this.#event = -1;
    }
    if (fire !== this.#level) {
      this.#level = fire;
      this.clock.outputChanged(this, fire);
    }
    if (!can) return;
    // Firing: the condition holds until the counter wraps past 2^64 (only an offset counter gets there).
    const t = fire ? this.#wrapDeadline() : this.#deadline();
    if (t >= 0) this.#event = q.schedule(Math.max(now, t), this.#fire, undefined);
  }

  /** kvm_timer_vcpu_reset: CTL = 0 (disabled, unmasked), output low, nothing armed. CVAL is kept. */
  reset(): void {
    this.ctl = 0;
    this.update();
  }

  /**
   * While the condition holds: the first virtual nanosecond at which the
   * counter wraps to 0 and drops below CVAL again (the comparison is
   * unsigned: Arm ARM D11.2.4), or -1 if that is beyond 2^53 ns or never
   * (CVAL 0, or KVM's default offsets, which start the counters near 0).
   */
  #wrapDeadline(): number {
    const c = this.clock;
    const off = c.offsetOf(this.index);
    if (off === undefined || this.cvalBig === 0n) return -1;
    const now = c.queue.now;
    const target = BigInt(counterTicks(now, c.counterHz)) + ((1n << 64n) - offsetCounter(now, c.counterHz, off));
    return target > BigInt(Number.MAX_SAFE_INTEGER) ? -1 : counterDeadlineNs(Number(target), 0, c.counterHz);
  }

  /** The first virtual nanosecond at which the counter reaches CVAL, or -1 if never (beyond 2^53 ns). */
  #deadline(): number {
    const c = this.clock;
    const off = c.offsetOf(this.index);
    if (off === undefined) return counterDeadlineNs(this.cval, this.index === TIMER_VTIMER ? c.counterEpoch : 0, c.counterHz);
    // The counter is below CVAL (else the timer would have fired): it gets there after CVAL − count more host ticks.
    const now = c.queue.now;
    const target = BigInt(counterTicks(now, c.counterHz)) + (this.cvalBig - offsetCounter(now, c.counterHz, off));
    return target > BigInt(Number.MAX_SAFE_INTEGER) ? -1 : counterDeadlineNs(Number(target), 0, c.counterHz);
  }
}
