import { ICC_PMR_EL1 } from "@irqlab/gic";
import { op, type GuestProgram } from "@irqlab/sim";
import { describe, expect, test } from "vitest";
import { CNTFRQ_EL0, CNTPCT_EL0, CNTVCT_EL0, counterTicks, MPIDR_EL1_REG } from "./arch-counter.js";
import { Kvm } from "./kvm.js";
import { KVM_EXIT_MMIO } from "./uapi/exit-reasons.js";
import { KVM_ARM_TARGET_GENERIC_V8 } from "./uapi/device-types.js";
import { armVm } from "./vgic/test-fixture.js";

describe("counterTicks", () => {
  test("floor(ns × hz / 1e9), exact where doubles would round", () => {
    expect(counterTicks(0, 25_000_000)).toBe(0);
    expect(counterTicks(39, 25_000_000)).toBe(0);
    expect(counterTicks(40, 25_000_000)).toBe(1);
    expect(counterTicks(1_000_000_000, 25_000_000)).toBe(25_000_000);
    const ns = 987_654_321_987_654;
    for (const hz of [1, 25_000_000, 62_500_000, 999_999_937, 1_000_000_000]) {
      expect(counterTicks(ns, hz)).toBe(Number((BigInt(ns) * BigInt(hz)) / 1_000_000_000n));
    }
  });
});

describe("guest reads of the counter and MPIDR_EL1", () => {
  function readRegs(counterHz?: number, startAt = 0) {
    const kvm = new Kvm({ arch: "arm64" });
    kvm.queue.schedule(startAt, () => undefined);
    kvm.queue.runUntil(startAt);
    const vm = kvm.createVm(0, counterHz === undefined ? {} : { counterHz });
    vm.createVcpu(0);
    const vcpu = vm.createVcpu(0x12);
    vcpu.armVcpuInit({ target: KVM_ARM_TARGET_GENERIC_V8 });
    const seen: [number, number][] = [];
    vcpu.loadGuest({
      main: function* (): GuestProgram {
        for (const reg of [CNTFRQ_EL0, CNTVCT_EL0, CNTPCT_EL0, MPIDR_EL1_REG]) {
          const r = yield op.mrs(reg);
          seen.push([r.value, r.hi]);
        }
        yield op.compute(1_000_000);
        const r = yield op.mrs(CNTVCT_EL0);
        seen.push([r.value, r.hi]);
        yield op.hvc([0x8400_0008]);
      },
    });
    vcpu.run();
    return seen;
  }

  test("default 25 MHz; CNTVCT counts from VM creation, CNTPCT from time 0; MPIDR from the vCPU id", () => {
    const [frq, vct, pct, mpidr, later] = readRegs(undefined, 400_000);
    expect(frq).toEqual([25_000_000, 0]);
    expect(vct![0]).toBeLessThan(10);
    expect(pct![0]).toBeGreaterThanOrEqual(10_000);
    expect(mpidr).toEqual([0x8000_0102, 0]);
    // 1 ms later: 25,000 more ticks (plus the few ops in between).
    expect(later![0] - vct![0]).toBeGreaterThanOrEqual(25_000);
    expect(later![0] - vct![0]).toBeLessThan(25_010);
  });

  test("counterHz overrides the frequency and is range-checked", () => {
    expect(readRegs(1_000_000_000)[0]).toEqual([1_000_000_000, 0]);
    expect(() => new Kvm({ arch: "arm64" }).createVm(0, { counterHz: 2_000_000_000 })).toThrow(/counterHz/);
  });

  test("a register the vgic answers, read after the counter's high word was 1, reads a high word of 0", () => {
    const { kvm, vcpus } = armVm();
    // 2^32 ticks at 25 MHz: 171.80 s after time 0, CNTPCT_EL0's high word is 1.
    kvm.queue.runUntil(172_000_000_000);
    const seen: number[] = [];
    vcpus[0]!.loadGuest({
      main: function* (): GuestProgram {
        seen.push((yield op.mrs(CNTPCT_EL0)).hi);
        seen.push((yield op.mrs(ICC_PMR_EL1)).hi);
        seen.push((yield op.mrs(CNTPCT_EL0)).hi);
        yield op.read(0x0900_0000, 4);
      },
    });
    expect(vcpus[0]!.run().reason).toBe(KVM_EXIT_MMIO);
    expect(seen).toEqual([1, 0, 1]);
  });
});
