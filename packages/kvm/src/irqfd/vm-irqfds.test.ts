/**
 * KVM_IRQFD, resamplefd, KVM_SET_GSI_ROUTING, KVM_SIGNAL_MSI and irq bypass on
 * a vgic-v3 VM (virt/kvm/eventfd.c, irqchip.c; arch/arm64/kvm/arm.c;
 * arch/arm64/kvm/vgic/vgic-irqfd.c, vgic-its.c vgic_its_inject_msi).
 */
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { Kvm } from "../kvm.js";
import type { KvmMsi } from "../irqchip.js";
import { armVm, ids, loadDriver } from "../vgic/test-fixture.js";
import type { VgicMsiController } from "../vgic/vgic-v3.js";
import { EventFd } from "./eventfd.js";
import { KVM_IRQ_ROUTING_IRQCHIP, KVM_IRQ_ROUTING_MSI, KVM_MSI_VALID_DEVID } from "./gsi-routing.js";
import { KVM_IRQFD_FLAG_DEASSIGN, KVM_IRQFD_FLAG_RESAMPLE } from "./vm-irqfds.js";

const RESAMPLE = KVM_IRQFD_FLAG_RESAMPLE;
const GICD_ICFGR2 = 0xc00 + 8; // Int_config of SPIs 32..47

/** A vITS stand-in recording what the vgic hands it. */
function fakeIts(answer = 1): VgicMsiController & { log: string[] } {
  const log: string[] = [];
  return {
    log,
    injectMsi: (m: KvmMsi) => {
      log.push(`msi ${m.devid}:${m.data}`);
      return answer;
    },
    setForwarding: (irq: number, m: KvmMsi) => log.push(`fwd ${irq}→${m.devid}:${m.data}`),
    unsetForwarding: (irq: number) => log.push(`unfwd ${irq}`),
  };
}

const MSI_ROUTE = { gsi: 64, type: KVM_IRQ_ROUTING_MSI, flags: KVM_MSI_VALID_DEVID, addressLo: 0x0808_0040, addressHi: 0, data: 5, devid: 16 } as const;

describe("KVM_IRQFD errnos (kvm_irqfd, kvm_irqfd_assign)", () => {
  test("EINVAL for unknown flags, before anything else", () => {
    const { vm } = armVm({ init: false });
    expect(() => vm.irqfd({ fd: new EventFd(), gsi: 1, flags: 4 })).toThrow(expect.objectContaining({ code: "EINVAL" }));
  });

  test("EAGAIN without an in-kernel irqchip", () => {
    const vm = new Kvm().createVm();
    expect(() => vm.irqfd({ fd: new EventFd(), gsi: 1 })).toThrow(expect.objectContaining({ code: "EAGAIN" }));
  });

  test("EBADF closed eventfd or missing resamplefd; EBUSY for an eventfd already bound (any GSI); EINVAL resample on an MSI route", () => {
    const { vm } = armVm();
    const closed = new EventFd();
    closed.close();
    expect(() => vm.irqfd({ fd: closed, gsi: 1 })).toThrow(expect.objectContaining({ code: "EBADF" }));
    expect(() => vm.irqfd({ fd: new EventFd(), gsi: 1, flags: RESAMPLE })).toThrow(expect.objectContaining({ code: "EBADF" }));
    const fd = new EventFd();
    vm.irqfd({ fd, gsi: 1 });
    expect(() => vm.irqfd({ fd, gsi: 2 })).toThrow(expect.objectContaining({ code: "EBUSY", errno: -16 }));
    vm.setGsiRouting([MSI_ROUTE]);
    expect(() => vm.irqfd({ fd: new EventFd(), gsi: 64, flags: RESAMPLE, resamplefd: new EventFd() })).toThrow(expect.objectContaining({ code: "EINVAL" }));
  });

  test("deassign of an unknown (eventfd, gsi) succeeds; after deassign nothing is injected", () => {
    const { vm, vgic } = armVm();
    const fd = new EventFd();
    vm.irqfd({ fd, gsi: 8, flags: KVM_IRQFD_FLAG_DEASSIGN });
    vm.irqfd({ fd, gsi: 8 });
    vm.irqfd({ fd, gsi: 9, flags: KVM_IRQFD_FLAG_DEASSIGN }); // other GSI: not matched
    expect(vm.irqfds.irqfds).toHaveLength(1);
    vm.irqfd({ fd, gsi: 8, flags: KVM_IRQFD_FLAG_DEASSIGN });
    fd.signal();
    expect(vgic.gic!.irqs.status(0, 40).pending).toBe(false);
    expect(fd.count).toBe(1); // nobody drains it any more
  });
});

describe("injection", () => {
  test("a count pending at assign is injected at once; each signal drains the count and injects", () => {
    const { vm, vgic } = armVm();
    const fd = new EventFd(3);
    vm.irqfd({ fd, gsi: 8 });
    expect(vgic.gic!.irqs.status(0, 40).latch).toBe(true);
    expect(vm.irqfds.irqfds[0]!.injections).toBe(1);
    fd.signal();
    expect(fd.count).toBe(0);
    expect(vm.irqfds.irqfds[0]!.injections).toBe(2);
  });

  test("closing the eventfd (EPOLLHUP) deactivates the irqfd", () => {
    const { vm } = armVm();
    const fd = new EventFd();
    vm.irqfd({ fd, gsi: 8 });
    fd.close();
    expect(vm.irqfds.irqfds).toHaveLength(0);
  });

  test("KVM_SET_GSI_ROUTING re-resolves existing irqfds; an unrouted GSI injects nothing; pins ≥ 988 are EINVAL", () => {
    const { vm, vgic } = armVm();
    const fd = new EventFd();
    vm.irqfd({ fd, gsi: 5 });
    vm.setGsiRouting([{ gsi: 5, type: KVM_IRQ_ROUTING_IRQCHIP, irqchip: 0, pin: 9 }]);
    fd.signal();
    expect(vgic.gic!.irqs.status(0, 41).latch).toBe(true);
    expect(vgic.gic!.irqs.status(0, 37).latch).toBe(false);
    vm.setGsiRouting([]);
    vgic.gic!.irqs.setPendingLatch(0, 41, false);
    fd.signal();
    expect(vgic.gic!.irqs.status(0, 41).latch).toBe(false);
    expect(() => vm.setGsiRouting([{ gsi: 1, type: KVM_IRQ_ROUTING_IRQCHIP, irqchip: 0, pin: 988 }])).toThrow(expect.objectContaining({ code: "EINVAL" }));
  });

  test("a pin beyond NR_IRQS fails inside the injection, traced and counted, not thrown at the writer", () => {
    const { vm } = armVm();
    const fd = new EventFd();
    vm.irqfd({ fd, gsi: 300 }); // the default routing covers 224 SPIs: GSI 300 is unrouted
    vm.setGsiRouting([{ gsi: 300, type: KVM_IRQ_ROUTING_IRQCHIP, irqchip: 0, pin: 300 }]);
    expect(() => fd.signal()).not.toThrow();
    // Once the vgic is initialised the atomic path drives level 1 only (vgic-irqfd.c
    // kvm_arch_set_irq_inatomic), which fails EINVAL for a pin beyond NR_IRQS.
    expect(vm.tracer.counters.get("irqfd.inject_failed")).toBe(1);
  });
});

describe("resamplefd (irqfd_resampler_ack)", () => {
  function levelVm(): ReturnType<typeof armVm> {
    const r = armVm();
    r.vgic.gic!.distributor.write(GICD_ICFGR2, 4, 0, 0);
    return r;
  }

  test("every resamplefd of the GSI is signalled once per level EOI and the line is lowered once", () => {
    const { kvm, vm, vcpus, vgic } = levelVm();
    const log = loadDriver(vcpus[0]!, { spis: [{ intid: 40, edge: false }] });
    const [a, b, ra, rb] = [new EventFd(), new EventFd(), new EventFd(), new EventFd()];
    vm.irqfd({ fd: a, gsi: 8, flags: RESAMPLE, resamplefd: ra });
    vm.irqfd({ fd: b, gsi: 8, flags: RESAMPLE, resamplefd: rb });
    kvm.queue.schedule(10_000, () => a.signal());
    vcpus[0]!.run();
    expect(ids(log.done)).toEqual([40]);
    expect([ra.count, rb.count]).toEqual([1, 1]);
    expect(vgic.gic!.lineLevel(0, 40)).toBe(false);
  });

  test("property: level injections coalesce while the line is held; EOIs and resamples always match", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 12 }), fc.integer({ min: 1, max: 20_000 }), (n, gap) => {
        const { kvm, vm, vcpus } = levelVm();
        const log = loadDriver(vcpus[0]!, { spis: [{ intid: 40, edge: false }] });
        const fd = new EventFd();
        const rfd = new EventFd();
        vm.irqfd({ fd, gsi: 8, flags: RESAMPLE, resamplefd: rfd });
        for (let i = 0; i < n; i++) kvm.queue.schedule(10_000 + i * gap, () => fd.signal());
        vcpus[0]!.run();
        // Injections while the line is already held coalesce, as on a level wire.
        expect(log.done.length).toBe(rfd.count);
        expect(log.done.length).toBeGreaterThanOrEqual(1);
        expect(log.done.length).toBeLessThanOrEqual(n);
      }),
      { numRuns: 40 },
    );
  });

  test("an edge-configured SPI never resamples: the line stays asserted", () => {
    const { kvm, vm, vcpus, vgic } = armVm();
    const log = loadDriver(vcpus[0]!, { spis: [{ intid: 40, edge: true }] });
    const fd = new EventFd();
    const rfd = new EventFd();
    vm.irqfd({ fd, gsi: 8, flags: RESAMPLE, resamplefd: rfd });
    kvm.queue.schedule(10_000, () => fd.signal());
    vcpus[0]!.run();
    expect(ids(log.done)).toEqual([40]);
    expect(rfd.count).toBe(0);
    expect(vgic.gic!.lineLevel(0, 40)).toBe(true);
  });

  test("deassigning the last resampling irqfd of a GSI lowers the line", () => {
    const { vm, vgic } = levelVm();
    const fd = new EventFd();
    vm.irqfd({ fd, gsi: 8, flags: RESAMPLE, resamplefd: new EventFd() });
    fd.signal();
    expect(vgic.gic!.lineLevel(0, 40)).toBe(true);
    vm.irqfd({ fd, gsi: 8, flags: KVM_IRQFD_FLAG_DEASSIGN });
    expect(vgic.gic!.lineLevel(0, 40)).toBe(false);
  });
});

describe("KVM_SIGNAL_MSI and MSI routes (kvm_send_userspace_msi, kvm_set_msi)", () => {
  const msi: KvmMsi = { addressLo: 0x0808_0040, addressHi: 0, data: 5, flags: KVM_MSI_VALID_DEVID, devid: 16 };

  test("EINVAL without an in-kernel irqchip or with unknown flags; ENODEV without a vITS; else the vITS's answer", () => {
    expect(() => new Kvm().createVm().signalMsi(msi)).toThrow(expect.objectContaining({ code: "EINVAL" }));
    const { vm, vgic } = armVm();
    expect(() => vm.signalMsi({ ...msi, flags: 2 })).toThrow(expect.objectContaining({ code: "EINVAL" }));
    expect(() => vm.signalMsi(msi)).toThrow(expect.objectContaining({ code: "ENODEV" }));
    vgic.setMsiController(fakeIts(0));
    expect(vm.signalMsi(msi)).toBe(0);
  });

  /** A vgic-v3 VM with a recording vITS stand-in and an irqfd on MSI_ROUTE's GSI. */
  function msiIrqfd() {
    const { vm, vgic } = armVm();
    const its = fakeIts();
    vgic.setMsiController(its);
    vm.setGsiRouting([MSI_ROUTE]);
    const fd = new EventFd();
    vm.irqfd({ fd, gsi: MSI_ROUTE.gsi });
    return { vm, its, fd };
  }

  test("an irqfd on an MSI route injects the MSI once per signal", () => {
    const { its, fd } = msiIrqfd();
    fd.signal();
    fd.signal();
    expect(its.log).toEqual(["msi 16:5", "msi 16:5"]);
  });

  test("KVM_SET_GSI_ROUTING changes the MSI an irqfd injects (irqfd_update re-copies irqfd->irq_entry); a GSI that is no longer an MSI route injects none", () => {
    const { vm, its, fd } = msiIrqfd();
    fd.signal();
    vm.setGsiRouting([{ ...MSI_ROUTE, data: 6, devid: 17 }]);
    fd.signal();
    const f = vm.irqfds.irqfds[0]!;
    expect([f.addressLo, f.addressHi, f.data, f.flags, f.devid]).toEqual([0x0808_0040, 0, 6, KVM_MSI_VALID_DEVID, 17]);
    vm.setGsiRouting([]);
    fd.signal();
    expect(its.log).toEqual(["msi 16:5", "msi 17:6"]);
    expect([f.data, f.devid, f.msiRoute]).toEqual([0, 0, undefined]);
  });
});

describe("irq bypass (kvm_arch_irq_bypass_add_producer / del_producer, kvm_arch_update_irqfd_routing)", () => {
  test("a producer on the irqfd's eventfd forwards the MSI route; a route change or deassign stops it", () => {
    const { kvm, vm, vgic } = armVm();
    const its = fakeIts();
    vgic.setMsiController(its);
    vm.setGsiRouting([MSI_ROUTE]);
    const fd = new EventFd();
    vm.irqfd({ fd, gsi: 64 });
    const producer = { irq: 77 };
    kvm.irqBypass.registerProducer(producer, fd);
    expect(its.log).toEqual(["fwd 77→16:5"]);
    vm.setGsiRouting([MSI_ROUTE]); // same MSI: forwarding kept
    expect(its.log).toHaveLength(1);
    vm.setGsiRouting([{ ...MSI_ROUTE, data: 6 }]);
    expect(its.log).toEqual(["fwd 77→16:5", "unfwd 77"]);
    vm.irqfd({ fd, gsi: 64, flags: KVM_IRQFD_FLAG_DEASSIGN });
    expect(its.log).toEqual(["fwd 77→16:5", "unfwd 77", "unfwd 77"]);
    expect(kvm.irqBypass.producerOf(vm.irqfds.irqfds[0]!)).toBeUndefined();
  });

  test("an irqchip route is never forwarded", () => {
    const { kvm, vm, vgic } = armVm();
    const its = fakeIts();
    vgic.setMsiController(its);
    const fd = new EventFd();
    vm.irqfd({ fd, gsi: 8 });
    kvm.irqBypass.registerProducer({ irq: 78 }, fd);
    expect(its.log).toEqual([]);
  });
});
