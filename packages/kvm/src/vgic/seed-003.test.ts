/**
 * Seed 003, "KVM: arm: add irqfd support" (Eric Auger, Nov 2014): an irqfd
 * wired before the vgic is ready. QEMU sets up VFIO signalling and KVM_IRQFD
 * in a machine-init-done notifier, before the first KVM_RUN; a device whose
 * line was left asserted fires as soon as VFIO requests its IRQ.
 *
 * - lazy-init (the GICv2-era vgic, initialised at the first KVM_RUN): the
 *   irqfd is accepted, the early signal is consumed from the eventfd and the
 *   injection is dropped — an edge interrupt is lost for good; a level one is
 *   "acknowledged" at once (the patch's kvm_notify_acked_irq), so the
 *   resamplefd fires and the device has to re-assert.
 * - explicit KVM_DEV_ARM_VGIC_CTRL_INIT (what Linux adopted for GICv3 and QEMU
 *   does at irqchip realize): KVM_IRQFD is EAGAIN until INIT; after it the
 *   early signal latches the SPI pending and the guest takes it once it
 *   enables the SPI (virt/kvm/eventfd.c kvm_irqfd_assign; QEMU
 *   hw/intc/arm_gicv3_kvm.c kvm_arm_gicv3_realize).
 */
import { describe, expect, test } from "vitest";
import { EventFd } from "../irqfd/eventfd.js";
import { Kvm } from "../kvm.js";
import { KVM_DEV_TYPE_ARM_VGIC_V3 } from "../uapi/device-types.js";
import { KVM_IRQFD_FLAG_RESAMPLE } from "../irqfd/vm-irqfds.js";
import { armVm, ids, loadDriver } from "./test-fixture.js";
import { KVM_DEV_ARM_VGIC_CTRL_INIT, KVM_DEV_ARM_VGIC_GRP_CTRL } from "./vgic-uapi.js";
import { VgicV3 } from "./vgic-v3.js";

const SPI = 40;
const GSI = SPI - 32;

describe("seed 003 under lazy-init: the early interrupt is lost", () => {
  test("edge: KVM_IRQFD accepted before init, the signal consumed and dropped, the guest never sees it", () => {
    const { vm, vcpus, vgic } = armVm({ initMode: "lazy-init", trace: true });
    const fd = new EventFd();
    vm.irqfd({ fd, gsi: GSI }); // machine-init-done notifier: no EAGAIN in this mode
    fd.signal(); // the device's line was left asserted: VFIO signals at once
    expect(fd.count).toBe(0); // irqfd_wakeup drained it
    expect(vgic.initialized).toBe(false);
    expect(vm.tracer.counters.get("vgic.dropped_before_init")).toBe(1);
    const log = loadDriver(vcpus[0]!, { spis: [{ intid: SPI, edge: true }] });
    vcpus[0]!.run(); // vgic initialised here (first KVM_RUN); the guest enables SPI 40 and waits
    expect(vgic.initialized).toBe(true);
    expect(ids(log.acked)).toEqual([]);
    expect(vgic.gic!.irqs.status(0, SPI).pending).toBe(false);
    expect(vm.tracer.events().some((e) => e.name === "irq-dropped-before-init")).toBe(true);
  });

  test("level with resamplefd: acknowledged at once, the device must re-assert", () => {
    const { vm } = armVm({ initMode: "lazy-init" });
    const fd = new EventFd();
    const rfd = new EventFd();
    vm.irqfd({ fd, gsi: GSI, flags: KVM_IRQFD_FLAG_RESAMPLE, resamplefd: rfd });
    fd.signal();
    expect(rfd.count).toBe(1);
  });

  test("a signal after the first KVM_RUN is delivered normally", () => {
    const { kvm, vm, vcpus } = armVm({ initMode: "lazy-init" });
    const fd = new EventFd();
    vm.irqfd({ fd, gsi: GSI });
    const log = loadDriver(vcpus[0]!, { spis: [{ intid: SPI, edge: true }] });
    kvm.queue.schedule(100_000, () => fd.signal());
    vcpus[0]!.run();
    expect(ids(log.acked)).toEqual([SPI]);
  });
});

describe("seed 003 with explicit KVM_DEV_ARM_VGIC_CTRL_INIT: the early interrupt is latched", () => {
  test("KVM_IRQFD is EAGAIN before INIT, then the early edge is pending and taken once the guest enables the SPI", () => {
    const { vm, vcpus, dev, vgic } = armVm({ init: false });
    const fd = new EventFd();
    expect(() => vm.irqfd({ fd, gsi: GSI })).toThrow(expect.objectContaining({ code: "EAGAIN" }));
    dev.setDeviceAttr({ group: KVM_DEV_ARM_VGIC_GRP_CTRL, attr: KVM_DEV_ARM_VGIC_CTRL_INIT });
    vm.irqfd({ fd, gsi: GSI });
    fd.signal();
    expect(fd.count).toBe(0);
    const st = vgic.gic!.irqs.status(0, SPI);
    expect([st.latch, st.enabled]).toEqual([true, false]); // pending, not yet enabled by the guest
    const log = loadDriver(vcpus[0]!, { spis: [{ intid: SPI, edge: true }] });
    vcpus[0]!.run();
    expect(ids(log.acked)).toEqual([SPI]);
    expect(ids(log.done)).toEqual([SPI]);
    expect(vgic.gic!.irqs.status(0, SPI).pending).toBe(false);
  });
});

test("the init behaviour can be chosen per VM", () => {
  const kvm = new Kvm({ vgicInitMode: (vm) => (vm.name === "gicv2-era" ? "lazy-init" : "explicit") });
  const lazy = kvm.createVm(0, { name: "gicv2-era" });
  const explicit = kvm.createVm(0, { name: "modern" });
  for (const vm of [lazy, explicit]) {
    vm.createVcpu(0);
    vm.createDevice(KVM_DEV_TYPE_ARM_VGIC_V3);
  }
  expect(VgicV3.of(lazy)!.initMode).toBe("lazy-init");
  expect(() => lazy.irqfd({ fd: new EventFd(), gsi: GSI })).not.toThrow();
  expect(() => explicit.irqfd({ fd: new EventFd(), gsi: GSI })).toThrow(expect.objectContaining({ code: "EAGAIN" }));
});

test("lazy-init-irqfd-eagain: KVM_IRQFD is EAGAIN until the first KVM_RUN initialises the vgic; a retry then latches the early signal", () => {
  const { vm, vcpus, vgic } = armVm({ initMode: "lazy-init-irqfd-eagain" });
  const fd = new EventFd();
  fd.signal(); // the device fired before the VMM could wire the irqfd
  expect(() => vm.irqfd({ fd, gsi: GSI })).toThrow(expect.objectContaining({ code: "EAGAIN" }));
  const log = loadDriver(vcpus[0]!, { spis: [{ intid: SPI, edge: true }] });
  vcpus[0]!.run(); // lazy init at the first KVM_RUN
  expect(vgic.initialized).toBe(true);
  vm.irqfd({ fd, gsi: GSI }); // the VMM's retry: the pending count is injected at assignment
  vcpus[0]!.run();
  expect(ids(log.acked)).toEqual([SPI]);
});
