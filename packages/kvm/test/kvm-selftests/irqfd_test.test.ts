/**
 * Linux's KVM selftest tools/testing/selftests/kvm/irqfd_test.c, rewritten
 * against irqlab's API: one `test` per upstream function, named after it.
 *
 * What it checks is KVM's rule that one eventfd is bound as an irqfd in at
 * most one VM, at one GSI, at a time (virt/kvm/eventfd.c kvm_irqfd_register:
 * the irqfd is the eventfd's exclusive priority waiter, so a second assign is
 * EBUSY), while a de-assign succeeds for any valid eventfd whether or not it
 * matches an irqfd (kvm_irqfd_deassign), and a closed eventfd is EBADF.
 *
 * Upstream requires kvm_arch_has_default_irqchip(): true on arm64 (a vgic-v3
 * with 64 IRQs, created by vm_create_with_one_vcpu and initialised by
 * kvm_arch_vm_finalize_vcpus), false on riscv (the lib/kvm_util.c weak
 * default), so the riscv64 run is skipped as upstream skips it.
 *
 * Upstream's secondary_irqfd_juggler is a second thread racing the primary.
 * irqlab's ioctls are synchronous, so the race is replaced by a fixed
 * schedule that runs the secondary's juggle at each point where the thread
 * could interleave: before either primary juggle, between them, and after
 * the eventfd is closed (when the secondary sees EBADF).
 */
import { describe, expect, test } from "vitest";
import {
  EventFd,
  FdTable,
  KVM_DEV_ARM_VGIC_CTRL_INIT,
  KVM_DEV_ARM_VGIC_GRP_ADDR,
  KVM_DEV_ARM_VGIC_GRP_CTRL,
  KVM_DEV_ARM_VGIC_GRP_NR_IRQS,
  KVM_DEV_TYPE_ARM_VGIC_V3,
  KVM_IRQFD_FLAG_DEASSIGN,
  KVM_VGIC_V3_ADDR_TYPE_DIST,
  KVM_VGIC_V3_ADDR_TYPE_REDIST,
  Kvm,
  KvmError,
  type Vm,
} from "../../src/index.js";

/** Per-task GSI bases, so that the secondary never de-assigns the primary's irqfd. */
const GSI_BASE_PRIMARY = 0x20;
const GSI_BASE_SECONDARY = 0x30;

/**
 * Upstream loops 10000 times to give the racing thread chances; with a fixed
 * schedule every interleaving point is covered within four iterations, so a
 * shorter loop checks the same cases.
 */
const ITERATIONS = 400;

/** lib/arm64/gic_v3.c / vgic.c defaults used by __vgic_v3_setup. */
const GICD_BASE_GPA = 0x0800_0000;
const GICR_BASE_GPA = 0x080a_0000;

/** __kvm_irqfd: undefined on success, else the errno name. */
function tryIrqfd(vm: Vm, gsi: number, fd: EventFd, flags: number): string | undefined {
  try {
    vm.irqfd({ fd, gsi, flags });
    return undefined;
  } catch (e) {
    if (e instanceof KvmError) return e.code;
    throw e;
  }
}

/** kvm_irqfd: must succeed. */
function kvmIrqfd(vm: Vm, gsi: number, fd: EventFd, flags: number): void {
  expect(tryIrqfd(vm, gsi, fd, flags), `KVM_IRQFD gsi ${gsi} flags ${flags}`).toBeUndefined();
}

/**
 * vm_create_with_one_vcpu on arm64 with the default irqchip: one vCPU,
 * __vgic_v3_setup(vm, 1, 64), then kvm_arch_vm_finalize_vcpus → __vgic_v3_init.
 */
function vmCreateWithOneVcpu(kvm: Kvm): Vm {
  const vm = kvm.createVm();
  const vcpu = vm.createVcpu(0);
  vcpu.armVcpuInit({ target: vm.armPreferredTarget().target });
  const gic = vm.createDevice(KVM_DEV_TYPE_ARM_VGIC_V3);
  gic.setDeviceAttr({ group: KVM_DEV_ARM_VGIC_GRP_NR_IRQS, attr: 0, value: 64 });
  gic.setDeviceAttr({ group: KVM_DEV_ARM_VGIC_GRP_ADDR, attr: KVM_VGIC_V3_ADDR_TYPE_DIST, value: GICD_BASE_GPA });
  gic.setDeviceAttr({ group: KVM_DEV_ARM_VGIC_GRP_ADDR, attr: KVM_VGIC_V3_ADDR_TYPE_REDIST, value: GICR_BASE_GPA });
  gic.setDeviceAttr({ group: KVM_DEV_ARM_VGIC_GRP_CTRL, attr: KVM_DEV_ARM_VGIC_CTRL_INIT });
  return vm;
}

/** juggle_eventfd_secondary: assign may succeed, be EBUSY or EBADF; de-assign succeeds unless the fd was closed. */
function juggleEventfdSecondary(vm: Vm, eventfd: EventFd): void {
  for (let i = 0; i < 2; i++) {
    const r = tryIrqfd(vm, GSI_BASE_SECONDARY, eventfd, 0);
    expect([undefined, "EBUSY", "EBADF"]).toContain(r);
    const d = tryIrqfd(vm, GSI_BASE_SECONDARY + i, eventfd, KVM_IRQFD_FLAG_DEASSIGN);
    expect([undefined, "EBADF"]).toContain(d);
  }
}

/** juggle_eventfd_primary: at most one of two assigns succeeds; both de-assigns always succeed. */
function juggleEventfdPrimary(vm: Vm, eventfd: EventFd): void {
  const r1 = tryIrqfd(vm, GSI_BASE_PRIMARY, eventfd, 0);
  expect([undefined, "EBUSY"]).toContain(r1);
  const r2 = tryIrqfd(vm, GSI_BASE_PRIMARY + 1, eventfd, 0);
  if (r1 === undefined) expect(r2).toBe("EBUSY");
  else expect([undefined, "EBUSY"]).toContain(r2);
  kvmIrqfd(vm, GSI_BASE_PRIMARY, eventfd, KVM_IRQFD_FLAG_DEASSIGN);
  kvmIrqfd(vm, GSI_BASE_PRIMARY + 1, eventfd, KVM_IRQFD_FLAG_DEASSIGN);
}

/** How many irqfds of these VMs the eventfd is bound to: never more than one. */
function bindings(vms: readonly Vm[], fd: EventFd): number {
  return vms.reduce((n, vm) => n + vm.irqfds.irqfds.filter((f) => f.fd === fd).length, 0);
}

describe("irqfd_test (tools/testing/selftests/kvm/irqfd_test.c)", () => {
  test("main: an eventfd bound in vm1 is EBUSY at another GSI and in vm2; de-assign of unassigned pairs succeeds", () => {
    const kvm = new Kvm({ arch: "arm64" });
    const vm1 = vmCreateWithOneVcpu(kvm);
    const vm2 = vmCreateWithOneVcpu(kvm);
    const fds = new FdTable();
    const eventfd = fds.eventfd();

    kvmIrqfd(vm1, 10, eventfd, 0);
    expect(tryIrqfd(vm1, 11, eventfd, 0)).toBe("EBUSY");
    expect(tryIrqfd(vm2, 12, eventfd, 0)).toBe("EBUSY");

    // KVM's ABI: de-assign is allowed as long as the eventfd itself is valid.
    for (const gsi of [11, 12, 13, 14, 10]) kvmIrqfd(vm1, gsi, eventfd, KVM_IRQFD_FLAG_DEASSIGN);
    expect(bindings([vm1, vm2], eventfd)).toBe(0);
    // Once free, the eventfd can be bound in the other VM.
    kvmIrqfd(vm2, 12, eventfd, 0);
    kvmIrqfd(vm2, 12, eventfd, KVM_IRQFD_FLAG_DEASSIGN);
    eventfd.close();
    expect(tryIrqfd(vm1, 10, eventfd, KVM_IRQFD_FLAG_DEASSIGN)).toBe("EBADF");

    // The juggling loop of main() with the secondary's juggles at each interleaving point.
    const vms = [vm1, vm2];
    let current = eventfd;
    const secondary = (): void => {
      juggleEventfdSecondary(vm1, current);
      juggleEventfdSecondary(vm2, current);
      expect(bindings(vms, current)).toBeLessThanOrEqual(1);
    };
    for (let i = 0; i < ITERATIONS; i++) {
      current = fds.eventfd();
      const at = i % 4;
      if (at === 0) secondary();
      juggleEventfdPrimary(vm1, current);
      expect(bindings(vms, current)).toBeLessThanOrEqual(1);
      if (at === 1) secondary();
      juggleEventfdPrimary(vm2, current);
      expect(bindings(vms, current)).toBeLessThanOrEqual(1);
      if (at === 2) secondary();
      current.close();
      expect(bindings(vms, current)).toBe(0); // EPOLLHUP detaches whatever the secondary left bound
      if (at === 3) secondary();
    }
    expect(vm1.irqfds.irqfds).toHaveLength(0);
    expect(vm2.irqfds.irqfds).toHaveLength(0);
  });

  test("juggle_eventfd_primary: with the eventfd free, the first assign succeeds and the second is EBUSY", () => {
    const kvm = new Kvm({ arch: "arm64" });
    const vm = vmCreateWithOneVcpu(kvm);
    const fd = new EventFd();
    expect(tryIrqfd(vm, GSI_BASE_PRIMARY, fd, 0)).toBeUndefined();
    expect(tryIrqfd(vm, GSI_BASE_PRIMARY + 1, fd, 0)).toBe("EBUSY");
    kvmIrqfd(vm, GSI_BASE_PRIMARY, fd, KVM_IRQFD_FLAG_DEASSIGN);
    kvmIrqfd(vm, GSI_BASE_PRIMARY + 1, fd, KVM_IRQFD_FLAG_DEASSIGN);
    // With the eventfd held by another VM both assigns fail, and the de-assigns still succeed.
    const other = vmCreateWithOneVcpu(kvm);
    kvmIrqfd(other, GSI_BASE_SECONDARY, fd, 0);
    expect(tryIrqfd(vm, GSI_BASE_PRIMARY, fd, 0)).toBe("EBUSY");
    expect(tryIrqfd(vm, GSI_BASE_PRIMARY + 1, fd, 0)).toBe("EBUSY");
    juggleEventfdPrimary(vm, fd);
    expect(bindings([vm, other], fd)).toBe(1);
  });

  test("juggle_eventfd_secondary / secondary_irqfd_juggler: EBADF on a closed eventfd; a de-assign at another GSI leaves the irqfd bound", () => {
    const kvm = new Kvm({ arch: "arm64" });
    const vm = vmCreateWithOneVcpu(kvm);
    const fd = new EventFd();
    juggleEventfdSecondary(vm, fd);
    // i = 1 assigned at GSI_BASE_SECONDARY and de-assigned GSI_BASE_SECONDARY + 1: still bound.
    expect(vm.irqfds.irqfds.map((f) => f.gsi)).toEqual([GSI_BASE_SECONDARY]);
    expect(tryIrqfd(vm, GSI_BASE_PRIMARY, fd, 0)).toBe("EBUSY");
    fd.close(); // EPOLLHUP: irqfd_wakeup deactivates it
    expect(vm.irqfds.irqfds).toHaveLength(0);
    expect(tryIrqfd(vm, GSI_BASE_SECONDARY, fd, 0)).toBe("EBADF");
    expect(tryIrqfd(vm, GSI_BASE_SECONDARY, fd, KVM_IRQFD_FLAG_DEASSIGN)).toBe("EBADF");
    juggleEventfdSecondary(vm, fd);
  });

  test.skip("main on riscv64: kvm_arch_has_default_irqchip() is false there (lib/kvm_util.c weak default), TEST_REQUIRE skips", () => undefined);
});
