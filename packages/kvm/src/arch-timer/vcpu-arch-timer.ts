/**
 * A vCPU's EL1 timers (struct arch_timer_cpu, arch/arm64/kvm/arch_timer.c):
 * the virtual timer and the physical timer, their EL0 registers as the guest
 * accesses them, and where their outputs go.
 *
 * Register accesses: on a VHE host both timers are "direct" (get_timer_map:
 * direct_vtimer and direct_ptimer) and, with the physical offset 0 KVM gives
 * a VM by default, timer_set_traps() leaves CNTHCTL_EL2.EL1PCEN/EL1PCTEN set:
 * the guest's CNTV_* and CNTP_* accesses go to the hardware without a trap
 * (cost model: `sysregNoTrap`). A non-zero KVM_ARM_SET_COUNTER_OFFSET on a
 * host without FEAT_ECV makes CNTP_* and CNTPCT_EL0 trap (`sysregTrap`). The model's host is the VHE one the cost
 * model was measured on; on an nVHE host the ptimer would be emulated and
 * CNTP_* would trap (`sysregTrap`).
 *
 * Outputs: level-sensitive PPIs of the VM's vgic (kvm->arch.timer_data.ppi,
 * vtimer 27 and ptimer 30 unless KVM_ARM_VCPU_TIMER_CTRL set others), driven
 * by kvm_timer_update_irq → kvm_vgic_inject_irq: raised when the timer fires,
 * lowered when the condition clears (masked, disabled, CVAL moved on). The
 * vgic's rising output then makes KVM_REQ_IRQ_PENDING and kicks the vCPU,
 * which wakes it from WFI. Without an in-kernel irqchip the level goes to
 * userspace instead: kvm_run.s.regs.device_irq_level bits
 * KVM_ARM_DEV_EL1_VTIMER / _PTIMER, and KVM_RUN returns KVM_EXIT_INTR before
 * entering the guest whenever they differ from the timers' outputs
 * (kvm_vcpu_exit_request → kvm_timer_should_notify_user); the bits are
 * refreshed at every return from KVM_RUN (kvm_timer_update_run). Since
 * 4ce98bf0865c the same difference also makes a vCPU blocked in WFI
 * runnable (runnable.ts, policy "irq-lines"; not under "linux-7.0"). A rising
 * output gets the running vCPU out of the guest, as the host timer interrupt
 * does (here KVM_REQ_IRQ_PENDING).
 *
 * Created at the vCPU's first timer access: a guest that never programs a
 * timer pays nothing.
 */

import type { TrackId, WideValue } from "@irqlab/sim";
import type { KvmRun } from "../kvm-run.js";
import { KVM_REQ_IRQ_PENDING } from "../requests.js";
import { KVM_ARM_IRQ_TYPE_PPI } from "../uapi/device-types.js";
import type { Vm } from "../vm.js";
import { VgicV3, timerOwner } from "../vgic/vgic-v3.js";
import { ArchTimerContext, type ArchTimerClock } from "./arch-timer-context.js";
import {
  CNTP_CTL_EL0,
  CNTP_CVAL_EL0,
  CNTP_TVAL_EL0,
  CNTV_CTL_EL0,
  CNTV_CVAL_EL0,
  CNTV_TVAL_EL0,
  KVM_ARM_DEV_EL1_PTIMER,
  KVM_ARM_DEV_EL1_VTIMER,
  TIMER_PTIMER,
  TIMER_VTIMER,
} from "./timer-uapi.js";

const TIMER_BITS = KVM_ARM_DEV_EL1_VTIMER | KVM_ARM_DEV_EL1_PTIMER;

/** What the timers need from their vCPU. */
export interface ArchTimerVcpu {
  readonly vcpuId: number;
  readonly vm: Vm;
  readonly track: TrackId;
  makeRequest(req: number): void;
  /** The timer's output rose with an in-kernel vgic: the host's timer interrupt, on the vCPU's own CPU. */
  hostTimerInterrupt(): void;
}

/** The vtimer and ptimer of one vCPU. */
export class VcpuArchTimer implements ArchTimerClock {
  /** The EL1 virtual timer (CNTV_*). */
  readonly vtimer: ArchTimerContext;
  /** The EL1 physical timer (CNTP_*). */
  readonly ptimer: ArchTimerContext;

  constructor(readonly vcpu: ArchTimerVcpu) {
    this.vtimer = new ArchTimerContext(TIMER_VTIMER, this);
    this.ptimer = new ArchTimerContext(TIMER_PTIMER, this);
  }

  get queue(): Vm["queue"] {
    return this.vcpu.vm.queue;
  }

  get counterEpoch(): number {
    return this.vcpu.vm.counterEpoch;
  }

  get counterHz(): number {
    return this.vcpu.vm.counterHz;
  }

  offsetOf(index: number): bigint | undefined {
    return this.vcpu.vm.timerData.offset(index);
  }

  /** Whether an access to timer register `reg` traps: CNTP_* under a non-zero counter offset (ArchTimerVmData.physicalTraps). */
  traps(reg: number): boolean {
    return (reg === CNTP_CTL_EL0 || reg === CNTP_CVAL_EL0 || reg === CNTP_TVAL_EL0) && this.vcpu.vm.timerData.physicalTraps;
  }

  /** Re-evaluates both timers after the counters moved (KVM_ARM_SET_COUNTER_OFFSET, a counter write). */
  countersChanged(): void {
    this.vtimer.update();
    this.ptimer.update();
  }

  /** MRS of a timer register (isArchTimerReg); the high word goes to `wide.hi`. */
  read(reg: number, wide: WideValue): number {
    const t = reg === CNTV_CTL_EL0 || reg === CNTV_CVAL_EL0 || reg === CNTV_TVAL_EL0 ? this.vtimer : this.ptimer;
    const now = this.queue.now;
    wide.hi = 0;
    if (reg === CNTV_CTL_EL0 || reg === CNTP_CTL_EL0) return t.readCtl(now);
    if (reg === CNTV_TVAL_EL0 || reg === CNTP_TVAL_EL0) return t.readTval(now);
    wide.hi = t.cvalHi;
    return t.cvalLo;
  }

  /** MSR of a timer register (isArchTimerReg). */
  write(reg: number, value: number, hi: number): void {
    if (reg === CNTV_CTL_EL0) this.vtimer.writeCtl(value);
    else if (reg === CNTV_CVAL_EL0) this.vtimer.writeCval(value, hi);
    else if (reg === CNTV_TVAL_EL0) this.vtimer.writeTval(this.queue.now, value);
    else if (reg === CNTP_CTL_EL0) this.ptimer.writeCtl(value);
    else if (reg === CNTP_CVAL_EL0) this.ptimer.writeCval(value, hi);
    else if (reg === CNTP_TVAL_EL0) this.ptimer.writeTval(this.queue.now, value);
  }

  /** kvm_timer_vcpu_reset (KVM_ARM_VCPU_INIT): both timers disabled, outputs low. */
  reset(): void {
    this.vtimer.reset();
    this.ptimer.reset();
  }

  /** The device_irq_level bits the timers' outputs make. */
  levelBits(): number {
    return (this.vtimer.level ? KVM_ARM_DEV_EL1_VTIMER : 0) | (this.ptimer.level ? KVM_ARM_DEV_EL1_PTIMER : 0);
  }

  /**
   * kvm_timer_should_notify_user: with a userspace irqchip, whether the
   * outputs differ from what kvm_run's device_irq_level last reported. Asked
   * before each entry (kvm_vcpu_exit_request) and, since 4ce98bf0865c, by
   * kvm_arch_vcpu_runnable for a vCPU blocked in WFI (runnable.ts).
   */
  shouldNotifyUser(run: KvmRun): boolean {
    return this.vcpu.vm.irqchip === undefined && (run.deviceIrqLevel & TIMER_BITS) !== this.levelBits();
  }

  /**
   * kvm_timer_should_notify_user, then kvm_timer_update_run: if the outputs
   * differ from what kvm_run last reported, the bits are brought up to date
   * for the KVM_EXIT_INTR that follows.
   */
  notifyUser(run: KvmRun): boolean {
    if (!this.shouldNotifyUser(run)) return false;
    this.updateRun(run);
    return true;
  }

  /** kvm_timer_update_run at a return from KVM_RUN (userspace irqchip only). */
  updateRun(run: KvmRun): void {
    if (this.vcpu.vm.irqchip === undefined) run.deviceIrqLevel = (run.deviceIrqLevel & ~TIMER_BITS) | this.levelBits();
  }

  /**
   * The output changed. A rise is kvm_timer_update_irq → kvm_vgic_inject_irq
   * (the host took the timer's interrupt, or the background timer expired),
   * which kicks the vCPU; with a userspace irqchip it gets the vCPU out to
   * report it. A fall comes from the guest's own direct CTL/CVAL write and
   * involves no exit: the vgic's line for the mapped PPI simply follows the
   * hardware (vgic_get_phys_line_level at the next sync), so it is lowered
   * without the kick kvm_vgic_inject_irq would give an active interrupt.
   */
  outputChanged(timer: ArchTimerContext, level: boolean): void {
    const v = this.vcpu;
    const vm = v.vm;
    const tracer = vm.tracer;
    const ppi = vm.timerData.ppi[timer.index]!;
    if (!tracer.enabled) {
      this.#drive(ppi, level, timer.index);
      return;
    }
    const args = { timer: timer.index === TIMER_VTIMER ? "vtimer" : "ptimer", intid: ppi, level: level ? 1 : 0 };
    if (!level) {
      tracer.instant(v.track, "timer", "timer-level", args);
      this.#drive(ppi, level, timer.index);
      return;
    }
    // kvm_timer_update_irq raising the PPI: the raise the flow to the taken interrupt starts at.
    const prev = tracer.beginCause(v.track, "timer", "timer-level", args);
    try {
      this.#drive(ppi, level, timer.index);
    } finally {
      tracer.endCause(prev);
    }
  }

  #drive(ppi: number, level: boolean, index: number): void {
    const v = this.vcpu;
    const vm = v.vm;
    const chip = vm.irqchip;
    if (chip === undefined) {
      if (level) v.makeRequest(KVM_REQ_IRQ_PENDING);
      return;
    }
    if (level) v.hostTimerInterrupt();
    if (!level) {
      const vgic = VgicV3.of(vm);
      const gic = vgic?.gic;
      const pe = vgic?.vcpuIrqChip(v.vcpuId).pe ?? -1;
      if (gic !== undefined && pe >= 0) {
        gic.setPpiLevel(pe, ppi, false);
        return;
      }
    }
    chip.irqLine?.(KVM_ARM_IRQ_TYPE_PPI, v.vcpuId, ppi, level, timerOwner(index));
  }

  fired(timer: ArchTimerContext): void {
    const v = this.vcpu;
    const tracer = v.vm.tracer;
    tracer.counters.add(timer.index === TIMER_VTIMER ? "kvm.timer.vtimer_expired" : "kvm.timer.ptimer_expired");
    if (tracer.enabled) tracer.instant(v.track, "timer", "timer-expire", { timer: timer.index === TIMER_VTIMER ? "vtimer" : "ptimer" });
  }
}
