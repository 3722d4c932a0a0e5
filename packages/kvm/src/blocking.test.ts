/**
 * Blocking and wake-up: WFI, kicks, immediate_exit, halt polling and the two
 * kvm_arch_vcpu_runnable() policies of seed 004 ("An ode to
 * kvm_arch_vcpu_runnable()"; Linux arch/arm64/kvm/arm.c kvm_arch_vcpu_runnable,
 * virt/kvm/kvm_main.c kvm_vcpu_halt / kvm_vcpu_kick, Documentation/virt/kvm/
 * halt-polling.rst and vcpu-requests.rst).
 */
import { EventQueue, Tracer, op, type GuestOp, type GuestResult } from "@irqlab/sim";
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import {
  BasicIrqChip,
  FlushedIrqSource,
  IRQ_S_TIMER,
  CSR_SIE,
  KVM_ARM_TARGET_GENERIC_V8,
  KVM_CAP_HALT_POLL,
  KVM_EXIT_INTR,
  KVM_EXIT_MMIO,
  KVM_EXIT_SYSTEM_EVENT,
  KVM_INTERRUPT_SET,
  KVM_MP_STATE_RUNNABLE,
  KVM_MP_STATE_SUSPENDED,
  KVM_SYSTEM_EVENT_WAKEUP,
  KVM_INTERRUPT_UNSET,
  Kvm,
  KvmError,
  SBI_EXT_TIME,
  riscvCsrReg,
  type RunnablePolicy,
  type Vcpu,
  type Vm,
} from "./index.js";

interface Rig {
  kvm: Kvm;
  vm: Vm;
  v: Vcpu;
  log: string[];
}

/**
 * An arm64 vCPU whose guest unmasks, waits in WFI, and reports to the VMM
 * with an MMIO write at 0x1000 after waking; its vector logs and acks by an
 * MMIO write at 0x2000 (a userspace-irqchip ack the test answers).
 */
function rig(policy: RunnablePolicy = "irq-lines", masked = false): Rig {
  const queue = new EventQueue();
  const kvm = new Kvm({ queue, tracer: new Tracer(queue, { enabled: true }) });
  const vm = kvm.createVm(0, { runnablePolicy: policy });
  const v = vm.createVcpu(0);
  v.armVcpuInit({ target: KVM_ARM_TARGET_GENERIC_V8 });
  const log: string[] = [];
  v.loadGuest({
    main: function* () {
      if (!masked) yield op.unmask();
      yield op.wfi();
      log.push(`woke@${queue.now}`);
      yield op.write(0x1000, 4, 1);
    },
    vector: function* (cause) {
      log.push(`irq${cause}@${queue.now}`);
      yield op.write(0x2000, 4, cause);
    },
  });
  return { kvm, vm, v, log };
}

describe("WFI", () => {
  test("with an interrupt pending but masked, WFI does not block", () => {
    const { vm, v, log } = rig("irq-lines", true);
    vm.irqLine(0, 1);
    const e = v.run();
    expect(e.reason === KVM_EXIT_MMIO && e.physAddr).toBe(0x1000);
    expect(log).toEqual(["woke@306"]); // one WFI trap, no block
    expect(v.kvmRun.exitReason).toBe(KVM_EXIT_MMIO);
  });

  test("irq-pending-request as proposed: the request is consumed at entry, so a masked-pending WFI blocks", () => {
    // The hole README "Deviations" describes: runnable() sees only KVM_REQ_IRQ_PENDING,
    // which check_vcpu_requests() cleared before the guest ran.
    const { vm, v, log } = rig("irq-pending-request", true);
    vm.irqLine(0, 1);
    const e = v.run();
    expect(e.reason === KVM_EXIT_INTR && e.cause).toBe("idle");
    expect(log).toEqual([]);
    expect(v.irqChip.hasPendingIrq()).toBe(true);
  });

  test("without one it blocks until an event injects; the interrupt is then taken", () => {
    const { kvm, vm, v, log } = rig();
    kvm.queue.schedule(10_000, () => vm.irqLine(0, 1), undefined);
    const e = v.run();
    expect(e.reason === KVM_EXIT_MMIO && e.physAddr).toBe(0x2000); // the vector's ack
    // woken at 10 µs, + wake-up (902) + world switch of the kick re-entry? no: taken at entry + injection (1620)
    expect(log).toEqual(["irq0@12522"]);
    expect(kvm.tracer.toText()).toContain("vcpu-state blocked dur=");
    vm.irqLine(0, 0);
    v.run();
    expect(log).toEqual(["irq0@12522", `woke@${kvm.queue.now - 1683}`]);
  });

  test("with nothing that could wake it, run() returns KVM_EXIT_INTR 'idle' and the WFI is re-executed", () => {
    const { kvm, vm, v, log } = rig();
    const e = v.run();
    expect(e.reason === KVM_EXIT_INTR && e.cause).toBe("idle");
    expect(log).toEqual([]);
    expect(v.blocked).toBe(false);
    kvm.queue.schedule(kvm.queue.now + 500, () => vm.irqLine(0, 1), undefined);
    expect(v.run().reason).toBe(KVM_EXIT_MMIO);
    expect(log).toHaveLength(1);
  });
});

describe("kicks and immediate_exit", () => {
  test("immediate_exit set: KVM_RUN returns KVM_EXIT_INTR (-EINTR) without entering the guest", () => {
    const { kvm, v, log } = rig();
    v.kvmRun.immediateExit = 1;
    const e = v.run();
    expect(e.reason === KVM_EXIT_INTR && [e.cause, e.ret]).toEqual(["immediate-exit", -4]);
    expect(kvm.queue.now).toBe(0);
    expect(log).toEqual([]);
  });

  test("a kick from outside ends a blocked KVM_RUN with KVM_EXIT_INTR; the WFI is retired as Linux does", () => {
    const { kvm, v, log } = rig();
    kvm.queue.schedule(5_000, () => v.kick(), undefined);
    const e = v.run();
    expect(e.reason === KVM_EXIT_INTR && e.cause).toBe("kick");
    expect(v.kvmRun.immediateExit).toBe(1);
    v.kvmRun.immediateExit = 0; // the VMM clears it, as QEMU's kvm_eat_signals
    expect(v.run().reason).toBe(KVM_EXIT_MMIO);
    expect(log).toHaveLength(1);
  });

  test("a kick while the guest computes interrupts the computation at the kick's time", () => {
    const queue = new EventQueue();
    const kvm = new Kvm({ queue });
    const v = kvm.createVm().createVcpu(0);
    v.armVcpuInit({ target: KVM_ARM_TARGET_GENERIC_V8 });
    v.loadGuest({ main: function* () { yield op.compute(1_000_000); yield op.read(0x1000, 4); } });
    queue.schedule(250_000, () => v.kick(), undefined);
    const e = v.run();
    expect(e.reason === KVM_EXIT_INTR && e.cause).toBe("kick");
    expect(queue.now).toBe(250_000 + 306 + 1683);
    v.kvmRun.immediateExit = 0;
    expect(v.run().reason).toBe(KVM_EXIT_MMIO);
    expect(queue.now).toBe(1_000_000 + 306 + 1683 + 1683);
  });
});

describe("seed 004: kvm_arch_vcpu_runnable() and the vPMU overflow", () => {
  function pmuRig(policy: RunnablePolicy) {
    const r = rig(policy);
    const chip = r.v.irqChip;
    if (!(chip instanceof BasicIrqChip)) throw new Error("expected the built-in chip");
    const pmu = chip.addSource(new FlushedIrqSource("pmu", 0));
    r.kvm.queue.schedule(20_000, () => pmu.raise(), undefined);
    return { ...r, pmu };
  }

  test("irq-lines (Linux's condition): the overflow kicks the blocked vCPU, runnable() says no, the wake-up is lost", () => {
    const { kvm, v, log } = pmuRig("irq-lines");
    const e = v.run();
    expect(e.reason === KVM_EXIT_INTR && e.cause).toBe("idle");
    expect(log).toEqual([]);
    expect(kvm.tracer.counters.get("kvm.wake_ignored")).toBe(1);
    expect(kvm.tracer.toText()).toContain("wake-ignored policy=irq-lines");
  });

  test("irq-pending-request (the ode's proposal): the same overflow wakes the vCPU and the interrupt is taken", () => {
    const { kvm, v, log } = pmuRig("irq-pending-request");
    const e = v.run();
    expect(e.reason === KVM_EXIT_MMIO && e.physAddr).toBe(0x2000);
    expect(log).toEqual([`irq0@${20_000 + 902 + 1620}`]);
    expect(kvm.tracer.counters.get("kvm.wake_ignored")).toBe(0);
  });

  test("a deassert does not wake under either policy; only irq-lines even kicks", () => {
    // RISC-V so that a line can be asserted but not enabled (sie.SEIE = 0): the
    // vCPU then blocks in WFI with VSEIP high, and the deassert comes while it sleeps.
    for (const policy of ["irq-lines", "irq-pending-request"] as const) {
      const queue = new EventQueue();
      const kvm = new Kvm({ arch: "riscv64", queue, tracer: new Tracer(queue, { enabled: true }) });
      const v = kvm.createVm(0, { runnablePolicy: policy }).createVcpu(0);
      const log: string[] = [];
      v.loadGuest({
        main: function* () {
          yield op.unmask();
          yield op.wfi();
          log.push(`woke@${queue.now}`);
        },
      });
      v.interrupt(KVM_INTERRUPT_SET);
      queue.schedule(3_000, () => v.interrupt(KVM_INTERRUPT_UNSET), undefined);
      queue.schedule(8_000, () => v.kick(), undefined);
      const e = v.run();
      expect(e.reason === KVM_EXIT_INTR && e.cause).toBe("kick");
      expect(log).toEqual([]);
      const text = kvm.tracer.toText();
      // Blocked from the WFI (1 + 306 ns) to the kick; kvm_vcpu_wakeup says the wait was not a valid wake-up.
      expect(text).toMatch(/^307 vm0\/vcpu0 vcpu-state blocked dur=7693 wait=halt$/m);
      expect(text).toMatch(/^8000 vm0\/vcpu0 kvm kvm_vcpu_wakeup ns=7693 waited=true valid=false wait=halt end=signal$/m);
      const kicks = text.split("\n").filter((l) => l.includes("kick target=blocked")).length;
      expect(kicks).toBe(policy === "irq-lines" ? 1 : 0);
      expect(kvm.tracer.counters.get("kvm.wake_ignored")).toBe(policy === "irq-lines" ? 1 : 0);
    }
  });
});

describe("halt polling (halt-polling.rst)", () => {
  /**
   * Four halts, each woken 5 µs in by the CPU's IRQ line; the vector's
   * store exits to the VMM, which lowers the line. With `onWakeup` the run
   * returns "blocked" instead of blocking inside KVM_RUN and the VMM runs the
   * clock until the wake-up. Returns the window after each halt.
   */
  function fourHalts(onWakeup: boolean): { windows: number[]; kvm: Kvm } {
    const queue = new EventQueue();
    const kvm = new Kvm({ queue });
    const vm = kvm.createVm();
    vm.enableCap(KVM_CAP_HALT_POLL, [100_000]);
    const v = vm.createVcpu(0);
    v.armVcpuInit({ target: KVM_ARM_TARGET_GENERIC_V8 });
    v.loadGuest({
      main: function* () {
        yield op.unmask();
        for (;;) yield op.wfi();
      },
      vector: function* () {
        yield op.write(0x2000, 4, 0);
      },
    });
    let woken = false;
    const options = onWakeup ? { onWakeup: (): void => void (woken = true) } : undefined;
    const windows: number[] = [];
    for (let i = 0; i < 4; i++) {
      queue.schedule(queue.now + 5_000, () => vm.irqLine(0, 1), undefined);
      let e = v.run(0, options);
      while (e.reason === KVM_EXIT_INTR && e.cause === "blocked") {
        woken = false;
        queue.runUntilCondition(() => woken);
        e = v.run(0, options);
      }
      expect(e.reason).toBe(KVM_EXIT_MMIO);
      vm.irqLine(0, 0);
      windows.push(v.haltPollNs);
    }
    return { windows, kvm };
  }

  test("a VMM that returns from KVM_RUN while the vCPU is blocked (onWakeup) polls as one that blocks inside it", () => {
    const inside = fourHalts(false);
    const returning = fourHalts(true);
    expect(returning.windows).toEqual(inside.windows);
    for (const c of ["kvm.halt_attempted_poll", "kvm.halt_successful_poll", "kvm.halt_wakeup"]) {
      expect(returning.kvm.tracer.counters.get(c), c).toBe(inside.kvm.tracer.counters.get(c));
    }
    expect(returning.kvm.queue.now).toBe(inside.kvm.queue.now);
  });

  test("the window grows from 10 µs on short halts, and a wake-up inside it is a successful poll", () => {
    const { windows, kvm } = fourHalts(false);
    expect(windows).toEqual([10_000, 10_000, 10_000, 10_000]);
    expect(kvm.tracer.counters.get("kvm.halt_successful_poll")).toBe(3);
    expect(kvm.tracer.counters.get("kvm.halt_wakeup")).toBe(1);
  });
});

/**
 * A RISC-V vCPU whose guest enables the timer interrupt, sets the SBI timer
 * 1000 ticks (100 µs at 10 MHz) ahead and waits in WFI, then goes on with
 * `after`; `vector` is its vector.
 */
function timerVcpu(vector: () => Generator<GuestOp, void, GuestResult>, after?: () => Generator<GuestOp, void, GuestResult>): { queue: EventQueue; v: Vcpu } {
  const queue = new EventQueue();
  const v = new Kvm({ arch: "riscv64", queue }).createVm().createVcpu(0);
  v.loadGuest({
    main: function* () {
      yield op.csrSet(CSR_SIE, 1 << IRQ_S_TIMER);
      yield op.sbi(SBI_EXT_TIME, 0, [1_000]);
      yield op.unmask();
      yield op.wfi();
      if (after !== undefined) yield* after();
    },
    vector,
  });
  return { queue, v };
}

describe("RISC-V: SBI set_timer, sie and the timer interrupt", () => {
  test("the timer fires at stime / timebase and the vector sees scause = interrupt | 5", () => {
    const seen: number[] = [];
    const { queue, v } = timerVcpu(function* () {
      const c: GuestResult = yield op.csrRead(0x142);
      seen.push(c.hi, c.value, queue.now);
      yield op.sbi(SBI_EXT_TIME, 0, [Number.MAX_SAFE_INTEGER]); // clears the pending timer
      yield op.read(0x1000, 4);
    });
    expect(v.run().reason).toBe(KVM_EXIT_MMIO);
    expect(seen).toEqual([0x8000_0000, IRQ_S_TIMER, 100_000 + 902 + 1620 + 14]);
  });

  test("KVM_GET_ONE_REG reads the scause the interrupt set, and a KVM_SET_ONE_REG after it is what the guest reads", () => {
    const seen: number[] = [];
    const { v } = timerVcpu(
      function* () {
        yield op.sbi(SBI_EXT_TIME, 0, [Number.MAX_SAFE_INTEGER]);
        yield op.read(0x1000, 4);
      },
      function* () {
        const c: GuestResult = yield op.csrRead(0x142);
        seen.push(c.hi, c.value);
        yield op.read(0x2000, 4);
      },
    );
    expect(v.run().reason).toBe(KVM_EXIT_MMIO);
    // In the vector: scause = interrupt (bit 63) | IRQ_S_TIMER, as the hart set it.
    expect(v.getOneReg(riscvCsrReg("scause"))).toBe((1n << 63n) | BigInt(IRQ_S_TIMER));
    v.setOneReg(riscvCsrReg("scause"), 0x1234n);
    expect(v.getOneReg(riscvCsrReg("scause"))).toBe(0x1234n);
    expect(v.run().reason).toBe(KVM_EXIT_MMIO);
    expect(seen).toEqual([0, 0x1234]);
  });
});

describe("determinism", () => {
  function traceOf(seed: number, policy: RunnablePolicy): string {
    const queue = new EventQueue();
    const tracer = new Tracer(queue, { enabled: true });
    const kvm = new Kvm({ queue, tracer });
    const vm = kvm.createVm(0, { runnablePolicy: policy });
    const v = vm.createVcpu(0);
    v.armVcpuInit({ target: KVM_ARM_TARGET_GENERIC_V8 });
    let s = seed;
    const next = () => (s = (Math.imul(s, 1103515245) + 12345) >>> 0);
    v.loadGuest({
      main: function* () {
        yield op.unmask();
        for (let i = 0; i < 20; i++) {
          const k = next() % 4;
          if (k === 0) yield op.compute(next() % 5000);
          else if (k === 1) yield op.wfi();
          else if (k === 2) yield op.read(0x1000 + (next() % 16) * 4, 4);
          else yield op.hvc([0x8400_0000]);
        }
      },
      vector: function* () {
        yield op.write(0x2000, 4, 0);
      },
    });
    for (let t = 1; t <= 5; t++) queue.schedule(t * 7_000, () => vm.irqLine(0, 1), undefined);
    for (let i = 0; i < 100; i++) {
      const e = v.run();
      if (e.reason === KVM_EXIT_MMIO && e.physAddr === 0x2000) vm.irqLine(0, 0);
      if (e.reason === KVM_EXIT_INTR) v.kvmRun.immediateExit = 0;
      if (e.reason === KVM_EXIT_INTR && e.cause === "idle" && queue.pending === 0) break;
    }
    return tracer.toText();
  }

  test("the same program and seed give a byte-identical trace", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 31 }), fc.constantFrom<RunnablePolicy>("irq-lines", "irq-pending-request"), (seed, policy) => {
        const a = traceOf(seed, policy);
        expect(a.length).toBeGreaterThan(0);
        expect(traceOf(seed, policy)).toBe(a);
      }),
      { numRuns: 25 },
    );
  });
});

describe("KVM_MP_STATE_SUSPENDED (arm64)", () => {
  test("the vCPU waits in the kernel and a wake-up event exits with KVM_SYSTEM_EVENT_WAKEUP; the state is sticky", () => {
    const { kvm, vm, v } = rig();
    v.setMpState(KVM_MP_STATE_SUSPENDED);
    kvm.queue.schedule(2_000, () => vm.irqLine(0, 1), undefined);
    const e = v.run();
    expect(e.reason === KVM_EXIT_SYSTEM_EVENT && e.type).toBe(KVM_SYSTEM_EVENT_WAKEUP);
    expect(v.getMpState()).toBe(KVM_MP_STATE_SUSPENDED);
    // Still suspended: with the line still high it wakes again at once.
    const again = v.run();
    expect(again.reason === KVM_EXIT_SYSTEM_EVENT && again.type).toBe(KVM_SYSTEM_EVENT_WAKEUP);
    v.setMpState(KVM_MP_STATE_RUNNABLE);
    const e3 = v.run(); // now the guest runs and takes the interrupt
    expect(e3.reason === KVM_EXIT_MMIO && e3.physAddr).toBe(0x2000);
  });

  test("with halt polling, an interrupt ends the suspended vCPU's poll when it comes, not at the window's end", () => {
    const { kvm, vm, v } = rig();
    vm.enableCap(KVM_CAP_HALT_POLL, [100_000]);
    v.setMpState(KVM_MP_STATE_SUSPENDED);
    const wakeups: number[] = [];
    for (const raise of [2_000, 8_000]) {
      kvm.queue.schedule(raise, () => vm.irqLine(0, 1), undefined);
      const e = v.run();
      expect(e.reason === KVM_EXIT_SYSTEM_EVENT && e.type).toBe(KVM_SYSTEM_EVENT_WAKEUP);
      wakeups.push(kvm.queue.now);
      vm.irqLine(0, 0);
    }
    // The first halt blocks (no window yet): the raise, the wake-up (902 ns) and the exit (1683 ns). The
    // window then grows to 10 µs, and the second raise comes inside it: the exit follows it at once.
    expect(wakeups).toEqual([2_000 + 902 + 1_683, 8_000 + 1_683]);
    expect(kvm.tracer.counters.get("kvm.halt_successful_poll")).toBe(1);
  });
});


describe("the in-kernel irqchip seam (VmIrqChip)", () => {
  test("pre-create refusal, per-vCPU CPU sides, KVM_IRQ_LINE SPI dispatch and the first-run hook", () => {
    const kvm = new Kvm();
    const vm = kvm.createVm();
    const early = vm.createVcpu(0);
    let initialised = false;
    const lines: string[] = [];
    const chips = new Map<number, BasicIrqChip>();
    vm.installIrqChip({
      name: "fake-vgic",
      vcpuIrqChip: (id) => {
        const c = new BasicIrqChip("arm64");
        chips.set(id, c);
        return c;
      },
      vcpuPrecreate: () => {
        if (initialised) throw new KvmError("EBUSY", "KVM_CREATE_VCPU", "vgic initialised");
      },
      irqLine: (type, index, id, level) => lines.push(`${type}/${index}/${id}/${level}`),
      firstRun: () => {
        if (!initialised) throw new KvmError("EBUSY", "KVM_RUN", "vgic not initialised");
      },
    });
    expect(early.irqChip).toBe(chips.get(0));
    vm.createVcpu(1);
    initialised = true;
    expect(() => vm.createVcpu(2)).toThrow(/EBUSY/);
    vm.irqLine((1 << 24) | 40, 1);
    expect(lines).toEqual(["1/0/40/true"]);
    initialised = false;
    early.armVcpuInit({ target: KVM_ARM_TARGET_GENERIC_V8 });
    expect(() => early.run()).toThrow(/EBUSY/);
    initialised = true;
    expect(early.run().reason).toBe(KVM_EXIT_INTR);
  });
});
