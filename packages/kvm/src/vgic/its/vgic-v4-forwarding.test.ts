import { GITS_CTLR, ICC_EOIR1_EL1, ICC_IAR1_EL1, ITS_MSI_DELIVERED, ITS_MSI_DELIVERED_VIRTUAL, itsCommand as cmd } from "@irqlab/gic";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Kvm } from "../../kvm.js";
import { KVM_REQ_IRQ_PENDING } from "../../requests.js";
import { HostGicv4 } from "./host-gicv4.js";
import { enableVgicV4, vgicV4Forwarding, vgicV4SetForwarding, vgicV4UnsetForwarding, type Gicv4Behaviour } from "./vgic-v4-forwarding.js";
import { vgicItsInjectMsi } from "./vits-msi.js";
import { ITS_BASE, ITT, PROP, msi, outcome, vmWithVits } from "./vits-rig.js";

const DEV = 0x10;

/** Two vCPUs; the guest maps DeviceID 0x10 events 0, 1 to LPIs 8192, 8193 on vCPU 0; a host function with 2 vectors. */
function setup(behaviour: Gicv4Behaviour = "linux-6.16") {
  const t = vmWithVits(2);
  t.driver.enable();
  t.driver.submit(cmd.mapd(DEV, ITT + 0x10000, 3), cmd.mapc(0, 0), cmd.mapc(1, 1), cmd.mapti(DEV, 0, 8192, 0), cmd.mapti(DEV, 1, 8193, 0));
  const host = new HostGicv4({ vpes: 2 });
  const [v0, v1] = host.addDevice(3, 2) as [ReturnType<HostGicv4["addDevice"]>[number], ReturnType<HostGicv4["addDevice"]>[number]];
  const taken: number[] = [];
  host.requestIrq(v0.irq, () => taken.push(v0.irq));
  host.requestIrq(v1.irq, () => taken.push(v1.irq));
  const fwd = enableVgicV4(t.vm, { host, behaviour });
  return { ...t, host, v0, v1, fwd, taken };
}

const iar = (g: ReturnType<typeof setup>["gic"], pe = 0) => g.hyp[pe]!.readIcv(ICC_IAR1_EL1);

describe("GICv4.1 direct injection of a forwarded host interrupt (vgic-v4.c, irq-gic-v3-its.c its_vlpi_map)", () => {
  it("resident vPE: the device's MSI is taken through ICV_IAR1 without the host", () => {
    const { gic, host, v0, fwd, taken } = setup();
    fwd.vcpuLoad(0);
    vgicV4SetForwarding(fwd.vm, v0.irq, msi(DEV, 0));
    expect(host.isForwarded(v0.irq)).toBe(true);
    expect(host.fire(v0.irq)).toBe(ITS_MSI_DELIVERED_VIRTUAL);
    expect(taken).toEqual([]); // no host interrupt, no irqfd, no exit
    expect(iar(gic)).toBe(8192);
    gic.hyp[0]!.writeIcv(ICC_EOIR1_EL1, 8192);
    expect(iar(gic)).toBe(1023);
  });

  it("non-resident vPE blocked in WFI: the default doorbell kicks the vCPU; the vLPI waits in the VPT", () => {
    const { vm, gic, host, v0, fwd } = setup();
    fwd.setForwarding(v0.irq, msi(DEV, 0));
    fwd.vcpuLoad(0);
    expect(fwd.vcpuPut(0, true)).toBe(false); // PendingLast: nothing pending yet
    host.fire(v0.irq);
    expect(host.doorbells).toBe(1);
    expect(vm.vcpus[0]!.testRequest(KVM_REQ_IRQ_PENDING)).toBe(true); // vgic_v4_doorbell_handler
    expect(iar(gic)).toBe(1023); // not resident: the virtual CPU interface does not see it
    fwd.vcpuLoad(0);
    expect(iar(gic)).toBe(8192);
  });

  it("a host interrupt that is not forwarded is taken by the host (VFIO handler → irqfd)", () => {
    const { host, v1, taken } = setup();
    expect(host.fire(v1.irq)).toBe(ITS_MSI_DELIVERED);
    expect(taken).toEqual([v1.irq]);
  });

  it("set_forwarding moves the vITS pending latch into the host; unset does not move it back", () => {
    const { vm, gic, v1, fwd } = setup();
    expect(vgicItsInjectMsi(vm, msi(DEV, 1))).toBe(1);
    expect(gic.isLpiPending(0, 8193)).toBe(true);
    fwd.setForwarding(v1.irq, msi(DEV, 1));
    expect(gic.isLpiPending(0, 8193)).toBe(false);
    fwd.vcpuLoad(0);
    expect(iar(gic)).toBe(8193);
    gic.hyp[0]!.writeIcv(ICC_EOIR1_EL1, 8193);
    // KVM_SIGNAL_MSI of a forwarded LPI goes through the host ITS (irq_set_irqchip_state).
    expect(vgicItsInjectMsi(vm, msi(DEV, 1))).toBe(1);
    expect([gic.isLpiPending(0, 8193), iar(gic)]).toEqual([false, 8193]);
    vgicV4UnsetForwarding(vm, v1.irq);
    expect(fwd.isHw(8193)).toBe(false);
  });

  it("guest DISCARD frees the ITE: the host interrupt is unmapped (its_free_ite)", () => {
    const { driver, host, v0, fwd, taken } = setup();
    fwd.setForwarding(v0.irq, msi(DEV, 0));
    driver.submit(cmd.discard(DEV, 0));
    expect(host.isForwarded(v0.irq)).toBe(false);
    expect(host.fire(v0.irq)).toBe(ITS_MSI_DELIVERED);
    expect(taken).toEqual([v0.irq]);
  });

  it("guest MOVI retargets the vLPI to the other vCPU's vPE (update_affinity → VMOVI)", () => {
    const { driver, gic, host, v0, fwd } = setup();
    fwd.setForwarding(v0.irq, msi(DEV, 0));
    driver.submit(cmd.movi(DEV, 0, 1));
    fwd.vcpuLoad(1);
    host.fire(v0.irq);
    expect([iar(gic, 0), iar(gic, 1)]).toEqual([1023, 8192]);
  });

  it("guest INV with the LPI disabled disables the vLPI (its_prop_update_vlpi); CLEAR clears it on the host", () => {
    const { vm, driver, gic, host, v0, fwd } = setup();
    fwd.setForwarding(v0.irq, msi(DEV, 0));
    fwd.vcpuLoad(0);
    vm.memory.writeU8(PROP, 0xa0); // LPI 8192: enable bit clear
    driver.submit(cmd.inv(DEV, 0));
    host.fire(v0.irq);
    expect(iar(gic)).toBe(1023);
    vm.memory.writeU8(PROP, 0xa0 | 1);
    driver.submit(cmd.inv(DEV, 0));
    driver.submit(cmd.clear(DEV, 0));
    expect(iar(gic)).toBe(1023); // the pending bit went with the CLEAR
    host.fire(v0.irq);
    expect(iar(gic)).toBe(8192);
  });

  it("routes that cannot be forwarded: silently ignored by linux-6.16, EBUSY from linux-6.6 when the ITS is off", () => {
    const a = setup("linux-6.16");
    a.fwd.setForwarding(a.v0.irq, msi(DEV, 0, 1, 0x0900_0040)); // not a vITS doorbell
    a.fwd.setForwarding(a.v0.irq, msi(DEV, 7)); // unmapped EventID
    expect(a.host.isForwarded(a.v0.irq)).toBe(false);
    a.vm.kernelBus.write(ITS_BASE + GITS_CTLR, 4, 0, 0);
    a.fwd.setForwarding(a.v0.irq, msi(DEV, 0));
    expect(a.host.isForwarded(a.v0.irq)).toBe(false);
    const b = setup("linux-6.6");
    b.vm.kernelBus.write(ITS_BASE + GITS_CTLR, 4, 0, 0);
    expect(outcome(() => b.fwd.setForwarding(b.v0.irq, msi(DEV, 0)))).toBe("EBUSY");
  });

  it("configuration errors are typed", () => {
    const { vm, host, fwd } = setup();
    expect(vgicV4Forwarding(vm)).toBe(fwd);
    expect(() => enableVgicV4(vm, { host })).toThrow(/already enabled/);
    const bare = new Kvm({ arch: "arm64" }).createVm();
    expect(() => enableVgicV4(bare, { host })).toThrow(/needs the vgic-v3 Gicv3/);
    const other = vmWithVits(2).vm;
    expect(outcome(() => enableVgicV4(other, { host, behaviour: "linux-5.4" as Gicv4Behaviour }))).toBe("EINVAL");
    expect(() => new HostGicv4({ vpes: 0 })).toThrow(/vpes 0/);
    expect(() => host.vector(9999)).toThrow(/host irq 9999/);
  });
});

describe("properties (fast-check)", () => {
  const opArb = fc.oneof(
    fc.record({ kind: fc.constant("set" as const), vec: fc.integer({ min: 0, max: 3 }), data: fc.integer({ min: 0, max: 1 }) }),
    fc.record({ kind: fc.constant("unset" as const), vec: fc.integer({ min: 0, max: 3 }) }),
  );

  it("linux-6.16 keeps the 1:1 rule: at most one host irq per vLPI, and KVM's owner is the one the host ITS maps", () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 30 }), (ops) => {
        const t = setupN("linux-6.16");
        apply(t, ops);
        for (const vintid of [8192, 8193]) {
          const owners = t.host.forwarding.hostIrqsOf(0, vintid);
          expect(owners.length).toBeLessThanOrEqual(1);
          const kvmView = t.fwd.hostIrqsOf(vintid).map((h) => t.host.hostIrq(h));
          expect(kvmView.map((v) => `${v.deviceId}:${v.eventId}`)).toEqual(owners.map((o) => `${o.deviceId}:${o.eventId}`));
        }
        expect(t.fwd.stats.violations).toBe(0);
      }),
      { numRuns: 60 },
    );
  });

  it("linux-6.16 and rfc-shared-vlpi: unsetting every host irq leaves none forwarded; linux-6.6 may leave some", () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 30 }), (ops) => {
        const left: Record<string, number> = {};
        for (const b of ["linux-6.16", "rfc-shared-vlpi", "linux-6.6"] as const) {
          const t = setupN(b);
          const connected = apply(t, ops);
          for (const v of t.vectors) if (connected.has(v.irq)) t.fwd.unsetForwarding(v.irq);
          left[b] = t.vectors.filter((v) => t.host.isForwarded(v.irq)).length;
        }
        expect([left["linux-6.16"], left["rfc-shared-vlpi"]]).toEqual([0, 0]);
      }),
      { numRuns: 60 },
    );
  });
});

type Op = { kind: "set"; vec: number; data: number } | { kind: "unset"; vec: number };

/**
 * Applies the ops as irqbypass would call them: add_producer only for an unconnected
 * producer, del_producer only for a connected one (one consumer per eventfd token).
 * Returns the host irqs left connected.
 */
function apply(t: ReturnType<typeof setupN>, ops: readonly Op[]): Set<number> {
  const connected = new Set<number>();
  for (const op of ops) {
    const irq = t.vectors[op.vec]!.irq;
    if (op.kind === "set" && !connected.has(irq)) {
      t.fwd.setForwarding(irq, msi(DEV, op.data));
      connected.add(irq);
    } else if (op.kind === "unset" && connected.has(irq)) {
      t.fwd.unsetForwarding(irq);
      connected.delete(irq);
    }
  }
  return connected;
}

/** As setup(), with four host vectors. */
function setupN(behaviour: Gicv4Behaviour) {
  const t = vmWithVits(1);
  t.driver.enable();
  t.driver.submit(cmd.mapd(DEV, ITT + 0x10000, 3), cmd.mapc(0, 0), cmd.mapti(DEV, 0, 8192, 0), cmd.mapti(DEV, 1, 8193, 0));
  const host = new HostGicv4({ vpes: 1 });
  const vectors = host.addDevice(3, 4);
  const fwd = enableVgicV4(t.vm, { host, behaviour });
  return { ...t, host, vectors, fwd };
}
