/**
 * irqfd end to end with the vCPU blocked in WFI (companion of irqfd.bench.ts,
 * which holds the ≥ 2 M/s target): an eventfd is signalled → KVM's
 * irqfd injects SPI 40 into the vgic-v3 → the vCPU takes the interrupt and its
 * GICv3 driver acknowledges it (ICC_IAR1_EL1) and completes it
 * (ICC_EOIR1_EL1). One call runs N interrupts; names end in "[xN]".
 *
 * - "doorbell": the guest rings an in-kernel device register (on the VM's
 *   kernel MMIO bus) whose handler signals the eventfd — the vCPU is running
 *   when the interrupt arrives (trap, request, re-entry, exception, IAR, EOI).
 * - "WFI": the device signals every PERIOD_NS of virtual time while the vCPU
 *   is blocked in WFI — adds the event queue, the halt and the wake-up.
 *
 * `meta.virtualNsPerOp` is the virtual time per interrupt under the default
 * cost model.
 */
import { bench, describe } from "vitest";
import {
  EventFd,
  KVM_ARM_TARGET_GENERIC_V8,
  KVM_DEV_ARM_VGIC_CTRL_INIT,
  KVM_DEV_ARM_VGIC_GRP_ADDR,
  KVM_DEV_ARM_VGIC_GRP_CTRL,
  KVM_DEV_ARM_VGIC_GRP_NR_IRQS,
  KVM_DEV_TYPE_ARM_VGIC_V3,
  KVM_IRQFD_FLAG_RESAMPLE,
  KVM_VGIC_V3_ADDR_TYPE_DIST,
  KVM_VGIC_V3_ADDR_TYPE_REDIST,
  Kvm,
  gicv3GuestImage,
  registerVgicV3,
  type Vcpu,
} from "../src/index.js";

const N = 1000;
const PERIOD_NS = 10_000;
const SPI = 40;

interface Rig {
  vcpu: Vcpu;
  fd: EventFd;
  resamplefd: EventFd;
  completed: () => number;
}

function rig(edge: boolean): Rig {
  const kvm = new Kvm();
  registerVgicV3(kvm);
  const vm = kvm.createVm();
  const vcpu = vm.createVcpu(0);
  vcpu.armVcpuInit({ target: KVM_ARM_TARGET_GENERIC_V8 });
  const dev = vm.createDevice(KVM_DEV_TYPE_ARM_VGIC_V3);
  dev.setDeviceAttr({ group: KVM_DEV_ARM_VGIC_GRP_NR_IRQS, attr: 0, value: 128 });
  dev.setDeviceAttr({ group: KVM_DEV_ARM_VGIC_GRP_ADDR, attr: KVM_VGIC_V3_ADDR_TYPE_DIST, value: 0x0800_0000 });
  dev.setDeviceAttr({ group: KVM_DEV_ARM_VGIC_GRP_ADDR, attr: KVM_VGIC_V3_ADDR_TYPE_REDIST, value: 0x080a_0000 });
  dev.setDeviceAttr({ group: KVM_DEV_ARM_VGIC_GRP_CTRL, attr: KVM_DEV_ARM_VGIC_CTRL_INIT });
  const fd = new EventFd();
  const resamplefd = new EventFd();
  vm.irqfd(edge ? { fd, gsi: SPI - 32 } : { fd, gsi: SPI - 32, flags: KVM_IRQFD_FLAG_RESAMPLE, resamplefd });
  let completed = 0;
  vcpu.loadGuest(
    gicv3GuestImage({
      distBase: 0x0800_0000,
      spis: [{ intid: SPI, edge }],
      onComplete: () => completed++,
    }),
  );
  return { vcpu, fd, resamplefd, completed: () => completed };
}

function wfiBench(edge: boolean): { run: () => void; vcpu: Vcpu } {
  const r = rig(edge);
  const q = r.vcpu.vm.queue;
  let left = 0;
  const fire = (): void => {
    r.resamplefd.drain();
    r.fd.signal();
    if (--left > 0) q.scheduleAfter(PERIOD_NS, fire);
  };
  r.vcpu.run(); // boot: the guest configures the GIC and waits in WFI
  const run = (): void => {
    const before = r.completed();
    left = N;
    q.scheduleAfter(PERIOD_NS, fire);
    r.vcpu.run();
    if (r.completed() - before !== N) throw new Error(`expected ${N} completed interrupts, got ${r.completed() - before}`);
  };
  return { run, vcpu: r.vcpu };
}

/** Virtual ns per interrupt of a bench call, measured on one warm-up call. */
function virtualNs(run: () => void, vcpu: Vcpu): number {
  const q = vcpu.vm.queue;
  run();
  const t0 = q.now;
  run();
  return Math.round((q.now - t0) / N);
}

describe("irqfd → vgic-v3 → guest IAR/EOI, vCPU blocked in WFI", () => {
  const cases: [string, { run: () => void; vcpu: Vcpu }][] = [
    [`WFI: eventfd signal → irqfd → wake-up → ICC_IAR1 + ICC_EOIR1, edge SPI [x${N}]`, wfiBench(true)],
    [`WFI: level SPI with resamplefd, signal → IAR1 + EOIR1 → resample [x${N}]`, wfiBench(false)],
  ];
  for (const [name, b] of cases) {
    // WFI batches also count the idle gap until the next device event (PERIOD_NS apart).
    bench(name, b.run, { meta: { virtualNsPerOp: virtualNs(b.run, b.vcpu) } } as object);
  }
});
