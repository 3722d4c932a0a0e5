/**
 * Seed 004, "An ode to kvm_arch_vcpu_runnable()" (Andrew Jones, kvmarm,
 * 2017; Linux arch/arm64/kvm/arm.c kvm_arch_vcpu_runnable): the thread's cases run on the kvm
 * model — a vCPU, its guest's WFI, the irqchip and a vPMU overflow — under
 * the two kvm_arch_vcpu_runnable() conditions of @irqlab/kvm:
 *
 * - `irq-lines`, the arm64 condition (arch/arm64/kvm/arm.c
 *   kvm_arch_vcpu_runnable): `(irq_lines || kvm_vgic_vcpu_pending_irq(v)) &&
 *   !stopped && !pause`. 4ce98bf0865c (after v7.0) added a term for vCPUs
 *   whose irqchip is in userspace (a timer level userspace has not seen);
 *   every case here has an in-kernel irqchip, so for them the condition is
 *   the thread's (the kvm package keeps the older one as `linux-7.0`);
 * - `irq-pending-request`, the ode's proposal: runnable when
 *   KVM_REQ_IRQ_PENDING is pending; deasserts use a KVM_REQUEST_NO_WAKEUP
 *   request.
 *
 * Cases:
 * - `vpmu-overflow`: the guest waits in WFI with interrupts unmasked; the
 *   vPMU counter overflows 20 µs later. kvm_pmu_perf_overflow
 *   (arch/arm64/kvm/pmu-emul.c) makes KVM_REQ_IRQ_PENDING and kicks; the
 *   level reaches the irqchip only at the next guest entry
 *   (kvm_pmu_flush_hwstate → kvm_pmu_update_state).
 * - `deassert`: the VMM lowers an interrupt line while the vCPU sleeps.
 *   arm64's irq_lines are always enabled, so a vCPU cannot sleep with its line
 *   high; the case runs on RISC-V, where the guest leaves sie.SEIE clear so
 *   VSEIP is high but not enabled, then KVM_INTERRUPT unsets it.
 * - `masked-pending`: the guest masks interrupts (PSTATE.I, as Linux's idle
 *   loop does), an interrupt is already pending when it enters, and it
 *   executes WFI. The architecture completes such a WFI; the model's KVM
 *   traps every WFI and lets runnable() decide.
 *
 * Every run is bounded (KVM_RUN with a budget, `vcpu.run(0, { until })`): a
 * vCPU that never wakes is reported as having slept through. A missed
 * wake-up is detected when the vCPU is still asleep at the end of the budget
 * although an interrupt is deliverable to it (the irqchip has one pending, or
 * the vPMU's overflow output is raised).
 */

import {
  BasicIrqChip,
  FlushedIrqSource,
  KVM_ARM_TARGET_GENERIC_V8,
  KVM_EXIT_INTR,
  KVM_EXIT_MMIO,
  KVM_INTERRUPT_SET,
  KVM_INTERRUPT_UNSET,
  Kvm,
  type RunnablePolicy,
} from "@irqlab/kvm";
import { EventQueue, Tracer, op } from "@irqlab/sim";
import { guestInForm } from "../framework/guest-form.js";

/** The thread's cases. */
export type RunnableCase = "vpmu-overflow" | "deassert" | "masked-pending";
/** The cases, in table order. */
export const RUNNABLE_CASES: readonly RunnableCase[] = ["vpmu-overflow", "deassert", "masked-pending"];

/** Virtual time of the event the case is about (overflow, deassert), ns. */
export const CASE_EVENT_AT = 20_000;
/** The budget of the whole case: a vCPU still asleep then slept through, ns. */
export const CASE_BUDGET = 1_000_000;
/** Guest MMIO the vector writes to acknowledge (a VMM-side ack the runner answers). */
const ACK_ADDR = 0x2000;
/** Guest MMIO written after the WFI returned. */
const WOKE_ADDR = 0x1000;

/** What one case measured under one condition. */
export interface RunnableCaseResult {
  readonly policy: RunnablePolicy;
  readonly kase: RunnableCase;
  /** The guest got past its WFI (or took the interrupt) within the budget. */
  readonly woke: boolean;
  /** From the case's event to the guest's first instruction after waking, ns; null if it did not wake. */
  readonly wakeLatencyNs: number | null;
  /** Asleep at the end of the budget with an interrupt deliverable to it. */
  readonly missedWakeup: boolean;
  /** Wake-ups of the blocked vCPU that kvm_vcpu_check_block() refused (`kvm.wake_ignored`). */
  readonly wakeupsIgnored: number;
  /** KVM_RUN calls the runner made. */
  readonly runs: number;
  /** Virtual time at the end, ns. */
  readonly endNs: number;
}

/** A tracer, or how to make one on the run's own clock. */
export type CaseTracer = Tracer | ((queue: EventQueue) => Tracer);

/**
 * Runs `kase` under `policy`. Deterministic; records into the tracer if given one. With `loopForm`, the
 * guest runs in its loop form (ScenarioRunOptions.loopForm; its few plain ops are their own loop form).
 */
export function runRunnableCase(policy: RunnablePolicy, kase: RunnableCase, tracer?: CaseTracer, loopForm = false): RunnableCaseResult {
  const queue = new EventQueue();
  const t = tracer === undefined ? new Tracer(queue) : typeof tracer === "function" ? tracer(queue) : tracer;
  const kvm = new Kvm({ arch: kase === "deassert" ? "riscv64" : "arm64", queue, tracer: t });
  const vm = kvm.createVm(0, { runnablePolicy: policy });
  const v = vm.createVcpu(0);
  if (kase !== "deassert") v.armVcpuInit({ target: KVM_ARM_TARGET_GENERIC_V8 });
  let wokeAt = -1;
  let eventAt = CASE_EVENT_AT;
  const masked = kase === "masked-pending";
  v.loadGuest(
    guestInForm(
      {
        main: function* () {
          if (!masked) yield op.unmask();
          if (masked) eventAt = queue.now; // the WFI is the event: latency counts from it
          yield op.wfi();
          if (wokeAt < 0) wokeAt = queue.now;
          yield op.write(WOKE_ADDR, 4, 1);
        },
        vector: function* (cause) {
          if (wokeAt < 0) wokeAt = queue.now;
          yield op.write(ACK_ADDR, 4, cause);
        },
      },
      loopForm,
    ),
  );
  let pmu: FlushedIrqSource | undefined;
  const chip = v.irqChip;
  if (kase === "vpmu-overflow") {
    if (!(chip instanceof BasicIrqChip)) throw new Error("seed 004: the vCPU has no built-in irqchip");
    const source = chip.addSource(new FlushedIrqSource("pmu", 0));
    pmu = source;
    queue.schedule(CASE_EVENT_AT, () => {
      source.raise();
    });
  } else if (kase === "deassert") {
    v.interrupt(KVM_INTERRUPT_SET); // VSEIP high, not enabled by the guest's sie
    queue.schedule(CASE_EVENT_AT, () => {
      v.interrupt(KVM_INTERRUPT_UNSET);
    });
  } else {
    vm.irqLine(0, 1); // KVM_IRQ_LINE: the vCPU's IRQ line (HCR_EL2.VI) high before the guest runs
  }
  let runs = 0;
  for (;;) {
    runs++;
    const e = v.run(0, { until: CASE_BUDGET });
    if (e.reason === KVM_EXIT_MMIO && e.physAddr === ACK_ADDR) {
      // The guest's handler cleared the source: the PMU overflow flag (PMOVSCLR_EL0) or the line.
      if (pmu !== undefined) pmu.lower();
      else vm.irqLine(0, 0);
      continue;
    }
    if (e.reason === KVM_EXIT_MMIO && e.physAddr === WOKE_ADDR) break;
    if (e.reason === KVM_EXIT_INTR && (e.cause === "budget" || e.cause === "idle")) break;
    throw new Error(`seed 004: unexpected exit ${e.reason} from the ${kase} guest`);
  }
  const woke = wokeAt >= 0;
  const deliverable = chip.hasPendingIrq() || (pmu?.level ?? false);
  return {
    policy,
    kase,
    woke,
    wakeLatencyNs: woke ? wokeAt - eventAt : null,
    missedWakeup: !woke && deliverable,
    wakeupsIgnored: kvm.tracer.counters.get("kvm.wake_ignored"),
    runs,
    endNs: queue.now,
  };
}
