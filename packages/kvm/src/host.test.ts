/** The host, placement seam, cost model and request flags. */
import { ConfigError, op } from "@irqlab/sim";
import { describe, expect, test } from "vitest";
import {
  DEFAULT_COSTS,
  Host,
  KVM_ARM_TARGET_GENERIC_V8,
  KVM_EXIT_MMIO,
  KVM_REQ_OUTSIDE_GUEST_MODE,
  KVM_REQ_SLEEP,
  KVM_REQ_TLB_FLUSH,
  KVM_REQUEST_NO_WAKEUP,
  Kvm,
  StickyRoundRobinPlacement,
  makeCostModel,
  requestBit,
  type PlacementPolicy,
} from "./index.js";

describe("cost model", () => {
  test("defaults carry the Altra micro-bench anchors (kvm-unit-tests arm/micro-bench)", () => {
    expect([DEFAULT_COSTS.hypercall, DEFAULT_COSTS.mmioInKernel, DEFAULT_COSTS.exitToUserspace, DEFAULT_COSTS.sysregNoTrap, DEFAULT_COSTS.ipi]).toEqual([306, 451, 1683, 14, 1926]);
  });

  test("overrides per VM change the virtual time charged; bad overrides are ConfigErrors naming the key", () => {
    const kvm = new Kvm();
    const vm = kvm.createVm(0, { costs: { exitToUserspace: 5000 } });
    const v = vm.createVcpu(0);
    v.armVcpuInit({ target: KVM_ARM_TARGET_GENERIC_V8 });
    v.loadGuest({ main: function* () { yield op.read(0x1000, 4); } });
    expect(v.run().reason).toBe(KVM_EXIT_MMIO);
    expect(kvm.queue.now).toBe(5000);
    expect(() => makeCostModel({ bogus: 1 } as never)).toThrow(/unknown cost 'bogus'/);
    expect(() => makeCostModel({ hypercall: -1 })).toThrow(ConfigError);
  });
});

describe("host and placement", () => {
  test("new vCPUs are placed round-robin and stay; the affinity mask moves them", () => {
    const kvm = new Kvm({ host: new Host({ cpus: 3 }) });
    const vm = kvm.createVm();
    const vs = [0, 1, 2, 3].map((i) => {
      const v = vm.createVcpu(i);
      v.armVcpuInit({ target: KVM_ARM_TARGET_GENERIC_V8 });
      v.loadGuest({ main: function* () { for (;;) yield op.read(0x1000, 4); } });
      return v;
    });
    for (const v of vs) v.run();
    expect(vs.map((v) => v.hostCpu)).toEqual([0, 1, 2, 0]);
    const mask = [2];
    vs[3]!.setThreadAffinity(mask);
    // sched_setaffinity copies the mask: the caller's array may change afterwards.
    mask[0] = 1;
    expect(vs[3]!.affinity).toEqual([2]);
    expect(Object.isFrozen(vs[3]!.affinity)).toBe(true);
    vs[3]!.run();
    expect(vs[3]!.hostCpu).toBe(2);
    // A frozen mask is copied as well: each call is a new affinity for the placement policy to apply.
    const frozen = Object.freeze([1, 2]);
    vs[2]!.setThreadAffinity(frozen);
    expect(vs[2]!.affinity).toEqual([1, 2]);
    expect(vs[2]!.affinity).not.toBe(frozen);
    expect(() => vs[0]!.setThreadAffinity([3])).toThrow(ConfigError);
  });

  test("a custom placement policy is consulted at every KVM_RUN and checked", () => {
    let calls = 0;
    const everyOther: PlacementPolicy = { name: "alternate", select: () => calls++ % 2 };
    const host = new Host({ cpus: 2, placement: everyOther });
    const v = new Kvm({ host }).createVm().createVcpu(0);
    v.armVcpuInit({ target: KVM_ARM_TARGET_GENERIC_V8 });
    v.loadGuest({ main: function* () { for (;;) yield op.read(0x1000, 4); } });
    const seen: number[] = [];
    for (let i = 0; i < 4; i++) {
      v.run();
      seen.push(v.hostCpu);
    }
    expect(seen).toEqual([0, 1, 0, 1]);
    host.setPlacement({ name: "broken", select: () => 7 });
    expect(() => v.run()).toThrow(/chose CPU 7/);
    host.setPlacement(new StickyRoundRobinPlacement());
  });
});

describe("requests", () => {
  test("KVM_REQUEST_NO_WAKEUP: a sleeping vCPU is not woken, only the bit is set", () => {
    const kvm = new Kvm();
    const v = kvm.createVm().createVcpu(0);
    v.armVcpuInit({ target: KVM_ARM_TARGET_GENERIC_V8 });
    v.loadGuest({ main: function* () { yield op.unmask(); yield op.wfi(); yield op.read(0x1000, 4); } });
    let blockedAtRequest = false;
    kvm.queue.schedule(1000, () => {
      blockedAtRequest = v.blocked;
      v.makeRequest(KVM_REQ_SLEEP);
    }, undefined);
    const e = v.run();
    expect(blockedAtRequest).toBe(true);
    expect(e.reason).not.toBe(KVM_EXIT_MMIO); // not woken: ends idle
    expect(v.testRequest(KVM_REQ_SLEEP)).toBe(true);
    expect(KVM_REQ_SLEEP & KVM_REQUEST_NO_WAKEUP).not.toBe(0);
    expect(requestBit(KVM_REQ_SLEEP)).toBe(1 << 8);
  });

  test("KVM_REQUEST_NO_ACTION sets no bit (kvm_make_vcpu_request): KVM_REQ_OUTSIDE_GUEST_MODE is not a TLB flush", () => {
    const kvm = new Kvm();
    const v = kvm.createVm().createVcpu(0);
    v.armVcpuInit({ target: KVM_ARM_TARGET_GENERIC_V8 });
    v.loadGuest({ main: function* () { yield op.unmask(); yield op.wfi(); yield op.read(0x1000, 4); } });
    kvm.queue.schedule(1000, () => v.makeRequest(KVM_REQ_OUTSIDE_GUEST_MODE), undefined);
    const e = v.run();
    // Number 0 with KVM_REQUEST_NO_ACTION: no bit; KVM_REQUEST_NO_WAKEUP: the blocked vCPU sleeps on.
    expect(e.reason).not.toBe(KVM_EXIT_MMIO);
    expect(v.testRequest(KVM_REQ_TLB_FLUSH)).toBe(false);
  });
});
