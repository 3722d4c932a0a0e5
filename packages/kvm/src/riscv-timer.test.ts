/**
 * The RISC-V guest timer against arch/riscv/kvm/vcpu_timer.c: SBI set_timer
 * (TIME extension and legacy v0.1) programs one deadline in guest time
 * (kvm_riscv_vcpu_timer_next_event), clears a pending VS-level timer
 * interrupt when it does (kvm_riscv_vcpu_unset_interrupt(IRQ_VS_TIMER)), and
 * raises it when the guest's time reaches the deadline
 * (kvm_riscv_vcpu_hrtimer_expired → kvm_riscv_vcpu_set_interrupt), which
 * wakes a vCPU blocked in WFI; a deadline already passed fires at once
 * (kvm_riscv_delta_cycles2ns gives 0). The deadline is exact at any
 * timebase: the hrtimer is re-armed until the time has got there.
 */
import { EventQueue, op, Tracer, type InstantEvent } from "@irqlab/sim";
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { counterDeadlineNs, counterTicks } from "./arch-counter.js";
import {
  CSR_SIE,
  CSR_SIP,
  IRQ_S_TIMER,
  KVM_EXIT_MMIO,
  Kvm,
  SBI_EXT_0_1_SET_TIMER,
  SBI_EXT_TIME,
  SBI_EXT_TIME_SET_TIMER,
  type Vcpu,
} from "./index.js";
import { CSR_TIME, readTimeCsr } from "./riscv-time.js";

const STIP = 1 << IRQ_S_TIMER;
const DONE_ADDR = 0x1000_0000;

/** A RISC-V vCPU on a VM with timebase `hz`, created after `createdAt` ns of host time. */
function hart(hz: number, createdAt = 0): { kvm: Kvm; h: Vcpu } {
  const kvm = new Kvm({ arch: "riscv64" });
  kvm.queue.runUntil(createdAt);
  const h = kvm.createVm(0, { timebaseHz: hz }).createVcpu(0);
  return { kvm, h };
}

describe("SBI set_timer (vcpu_timer.c kvm_riscv_vcpu_timer_next_event)", () => {
  test.each([
    ["TIME set_timer at 10 MHz", SBI_EXT_TIME, SBI_EXT_TIME_SET_TIMER, 10_000_000],
    ["legacy v0.1 set_timer at 24 MHz", SBI_EXT_0_1_SET_TIMER, 0, 24_000_000],
    ["TIME set_timer at 19.2 MHz on a VM created at 1.234567 ms", SBI_EXT_TIME, SBI_EXT_TIME_SET_TIMER, 19_200_000, 1_234_567],
  ])("%s: the interrupt is raised at the first nanosecond the guest's time reaches the deadline, and wakes WFI", (_name, ext, fid, hz, createdAt = 0) => {
    const { kvm, h } = hart(hz, createdAt);
    const costs = h.vm.costs;
    const seen = { target: 0, timeAtVector: 0, entered: 0 };
    h.loadGuest({
      main: function* () {
        yield op.csrSet(CSR_SIE, STIP);
        const t = (yield op.csrRead(CSR_TIME)).value;
        seen.target = t + 12_345;
        yield op.sbi(ext, fid, [seen.target]);
        yield op.unmask();
        yield op.wfi();
        yield op.read(DONE_ADDR, 4);
      },
      vector: function* (cause) {
        expect(cause).toBe(IRQ_S_TIMER);
        seen.entered = kvm.queue.now;
        seen.timeAtVector = (yield op.csrRead(CSR_TIME)).value;
        yield op.sbi(SBI_EXT_TIME, SBI_EXT_TIME_SET_TIMER, [0xffff_ffff, 0xffff_ffff]); // far away: STIP drops
      },
    });
    expect(h.run().reason).toBe(KVM_EXIT_MMIO);
    const deadline = counterDeadlineNs(seen.target, createdAt, hz);
    // The guest's time one nanosecond earlier is still short of the deadline.
    const wide = { hi: 0 };
    expect(readTimeCsr(deadline, createdAt, hz, wide)).toBeGreaterThanOrEqual(seen.target);
    expect(readTimeCsr(deadline - 1, createdAt, hz, wide)).toBeLessThan(seen.target);
    // Expiry → wake-up → injection → the vector's first instruction.
    expect(seen.entered).toBe(deadline + costs.wakeup + costs.interruptInjection);
    expect(seen.timeAtVector).toBeGreaterThanOrEqual(seen.target);
    expect(h.irqChip.hasPendingIrq()).toBe(false);
  });

  test("traced, the expiry's timer-level rise begins the flow the timer interrupt's take ends", () => {
    const queue = new EventQueue();
    const kvm = new Kvm({ arch: "riscv64", queue, tracer: new Tracer(queue, { enabled: true }) });
    const h = kvm.createVm(0).createVcpu(0);
    h.loadGuest({
      main: function* () {
        yield op.csrSet(CSR_SIE, STIP);
        yield op.sbi(SBI_EXT_TIME, SBI_EXT_TIME_SET_TIMER, [1000]);
        yield op.unmask();
        yield op.wfi();
        yield op.read(DONE_ADDR, 4);
      },
      vector: function* () {
        yield op.sbi(SBI_EXT_TIME, SBI_EXT_TIME_SET_TIMER, [0xffff_ffff, 0xffff_ffff]);
      },
    });
    expect(h.run().reason).toBe(KVM_EXIT_MMIO);
    const events = kvm.tracer.events().filter((e): e is InstantEvent => e.phase === "instant");
    const rises = events.filter((e) => e.name === "timer-level" && e.flowOut !== undefined);
    expect(rises.map((e) => e.args)).toEqual([{ timer: "sbi", line: IRQ_S_TIMER, level: 1 }]);
    expect(events.filter((e) => e.name === "irq-taken").map((e) => e.flowIn)).toEqual([rises[0]!.flowOut]);
  });

  test("a new set_timer clears a pending timer interrupt; one in the past raises it at once", () => {
    const { h } = hart(10_000_000);
    const sip: number[] = [];
    h.loadGuest({
      main: function* () {
        yield op.csrSet(CSR_SIE, STIP);
        yield op.compute(50_000); // time 500
        yield op.sbi(SBI_EXT_TIME, SBI_EXT_TIME_SET_TIMER, [100]); // passed: pending right away
        yield op.compute(1);
        sip.push((yield op.csrRead(CSR_SIP)).value & STIP);
        yield op.sbi(SBI_EXT_TIME, SBI_EXT_TIME_SET_TIMER, [1_000_000]); // 100 ms ahead: cleared
        sip.push((yield op.csrRead(CSR_SIP)).value & STIP);
        yield op.sbi(SBI_EXT_TIME, SBI_EXT_TIME_SET_TIMER, [1_000]); // 50 us ahead
        yield op.sbi(SBI_EXT_TIME, SBI_EXT_TIME_SET_TIMER, [2_000]); // replaces it: nothing at 1_000
        yield op.compute(60_000); // time ≈ 1_100
        sip.push((yield op.csrRead(CSR_SIP)).value & STIP);
        yield op.compute(100_000); // time ≈ 2_100
        sip.push((yield op.csrRead(CSR_SIP)).value & STIP);
        yield op.read(DONE_ADDR, 4);
      },
    });
    expect(h.run().reason).toBe(KVM_EXIT_MMIO);
    expect(sip).toEqual([STIP, 0, 0, STIP]);
  });
});

describe("counterDeadlineNs", () => {
  test("is the first nanosecond at which the counter reaches the value, at any frequency and origin", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 1_000_000_000 }),
        fc.integer({ min: 1, max: 2 ** 40 }),
        fc.integer({ min: 0, max: 2 ** 40 }),
        (hz, ticks, epoch) => {
          const t = counterDeadlineNs(ticks, epoch, hz);
          if (t < 0) return;
          expect(counterTicks(t - epoch, hz)).toBeGreaterThanOrEqual(ticks);
          expect(counterTicks(t - 1 - epoch, hz)).toBeLessThan(ticks);
        },
      ),
      { seed: 42, numRuns: 2000 },
    );
  });
});
