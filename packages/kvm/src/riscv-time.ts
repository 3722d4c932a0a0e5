/**
 * The RISC-V `time` CSR (0xC01, priv spec "Zicntr": rdtime) of a KVM guest.
 * A guest reads it without a trap; the hart returns the host's time counter
 * plus `htimedelta`, which KVM sets once per VM so that the guest's time
 * starts at 0 when the VM is created (arch/riscv/kvm/vcpu_timer.c
 * kvm_riscv_guest_timer_init: time_delta = -get_cycles64(); restored into
 * htimedelta by kvm_riscv_vcpu_timer_restore). The counter runs at the
 * timebase frequency the device tree announces (/cpus/timebase-frequency;
 * QEMU virt: 10 MHz).
 *
 * The same clock drives SBI set_timer: kvm_riscv_vcpu_timer_next_event()
 * takes a deadline in guest time, so the deadline in virtual nanoseconds is
 * epoch + ticks × 10^9 / hz ({@link timeDeadlineNs}).
 *
 * With Sstc (`riscv,isa` … `_sstc`, as QEMU's virt CPU has it) the guest
 * programs its timer itself: a write of `stimecmp` (0x14D; VS mode:
 * vstimecmp, no trap) sets the deadline and clears or raises the timer
 * interrupt at once, exactly what SBI set_timer does
 * (kvm_riscv_vcpu_timer_next_event / the Sstc path of vcpu_timer.c).
 *
 * `time` is read-only: a write is an illegal-instruction exception, which
 * the model cannot raise into a guest program; the run loop counts it as a
 * guest error and ignores it.
 */

import type { WideValue } from "@irqlab/sim";
import { counterDeadlineNs, counterTicks } from "./arch-counter.js";

/** CSR number of `time` (rdtime). */
export const CSR_TIME = 0xc01;
/** CSR number of `stimecmp` (Sstc). */
export const CSR_STIMECMP = 0x14d;

/**
 * The guest's `time` at virtual time `now`: floor((now − epoch) × hz / 10^9),
 * low 32 bits returned, high 32 bits in `wide.hi`.
 */
export function readTimeCsr(now: number, epoch: number, hz: number, wide: WideValue): number {
  const ticks = counterTicks(now - epoch, hz);
  const hi = Math.floor(ticks / 2 ** 32);
  wide.hi = hi >>> 0;
  return (ticks - hi * 2 ** 32) >>> 0;
}

/**
 * The virtual time at which guest time reaches `ticks` (an SBI set_timer
 * deadline): the first nanosecond whose {@link readTimeCsr} is ≥ ticks, or
 * Infinity when that lies beyond 2^53 ns. vcpu_timer.c arms its hrtimer
 * with the truncated delta (kvm_riscv_delta_cycles2ns) and re-arms it in
 * kvm_riscv_vcpu_hrtimer_expired while the time is still short of
 * next_cycles: the interrupt comes at this first nanosecond, exactly.
 */
export function timeDeadlineNs(ticks: number, epoch: number, hz: number): number {
  const t = counterDeadlineNs(ticks, epoch, hz);
  return t < 0 ? Number.POSITIVE_INFINITY : t;
}
