/**
 * The RISC-V `time` CSR and Sstc `stimecmp` of a vCPU (riscv-time.ts), and
 * SBI send_ipi's hart-mask checks (kvm_sbi_ext_ipi_handler).
 */
import { op, type GuestResult } from "@irqlab/sim";
import { describe, expect, test } from "vitest";
import { CSR_SIE, IRQ_S_SOFT, IRQ_S_TIMER, KVM_EXIT_MMIO, KVM_MP_STATE_RUNNABLE, Kvm, SBI_EXT_IPI, SBI_EXT_TIME } from "./index.js";
import { CSR_STIMECMP, CSR_TIME, readTimeCsr, timeDeadlineNs } from "./riscv-time.js";

describe("RISC-V time", () => {
  test("time counts at the VM's timebase from the VM's creation; a write is a guest error", () => {
    const kvm = new Kvm({ arch: "riscv64" });
    kvm.queue.runUntil(5_000); // the VM is created 5 us into the simulation
    const vm = kvm.createVm(0, { timebaseHz: 10_000_000 });
    expect(vm.counterEpoch).toBe(5_000);
    const h = vm.createVcpu(0);
    const seen: number[] = [];
    h.loadGuest({
      main: function* () {
        const a: GuestResult = yield op.csrRead(CSR_TIME);
        seen.push(a.value, a.hi);
        yield op.compute(1_000_000); // 1 ms = 10000 ticks
        const b = yield op.csrRead(CSR_TIME);
        seen.push(b.value);
        yield op.csrWrite(CSR_TIME, 7);
        yield op.read(0x1000_0000, 4);
      },
    });
    expect(h.run().reason).toBe(KVM_EXIT_MMIO);
    expect(seen[1]).toBe(0);
    expect(seen[0]).toBeLessThan(10); // a few ticks of entry cost
    expect(seen[2]! - seen[0]!).toBeGreaterThanOrEqual(10_000);
    expect(seen[2]! - seen[0]!).toBeLessThan(10_010);
    expect(kvm.tracer.guestErrors).toBe(1);
  });

  test("a CSR the irqchip answers, read after time's high word was 1, reads a high word of 0", () => {
    const kvm = new Kvm({ arch: "riscv64" });
    // 2^32 ticks at 10 MHz: 429.4967296 s after the VM's creation, time's high word is 1.
    const vm = kvm.createVm(0, { timebaseHz: 10_000_000 });
    kvm.queue.runUntil(429_500_000_000);
    const h = vm.createVcpu(0);
    const seen: number[] = [];
    h.loadGuest({
      main: function* () {
        seen.push((yield op.csrRead(CSR_TIME)).hi);
        seen.push((yield op.csrSet(CSR_SIE, 1 << IRQ_S_SOFT)).hi);
        seen.push((yield op.csrRead(CSR_TIME)).hi);
        yield op.read(0x1000_0000, 4);
      },
    });
    expect(h.run().reason).toBe(KVM_EXIT_MMIO);
    expect(seen).toEqual([1, 0, 1]);
  });

  test("the 64-bit split and the deadline helper agree", () => {
    const wide = { hi: 0 };
    // 2^32 ticks at 10 MHz = 429.4967296 s.
    expect(readTimeCsr(429_496_729_600, 0, 10_000_000, wide)).toBe(0);
    expect(wide.hi).toBe(1);
    expect(readTimeCsr(1_000, 1_000, 10_000_000, wide)).toBe(0);
    expect(timeDeadlineNs(3, 1_000, 10_000_000)).toBe(1_300);
    expect(timeDeadlineNs(1, 0, 3)).toBe(333_333_334);
  });

  test("stimecmp (Sstc) raises the timer interrupt at its deadline; ULONG_MAX - 1 stops it", () => {
    const kvm = new Kvm({ arch: "riscv64" });
    const vm = kvm.createVm();
    const h = vm.createVcpu(0);
    const taken: number[] = [];
    h.loadGuest({
      main: function* () {
        yield op.csrSet(CSR_SIE, 1 << IRQ_S_TIMER);
        const t = (yield op.csrRead(CSR_TIME)).value;
        yield op.csrWrite(CSR_STIMECMP, t + 100); // 10 us
        yield op.unmask();
        yield op.wfi();
        taken.push(kvm.queue.now);
        yield op.read(0x1000_0000, 4);
      },
      vector: function* (cause) {
        taken.push(cause);
        yield op.csrWrite(CSR_STIMECMP, 0xffff_fffe, 0xffff_ffff);
      },
    });
    expect(h.run().reason).toBe(KVM_EXIT_MMIO);
    expect(taken[0]).toBe(IRQ_S_TIMER);
    expect(taken[1]).toBeGreaterThanOrEqual(10_000);
    expect(taken[1]).toBeLessThan(30_000);
    expect(h.irqChip.hasPendingIrq()).toBe(false);
  });

  test("SBI TIME with an unknown function is SBI_ERR_INVALID_PARAM, as kvm_sbi_ext_time_handler answers", () => {
    const kvm = new Kvm({ arch: "riscv64" });
    const h = kvm.createVm().createVcpu(0);
    let err = 0;
    h.loadGuest({ main: function* () { err = (yield op.sbi(SBI_EXT_TIME, 1, [0])).error; yield op.read(0x1000_0000, 4); } });
    h.run();
    expect(err).toBe(-3);
  });
});

describe("RISC-V SBI send_ipi hart masks (vcpu_sbi_replace.c)", () => {
  function ipi(mask: number, base: number): { error: number; pending: boolean[] } {
    const kvm = new Kvm({ arch: "riscv64" });
    const vm = kvm.createVm();
    const harts = [0, 1, 2, 3].map((i) => vm.createVcpu(i));
    for (const v of harts.slice(1)) v.setMpState(KVM_MP_STATE_RUNNABLE);
    let error = 0;
    harts[0]!.loadGuest({ main: function* () { error = (yield op.sbi(SBI_EXT_IPI, 0, [mask, base])).error; yield op.read(0x1000_0000, 4); } });
    harts[0]!.run();
    const pending = harts.map((v) => {
      v.irqChip.csr("csrrs", CSR_SIE, 1 << IRQ_S_SOFT, 0, { hi: 0 });
      return v.irqChip.hasPendingIrq();
    });
    return { error, pending };
  }

  test.each([
    ["one hart", 1, 2, 0, [false, false, true, false]],
    ["two harts", 0b101, 1, 0, [false, true, false, true]],
    ["broadcast", 0, -1, 0, [true, true, true, true]],
    ["no targets", 0, 0, 0, [false, false, false, false]],
    ["a bit beyond the last hart", 2, 3, -3, [false, false, false, false]],
    ["a base beyond the last hart", 1, 4, -3, [false, false, false, false]],
    ["named harts are sent to before the error", 0b11, 3, -3, [false, false, false, true]],
  ])("%s: mask %d base %d -> error %d", (_what, mask, base, error, pending) => {
    expect(ipi(mask, base)).toEqual({ error, pending });
  });
});
