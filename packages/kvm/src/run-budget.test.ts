/**
 * KVM_RUN with a budget (RunOptions.until), returning instead of blocking
 * (RunOptions.onWakeup), and several vCPUs sharing one clock through nested
 * event-queue runs: what a VMM with one thread per vCPU needs from a
 * synchronous run().
 */
import { EventQueue, StateMachineProgram, Tracer, op, type GuestOp } from "@irqlab/sim";
import { describe, expect, test } from "vitest";
import { GICD_CTLR, GICD_CTLR_ENABLE_SS_G1, GICR_ISENABLER0, GICR_SGI_BASE, ICC_EOIR1_EL1, ICC_IAR1_EL1, ICC_IGRPEN1_EL1, ICC_PMR_EL1 } from "@irqlab/gic";
import { ARCH_TIMER_CTRL_ENABLE, ARCH_TIMER_CTRL_IT_MASK, CNTV_CTL_EL0, CNTV_TVAL_EL0, DEFAULT_TIMER_PPIS, TIMER_VTIMER } from "./arch-timer/timer-uapi.js";
import {
  ARM_SMCCC_VERSION_FUNC_ID,
  DEFAULT_COSTS,
  KVM_ARM_TARGET_GENERIC_V8,
  KVM_CAP_HALT_POLL,
  KVM_EXIT_INTR,
  KVM_EXIT_MMIO,
  KVM_EXIT_SYSTEM_EVENT,
  KVM_MP_STATE_RUNNABLE,
  KVM_MP_STATE_SUSPENDED,
  KVM_SYSTEM_EVENT_WAKEUP,
  Kvm,
  type Vcpu,
  type VcpuExit,
} from "./index.js";
import { armVm as vgicVm, DIST_BASE, REDIST_BASE } from "./vgic/test-fixture.js";

function armVm(vcpus = 1): { queue: EventQueue; kvm: Kvm; v: Vcpu[] } {
  const queue = new EventQueue();
  const kvm = new Kvm({ queue });
  const vm = kvm.createVm();
  const v: Vcpu[] = [];
  for (let i = 0; i < vcpus; i++) {
    const c = vm.createVcpu(i);
    c.armVcpuInit({ target: KVM_ARM_TARGET_GENERIC_V8 });
    v.push(c);
  }
  return { queue, kvm, v };
}

const cause = (e: VcpuExit): string => (e.reason === KVM_EXIT_INTR ? e.cause : `exit ${e.reason}`);

describe("RunOptions.until", () => {
  test("a guest that spins in WFI with a masked interrupt pending returns at the budget", () => {
    const { queue, v } = armVm();
    const c = v[0]!;
    c.loadGuest({
      main: function* () {
        for (;;) yield op.wfi(); // masked: each WFI completes at once (nothing is deliverable)
      },
    });
    c.irqChip.setIrqLine(0, true);
    const e = c.run(0, { until: 50_000 });
    expect(cause(e)).toBe("budget");
    expect(queue.now).toBeGreaterThanOrEqual(50_000);
    expect(queue.now).toBeLessThan(52_000); // stops within one operation of the budget
  });

  test("a blocked vCPU with a far-away timer returns at the budget, then blocks on and takes the wake-up", () => {
    const { queue, v } = armVm();
    const c = v[0]!;
    c.loadGuest({
      main: function* () {
        yield op.unmask();
        yield op.wfi();
        yield op.write(0x1000, 4, 1);
      },
      vector: function* () {
        c.irqChip.setIrqLine(0, false);
        yield op.compute(10);
      },
    });
    queue.schedule(1_000_000, () => c.irqChip.setIrqLine(0, true));
    expect(cause(c.run(0, { until: 200_000 }))).toBe("budget");
    expect(queue.now).toBe(200_000);
    const e = c.run();
    expect(e.reason).toBe(KVM_EXIT_MMIO); // the WFI was not completed early: the guest waited for the timer
    expect(queue.now).toBeGreaterThan(1_000_000);
  });

  test("compute is cut at the budget and resumes where it was", () => {
    const { queue, v } = armVm();
    const c = v[0]!;
    c.loadGuest({
      main: function* () {
        yield op.compute(100_000);
        yield op.write(0x1000, 4, 1);
      },
    });
    expect(cause(c.run(0, { until: 30_000 }))).toBe("budget");
    const t1 = queue.now;
    expect(c.run().reason).toBe(KVM_EXIT_MMIO);
    // The whole computation took 100 us of guest time in both runs together.
    expect(queue.now - t1).toBeGreaterThanOrEqual(100_000 - 30_000);
  });
});

describe("RunOptions.onWakeup", () => {
  test("a vCPU that blocks returns 'blocked'; the interrupt calls onWakeup; the next run takes it", () => {
    const { queue, v } = armVm();
    const c = v[0]!;
    const log: string[] = [];
    c.loadGuest({
      main: function* () {
        yield op.unmask();
        yield op.wfi();
        log.push(`after-wfi@${queue.now}`);
        yield op.write(0x1000, 4, 1);
      },
      vector: function* () {
        log.push(`irq@${queue.now}`);
        c.irqChip.setIrqLine(0, false);
        yield op.compute(10);
      },
    });
    let wakeups = 0;
    const onWakeup = (): void => {
      wakeups++;
    };
    expect(cause(c.run(0, { onWakeup }))).toBe("blocked");
    expect(c.blocked).toBe(true);
    queue.schedule(queue.now + 5_000, () => c.irqChip.setIrqLine(0, true));
    queue.runUntil(queue.now + 10_000);
    expect(wakeups).toBe(1);
    expect(c.run(0, { onWakeup }).reason).toBe(KVM_EXIT_MMIO);
    expect(log[0]).toMatch(/^irq@/);
    expect(log[1]).toMatch(/^after-wfi@/);
  });

  test("a tracer enabled while the vCPU is parked or running: what began untraced is not timed from a start the model did not keep", () => {
    const queue = new EventQueue();
    const tracer = new Tracer(queue, { enabled: false });
    const c = new Kvm({ queue, tracer }).createVm().createVcpu(0);
    c.armVcpuInit({ target: KVM_ARM_TARGET_GENERIC_V8 });
    c.loadGuest({
      main: function* () {
        yield op.unmask();
        yield op.wfi();
        yield op.write(0x1000, 4, 1);
        yield op.compute(5_000);
        yield op.write(0x2000, 4, 1);
        yield op.wfi();
        yield op.write(0x3000, 4, 1);
      },
      vector: function* () {
        c.irqChip.setIrqLine(0, false);
        yield op.compute(10);
      },
    });
    const onWakeup = (): void => undefined;
    const wakeAfter = (ns: number): void => {
      queue.schedule(queue.now + ns, () => c.irqChip.setIrqLine(0, true));
      queue.runUntil(queue.now + 2 * ns);
    };
    // Parked in WFI untraced (WFI at 1 + 306 ns), woken traced: the wake-up says how it ended, not how long it was.
    expect(cause(c.run(0, { onWakeup }))).toBe("blocked");
    tracer.enabled = true;
    wakeAfter(5_000);
    expect(c.run(0, { onWakeup }).reason).toBe(KVM_EXIT_MMIO);
    // A KVM_RUN entered untraced and left traced (the tracer enabled during its computation) has no span.
    tracer.enabled = false;
    queue.schedule(queue.now + 1_000, () => {
      tracer.enabled = true;
    });
    expect(c.run(0, { onWakeup }).reason).toBe(KVM_EXIT_MMIO);
    // Traced from the start: the wait and the run are timed.
    expect(cause(c.run(0, { onWakeup }))).toBe("blocked");
    wakeAfter(5_000);
    expect(c.run(0, { onWakeup }).reason).toBe(KVM_EXIT_MMIO);
    const text = tracer.toText();
    const lines = (what: string): string[] => text.split("\n").filter((l) => l.includes(` kvm ${what} `));
    expect(lines("kvm_vcpu_wakeup")).toEqual([
      "11209 vm0/vcpu0 kvm kvm_vcpu_wakeup waited=true valid=true wait=halt end=wake",
      // Blocked from 21817 (the WFI, 306 ns into the run entered at 21511) to the next run at 31817, + 902 to wake.
      "32719 vm0/vcpu0 kvm kvm_vcpu_wakeup ns=10902 waited=true valid=true wait=halt end=wake",
    ]);
    expect(lines("KVM_RUN")).toEqual([
      "10307 vm0/vcpu0 kvm KVM_RUN dur=4521 exit=KVM_EXIT_MMIO cpu=0",
      "21511 vm0/vcpu0 kvm KVM_RUN dur=306 exit=KVM_EXIT_INTR cpu=0",
      "31817 vm0/vcpu0 kvm KVM_RUN dur=4521 exit=KVM_EXIT_MMIO cpu=0",
    ]);
  });

  test("re-entered without a wake-up, the vCPU blocks again and the guest sees no spurious wake-up", () => {
    const { v } = armVm();
    const c = v[0]!;
    let after = false;
    c.loadGuest({
      main: function* () {
        yield op.unmask();
        yield op.wfi();
        after = true;
      },
    });
    const onWakeup = (): void => undefined;
    expect(cause(c.run(0, { onWakeup }))).toBe("blocked");
    expect(cause(c.run(0, { onWakeup }))).toBe("blocked");
    expect(after).toBe(false);
  });
});

describe("two vCPUs on one clock (nested runs)", () => {
  test("a second vCPU run from the first one's time never passes it, and both progress in parallel", () => {
    const { queue, v } = armVm(2);
    const [a, b] = [v[0]!, v[1]!];
    const done: Record<string, number> = {};
    for (const [name, c] of [["a", a], ["b", b]] as const) {
      c.loadGuest({
        main: function* () {
          for (let i = 0; i < 10; i++) yield op.compute(1_000);
          done[name] = queue.now;
          yield op.write(0x1000, 4, 1);
        },
      });
    }
    // vCPU b's thread is an event that runs it within whatever time a is spending.
    const stepB = (): void => {
      const e = b.run();
      if (e.reason === KVM_EXIT_INTR && e.cause === "budget") queue.scheduleWhenUnlimited(stepB, undefined);
    };
    queue.schedule(0, stepB);
    expect(a.run().reason).toBe(KVM_EXIT_MMIO);
    queue.runUntil(queue.now + 20_000);
    // Both computed 10 us from time 0: in parallel, both finish near 10 us, not one after the other.
    expect(done.a).toBeGreaterThanOrEqual(10_000);
    expect(done.b).toBeGreaterThanOrEqual(10_000);
    expect(done.a).toBeLessThan(12_000);
    expect(done.b).toBeLessThan(12_000);
  });

  test("handed back 'running', the vCPU is idle up to the end of what it owes, that end included: continued to it, it starts nothing", () => {
    /** A vCPU computing 10 ns then storing outside RAM (an MMIO exit), stopped by a limit at 4 ns. */
    function stopped(): { queue: EventQueue; b: Vcpu } {
      const { queue, v } = armVm(1);
      const b = v[0]!;
      b.loadGuest({
        main: function* () {
          yield op.compute(10);
          yield op.write(0x1000, 4, 2);
        },
      });
      const outer = queue.setLimit(4);
      expect(cause(b.run(0, { onWakeup: () => undefined }))).toBe("running");
      queue.restoreLimit(outer);
      return { queue, b };
    }
    const run = stopped();
    expect(run.queue.now).toBe(4);
    // (A yes counts the time as run, for a caller that then moves the clock there: asked last, below.)
    expect(run.b.idleUntil(11)).toBe(false);
    // The bound of a run of equal steps (IdleCheck.steps): those ending by 10, at most as many as asked.
    expect(run.b.idleSteps(4, 3, 100)).toBe(2);
    expect(run.b.idleSteps(4, 1, 5)).toBe(5);
    // Continued with the clock held at 10, the run only gets there: no store, no exit.
    const outer = run.queue.setLimit(10);
    expect(cause(run.b.run(0, { onWakeup: () => undefined }))).toBe("running");
    expect(run.queue.now).toBe(10);
    run.queue.restoreLimit(outer);
    const exit = run.b.run(0, { onWakeup: () => undefined });
    // Left off until then instead (the clock moved to 10 without it), it exits at the same time.
    const skipped = stopped();
    expect(skipped.b.idleUntil(10)).toBe(true);
    skipped.queue.runUntil(10);
    const exitAfterSkip = skipped.b.run(0, { onWakeup: () => undefined });
    expect(exit.reason).toBe(KVM_EXIT_MMIO);
    expect(exitAfterSkip.reason).toBe(KVM_EXIT_MMIO);
    expect(skipped.queue.now).toBe(run.queue.now);
  });

  test("kicked while it owes, the vCPU is idle on through the world switch out that follows, short of its end: left off past what it owed, it takes the interrupt at the same time and with the same trace", () => {
    const HVC = DEFAULT_COSTS.hypercall;
    const SWITCH = DEFAULT_COSTS.worldSwitch;
    /**
     * A vCPU with interrupts unmasked (at 1 ns) stopped 4 ns into an HVC's charge, owing the rest
     * (to 1 + HVC ns); with `kick`, its IRQ line then rises (KVM_REQ_IRQ_PENDING and a kick). Its
     * handler stores outside RAM: the exit tells when the interrupt was taken.
     */
    function stopped(kick: boolean): { queue: EventQueue; kvm: Kvm; b: Vcpu } {
      const { queue, kvm, v } = armVm(1);
      const b = v[0]!;
      kvm.tracer.enabled = true;
      b.loadGuest({
        main: function* () {
          yield op.unmask();
          yield op.hvc([ARM_SMCCC_VERSION_FUNC_ID]);
          yield op.write(0x1000, 4, 1);
        },
        vector: function* () {
          b.irqChip.setIrqLine(0, false);
          yield op.write(0x2000, 4, 1);
        },
      });
      const outer = queue.setLimit(5);
      expect(cause(b.run(0, { onWakeup: () => undefined }))).toBe("running");
      queue.restoreLimit(outer);
      if (kick) b.irqChip.setIrqLine(0, true);
      return { queue, kvm, b };
    }
    const owedEnd = 1 + HVC;
    // Not kicked: idle to the end of what it owes only.
    expect(stopped(false).b.idleUntil(owedEnd + 1)).toBe(false);
    // Kicked: through the world switch out, its end excluded (the run loop goes on there at once).
    expect(stopped(true).b.idleUntil(owedEnd + SWITCH)).toBe(false);
    // Taken out by the host's timer interrupt with its interrupt deliverable, it switches no world out
    // (the injection at re-entry pays the round trip): idle to the end of what it owes only.
    const timer = stopped(false);
    timer.b.hostTimerInterrupt();
    timer.b.irqChip.setIrqLine(0, true);
    expect(timer.b.idleUntil(owedEnd + 1)).toBe(false);
    expect(timer.b.idleUntil(owedEnd)).toBe(true);
    const bound = stopped(true).b;
    expect(bound.idleSteps(5, 100, 10)).toBe(Math.floor((owedEnd + SWITCH - 5) / 100));
    // Continued step by step inside another's time, and left off until inside the switch instead.
    const stepped = stopped(true);
    const limitAt = owedEnd + 100;
    const outer = stepped.queue.setLimit(limitAt);
    expect(cause(stepped.b.run(0, { onWakeup: () => undefined }))).toBe("running");
    expect(stepped.queue.now).toBe(limitAt);
    stepped.queue.restoreLimit(outer);
    const exit = stepped.b.run(0, { onWakeup: () => undefined });
    const skipped = stopped(true);
    expect(skipped.b.idleUntil(limitAt)).toBe(true);
    skipped.queue.runUntil(limitAt);
    const exitAfterSkip = skipped.b.run(0, { onWakeup: () => undefined });
    expect(exit.reason).toBe(KVM_EXIT_MMIO);
    expect(exit.reason === KVM_EXIT_MMIO && exit.physAddr).toBe(0x2000);
    expect(exitAfterSkip.reason === KVM_EXIT_MMIO && exitAfterSkip.physAddr).toBe(0x2000);
    expect(skipped.queue.now).toBe(stepped.queue.now);
    // The switch out, the entry and the injection follow what was owed: 1 + HVC + SWITCH + injection + the store's exit.
    expect(stepped.queue.now).toBe(owedEnd + SWITCH + DEFAULT_COSTS.interruptInjection + DEFAULT_COSTS.exitToUserspace);
    expect(skipped.kvm.tracer.toText()).toBe(stepped.kvm.tracer.toText());
  });

  test("stopped while it pays its vector's last op (returnsAfterOp), the vCPU is idle on through the return into the spin the interrupt came in: left off past what it owed, it takes the next interrupt at the same time and with the same trace", () => {
    const HVC = DEFAULT_COSTS.hypercall;
    const SPIN = 1_000_000;
    const RAISE = 100;
    /**
     * The vector: the IRQ line lowered and 1 ns of work (the request the line's fall makes takes
     * the vCPU through a world switch out and in), then an HVC (ARM_SMCCC_VERSION, in the kernel);
     * its next resume returns, and it says so after the HVC when `says`. A second interrupt's
     * vector stores outside RAM instead: the exit tells when it was taken.
     */
    class Vector extends StateMachineProgram {
      #step = 0;
      constructor(
        private readonly b: Vcpu,
        private readonly says: boolean,
        private readonly second: boolean,
        private readonly lies = false,
      ) {
        super(op.hvc([ARM_SMCCC_VERSION_FUNC_ID]));
      }
      next(): IteratorResult<GuestOp> {
        switch (this.#step++) {
          case 0:
            this.b.irqChip.setIrqLine(0, false);
            return this.yieldOp(op.compute(1));
          case 1:
            return this.yieldOp(this.second ? op.write(0x2000, 4, 1) : op.hvc([ARM_SMCCC_VERSION_FUNC_ID]));
          case 2:
            // `lies`: it said its next resume returns, and yields another op.
            return this.lies ? this.yieldOp(op.compute(1)) : this.finish(undefined);
          default:
            return this.finish(undefined);
        }
      }
      override get returnsAfterOp(): boolean {
        return this.says && this.#step === 2 && !this.second;
      }
      protected ended(): void {
        this.#step = 3;
      }
    }
    /**
     * A vCPU spinning (unmasked, from 1 ns) whose IRQ line rises at RAISE: it switches out, enters
     * again, takes the interrupt and runs the vector, stopped by a limit 5 ns into the HVC.
     */
    function stopped(says: boolean, lies = false): { queue: EventQueue; kvm: Kvm; b: Vcpu; owedEnd: number } {
      const { queue, kvm, v } = armVm(1);
      const b = v[0]!;
      kvm.tracer.enabled = true;
      let taken = 0;
      b.loadGuest({
        main: function* () {
          yield op.unmask();
          yield op.compute(SPIN);
        },
        vector: () => new Vector(b, says, taken++ > 0, lies),
      });
      queue.schedule(RAISE, () => b.irqChip.setIrqLine(0, true));
      const hvcAt = RAISE + DEFAULT_COSTS.worldSwitch + DEFAULT_COSTS.interruptInjection + 1 + DEFAULT_COSTS.worldSwitch;
      const outer = queue.setLimit(hvcAt + 5);
      expect(cause(b.run(0, { onWakeup: () => undefined }))).toBe("running");
      queue.restoreLimit(outer);
      return { queue, kvm, b, owedEnd: hvcAt + HVC };
    }
    // A vector that does not say its next resume returns: idle to the end of what is owed only.
    const silent = stopped(false);
    expect(silent.b.idleUntil(silent.owedEnd)).toBe(true);
    expect(silent.b.idleUntil(silent.owedEnd + 1)).toBe(false);
    // One that says so: on through the return, as long as the spin it takes up goes on (what was left of
    // it when the interrupt came, from the end of what is owed). Kicked by another interrupt meanwhile,
    // it leaves the guest at that end instead: idle through the world switch out only.
    const { owedEnd } = stopped(true);
    const spinEnd = owedEnd + SPIN - (RAISE - 1);
    expect(stopped(true).b.idleUntil(spinEnd - 1)).toBe(true);
    expect(stopped(true).b.idleUntil(spinEnd)).toBe(false);
    expect(stopped(true).b.idleUntil(owedEnd + DEFAULT_COSTS.worldSwitch)).toBe(true);
    const kicked = (): Vcpu => {
      const { b } = stopped(true);
      b.irqChip.setIrqLine(0, true);
      return b;
    };
    expect(kicked().idleUntil(owedEnd + DEFAULT_COSTS.worldSwitch - 1)).toBe(true);
    expect(kicked().idleUntil(owedEnd + DEFAULT_COSTS.worldSwitch)).toBe(false);
    // A program that says so and then yields another op breaks the promise the left-off run rests on.
    expect(() => stopped(true, true).b.idleUntil(owedEnd + 1)).toThrow(/returnsAfterOp said its next resume returns yielded another op/);
    // Continued inside another's time up to a point past the return, then the second interrupt; and
    // left off to that point instead: the second vector's store exits at the same time, traced alike.
    const second = (r: { queue: EventQueue; b: Vcpu }, at: number): VcpuExit => {
      r.queue.schedule(at, () => r.b.irqChip.setIrqLine(0, true));
      return r.b.run(0, { onWakeup: () => undefined });
    };
    const stepped = stopped(true);
    const limitAt = stepped.owedEnd + 1_000;
    const outer = stepped.queue.setLimit(limitAt);
    expect(cause(stepped.b.run(0, { onWakeup: () => undefined }))).toBe("running");
    expect(stepped.queue.now).toBe(limitAt);
    stepped.queue.restoreLimit(outer);
    const exit = second(stepped, limitAt + 10);
    const skipped = stopped(true);
    expect(skipped.b.idleUntil(limitAt)).toBe(true);
    skipped.queue.runUntil(limitAt);
    const exitAfterSkip = second(skipped, limitAt + 10);
    expect(exit.reason === KVM_EXIT_MMIO && exit.physAddr).toBe(0x2000);
    expect(exitAfterSkip.reason === KVM_EXIT_MMIO && exitAfterSkip.physAddr).toBe(0x2000);
    expect(skipped.queue.now).toBe(stepped.queue.now);
    expect(skipped.kvm.tracer.toText()).toBe(stepped.kvm.tracer.toText());
  });

  test("an exit or a WFI whose charge a limit cuts short happens once the charge is paid, as without the limit", () => {
    // DEFAULT_COSTS: an exit's round trip (exitToUserspace), a WFI's world switch.
    const EXIT = 1_683;
    const SWITCH = 306;
    /**
     * vCPU 0 stores outside RAM (an MMIO exit) or waits for an interrupt that never comes. With `stopAt`, its
     * first run is inside another's time, limited there, and returns "running"; the second continues it.
     */
    function runOnce(guest: "exit" | "wfi", stopAt?: number): { at: number; how: string } {
      const { queue, kvm, v } = armVm(1);
      const c = v[0]!;
      kvm.tracer.enabled = true;
      c.loadGuest({
        main: function* () {
          yield guest === "exit" ? op.write(0x1000, 4, 2) : op.wfi();
        },
      });
      const options = { onWakeup: (): void => undefined };
      if (stopAt !== undefined) {
        const outer = queue.setLimit(stopAt);
        expect(cause(c.run(0, options))).toBe("running");
        queue.restoreLimit(outer);
      }
      const e = c.run(0, options);
      return { at: queue.now, how: cause(e) };
    }
    // Alone: the MMIO exit once its round trip is paid; the WFI blocks after its world switch.
    expect(runOnce("exit")).toEqual({ at: EXIT, how: `exit ${KVM_EXIT_MMIO}` });
    expect(runOnce("wfi")).toEqual({ at: SWITCH, how: "blocked" });
    // Stopped 5 ns into the charge, then continued: at the same times, not at the limit's.
    expect(runOnce("exit", 5)).toEqual({ at: EXIT, how: `exit ${KVM_EXIT_MMIO}` });
    expect(runOnce("wfi", 5)).toEqual({ at: SWITCH, how: "blocked" });
  });

  test("with onWakeup, catching up with the other vCPU is no exit: one KVM_RUN from entry to the real exit", () => {
    const { queue, kvm, v } = armVm(2);
    const [a, b] = [v[0]!, v[1]!];
    kvm.tracer.enabled = true;
    a.loadGuest({
      main: function* () {
        for (let i = 0; i < 200; i++) yield op.write(0x4000_0000, 4, i); // 1-ns steps in RAM
        yield op.write(0x1000, 4, 1);
      },
    });
    b.loadGuest({
      main: function* () {
        yield op.compute(50_000);
        yield op.write(0x1000, 4, 2);
      },
    });
    kvm.vms[0]!.setUserMemoryRegion({ slot: 0, flags: 0, guestPhysAddr: 0x4000_0000, memorySize: 0x1000 });
    const causes: string[] = [];
    let exitB: VcpuExit | undefined;
    const stepB = (): void => {
      const e = b.run(0, { onWakeup: () => undefined });
      if (e.reason === KVM_EXIT_INTR && e.cause === "running") {
        causes.push(e.cause);
        queue.scheduleWhenUnlimited(stepB, undefined);
      } else exitB = e;
    };
    queue.schedule(0, stepB);
    expect(a.run().reason).toBe(KVM_EXIT_MMIO);
    queue.runUntil(queue.now + 100_000);
    expect(exitB?.reason).toBe(KVM_EXIT_MMIO);
    // b ran inside each of a's steps, never as an exit of its own.
    expect(causes.length).toBeGreaterThan(100);
    const counters = kvm.tracer.counters.toJSON();
    expect(counters["kvm.exit.KVM_EXIT_INTR"]).toBeUndefined();
    const runsOfB = kvm.tracer.events().filter((e) => e.phase === "span" && e.track === b.track && e.name === "KVM_RUN");
    expect(runsOfB).toHaveLength(1);
    expect(runsOfB[0]!.ts).toBe(0);
  });
});

describe("a run stopped by a limit and continued", () => {
  const DONE = 0x1000;
  const ACK = 0x2000;
  /** The virtual timer's PPI, as KVM sets it by default (arch_timer.c default_ppi[TIMER_VTIMER]: INTID 27). */
  const VTIMER_PPI = DEFAULT_TIMER_PPIS[TIMER_VTIMER]!;

  /** A VM with one vCPU, run by {@link drive}. */
  interface Rig {
    readonly queue: EventQueue;
    readonly tracer: Tracer;
    readonly vcpu: Vcpu;
    /** The VMM's answer to an exit other than DONE's. */
    readonly onExit: (e: VcpuExit) => void;
  }

  /**
   * One vCPU with a userspace irqchip whose CPU IRQ line rises at each of
   * `raises` (ns); `lower` lowers it. With `haltPollMaxNs`, halt polling is on
   * (KVM_CAP_HALT_POLL).
   */
  function lineVm(raises: readonly number[], haltPollMaxNs = 0): { queue: EventQueue; kvm: Kvm; c: Vcpu; lower: () => void } {
    const { queue, kvm, v } = armVm(1);
    const vm = kvm.vms[0]!;
    if (haltPollMaxNs > 0) vm.enableCap(KVM_CAP_HALT_POLL, [haltPollMaxNs]);
    for (const t of raises) queue.schedule(t, () => vm.irqLine(0, 1));
    return { queue, kvm, c: v[0]!, lower: () => vm.irqLine(0, 0) };
  }

  /**
   * A userspace irqchip: the guest computes (the CPU's IRQ line rises
   * meanwhile: the kick, the world switch out, the injection, a vector that
   * exits to the VMM to acknowledge), makes an HVC, waits in WFI until a
   * second rise, then exits.
   */
  function userspaceIrqchip(): Rig {
    const { queue, kvm, c, lower } = lineVm([700, 9_000]);
    c.loadGuest({
      main: function* () {
        yield op.unmask();
        yield op.compute(3_000);
        yield op.hvc([ARM_SMCCC_VERSION_FUNC_ID]); // answered in the kernel
        yield op.wfi();
        yield op.write(DONE, 4, 0);
      },
      vector: function* () {
        yield op.write(ACK, 4, 0);
      },
    });
    return { queue, tracer: kvm.tracer, vcpu: c, onExit: lower };
  }

  /**
   * The vgic-v3 and the virtual timer: it fires while the guest computes (the
   * host timer takes the vCPU out, and the interrupt taken at re-entry pays
   * that round trip), then wakes it from WFI; the vector acknowledges, masks
   * the timer and completes in the kernel.
   */
  function vgicTimer(): Rig {
    const { kvm, vcpus } = vgicVm();
    const c = vcpus[0]!;
    c.loadGuest({
      main: function* () {
        yield op.write(DIST_BASE + GICD_CTLR, 4, GICD_CTLR_ENABLE_SS_G1);
        yield op.write(REDIST_BASE + GICR_SGI_BASE + GICR_ISENABLER0, 4, 1 << VTIMER_PPI);
        yield op.msr(ICC_PMR_EL1, 0xff);
        yield op.msr(ICC_IGRPEN1_EL1, 1);
        yield op.unmask();
        yield op.msr(CNTV_TVAL_EL0, 25); // 1 us at 25 MHz
        yield op.msr(CNTV_CTL_EL0, ARCH_TIMER_CTRL_ENABLE);
        yield op.compute(4_000);
        yield op.hvc([ARM_SMCCC_VERSION_FUNC_ID]);
        yield op.msr(CNTV_TVAL_EL0, 100);
        yield op.msr(CNTV_CTL_EL0, ARCH_TIMER_CTRL_ENABLE);
        yield op.wfi();
        yield op.write(DONE, 4, 0);
      },
      vector: function* () {
        const intid = (yield op.mrs(ICC_IAR1_EL1)).value & 0xff_ffff;
        yield op.msr(CNTV_CTL_EL0, ARCH_TIMER_CTRL_ENABLE | ARCH_TIMER_CTRL_IT_MASK);
        yield op.msr(ICC_EOIR1_EL1, intid);
      },
    });
    return { queue: kvm.queue, tracer: kvm.tracer, vcpu: c, onExit: () => undefined };
  }

  /**
   * Halt polling (100 µs at most): WFIs woken by the CPU's IRQ line, some inside the polling
   * window once it has grown, some past it.
   */
  function haltPolling(): Rig {
    const { queue, kvm, c, lower } = lineVm([5_000, 12_000, 19_000, 30_000, 160_000, 171_000], 100_000);
    c.loadGuest({
      main: function* () {
        yield op.unmask();
        for (let i = 0; i < 6; i++) yield op.wfi();
        yield op.write(DONE, 4, 0);
      },
      vector: function* () {
        yield op.write(ACK, 4, 0);
      },
    });
    return { queue, tracer: kvm.tracer, vcpu: c, onExit: lower };
  }

  /**
   * The same window for a suspended vCPU (KVM_MP_STATE_SUSPENDED: a halt in
   * the kernel's run loop, KVM_REQ_SUSPEND): each wake-up exits with
   * KVM_SYSTEM_EVENT_WAKEUP and the VMM lowers the line; after the fourth it
   * makes the vCPU runnable and the guest stores DONE.
   */
  function suspendPolling(): Rig {
    const { queue, kvm, c, lower } = lineVm([5_000, 12_000, 19_000, 140_000], 100_000);
    c.loadGuest({
      main: function* () {
        yield op.write(DONE, 4, 0);
      },
    });
    c.setMpState(KVM_MP_STATE_SUSPENDED);
    let wakeups = 0;
    const onExit = (e: VcpuExit): void => {
      expect(e.reason === KVM_EXIT_SYSTEM_EVENT && e.type).toBe(KVM_SYSTEM_EVENT_WAKEUP);
      lower();
      if (++wakeups === 4) c.setMpState(KVM_MP_STATE_RUNNABLE);
    };
    return { queue, tracer: kvm.tracer, vcpu: c, onExit };
  }

  /**
   * Runs the rig's guest to its DONE exit with onWakeup. With `slice`, every
   * run() is limited to the next multiple of `slice` ns, as when another
   * vCPU's operations hold the clock, and each "running" is continued.
   * Returns the exits the VMM saw, with their times, and the trace.
   */
  function drive(rig: Rig, slice: number | undefined): string {
    const { queue, tracer, vcpu } = rig;
    tracer.enabled = true;
    let woken = false;
    const options = { onWakeup: (): void => void (woken = true) };
    const exits: string[] = [];
    for (let runs = 0; runs < 100_000; runs++) {
      let e: VcpuExit;
      if (slice === undefined) e = vcpu.run(0, options);
      else {
        const outer = queue.setLimit((Math.floor(queue.now / slice) + 1) * slice);
        e = vcpu.run(0, options);
        queue.restoreLimit(outer);
      }
      const how = cause(e);
      if (how === "running") continue;
      exits.push(`${queue.now} ${how}${e.reason === KVM_EXIT_MMIO ? ` 0x${e.physAddr.toString(16)}` : ""}`);
      if (how === "blocked") {
        woken = false;
        queue.runUntilCondition(() => woken);
      } else {
        if (e.reason === KVM_EXIT_MMIO && e.physAddr === DONE) break;
        rig.onExit(e);
      }
    }
    return [...exits, tracer.toText()].join("\n");
  }

  const SLICES = [1, 2, 3, 5, 7, 13, 29, 50, 101, 306, 997];

  test("whatever nanosecond it is stopped at, it runs as a vCPU never stopped: the same exits at the same times, the same trace", () => {
    const alone = drive(userspaceIrqchip(), undefined);
    // The vector's acknowledgement, the end of the WFI: the guest got there.
    expect(alone).toContain(" exit 6 0x2000");
    expect(alone).toContain(" exit 6 0x1000");
    for (const slice of SLICES) expect(drive(userspaceIrqchip(), slice), `stopped every ${slice} ns`).toBe(alone);
  });

  test("the same with halt polling: a poll the limit cuts short goes on to the end of its window, a wake-up inside it ends it", () => {
    const rig = haltPolling();
    const alone = drive(rig, undefined);
    const counters = rig.tracer.counters;
    // Polls that succeeded and halts that blocked past the window: both paths ran.
    expect(counters.get("kvm.halt_successful_poll")).toBeGreaterThan(0);
    expect(counters.get("kvm.halt_wakeup")).toBeGreaterThan(0);
    expect(alone).toContain(" exit 6 0x1000");
    for (const slice of SLICES) expect(drive(haltPolling(), slice), `stopped every ${slice} ns`).toBe(alone);
  });

  test("the same for a suspended vCPU's halt polls", () => {
    const rig = suspendPolling();
    const alone = drive(rig, undefined);
    expect(rig.tracer.counters.get("kvm.halt_successful_poll")).toBeGreaterThan(0);
    expect(alone.match(/ exit 24/g)).toHaveLength(4);
    expect(alone).toContain(" exit 6 0x1000");
    for (const slice of SLICES) expect(drive(suspendPolling(), slice), `stopped every ${slice} ns`).toBe(alone);
  });

  test("the same with the vgic and the virtual timer: a host timer exit, an interrupt taken at re-entry, a wake-up from WFI", () => {
    const alone = drive(vgicTimer(), undefined);
    // Taken twice (during the computation, then from WFI), the first after a host timer exit: taken
    // `timerInterrupt` after the expiry, not a world switch and an injection later.
    const times = (what: RegExp): number[] => alone.split("\n").filter((l) => what.test(l)).map((l) => Number(l.split(" ")[0]));
    const taken = times(/ irq-taken /);
    expect(taken).toHaveLength(2);
    expect(taken[0]! - times(/ timer-expire /)[0]!).toBe(DEFAULT_COSTS.timerInterrupt);
    expect(alone).toContain(" exit 6 0x1000");
    for (const slice of SLICES) expect(drive(vgicTimer(), slice), `stopped every ${slice} ns`).toBe(alone);
  });
});
