/**
 * What the guest sees for each injection method × trigger × EOImode, and the
 * interrupt state afterwards: KVM_IRQ_LINE (arm.c kvm_vm_ioctl_irq_line),
 * irqfd on the default routing and on a KVM_SET_GSI_ROUTING route
 * (eventfd.c irqfd_inject, vgic-irqfd.c vgic_irqfd_set_irq), edge SPIs by a
 * pulse and level SPIs held until serviced (KVM_IRQ_LINE: the device lowers
 * its line when the handler services it; irqfd: resamplefd after the EOI).
 * The guest is a GICv3 driver: GICD_CTLR, ICFGR, IPRIORITYR, ISENABLER,
 * ICC_PMR/CTLR/IGRPEN1, WFI, vector with IAR1, EOIR1 (+ DIR with EOImode 1).
 */
import { GICD_CTLR, GICD_CTLR_ENABLE_SS_G1, GICD_ICFGR, GICD_IROUTER, GICD_ISENABLER, ICC_IGRPEN1_EL1, ICC_PMR_EL1 } from "@irqlab/gic";
import { op } from "@irqlab/sim";
import { describe, expect, test } from "vitest";
import { EventFd } from "../irqfd/eventfd.js";
import { KVM_IRQ_ROUTING_IRQCHIP } from "../irqfd/gsi-routing.js";
import { KVM_IRQFD_FLAG_RESAMPLE } from "../irqfd/vm-irqfds.js";
import { KVM_REQ_IRQ_PENDING } from "../requests.js";
import { KVM_EXIT_INTR, KVM_EXIT_MMIO } from "../uapi/exit-reasons.js";
import { armVm, ids, loadDriver } from "./test-fixture.js";

const DEVICE_ACK = 0x0900_0000; // a device register the handler writes: exits to the VMM
const SPI = 40; // GSI / pin 8 on the default routing
const INJECT_AT = 50_000;

type Method = "KVM_IRQ_LINE" | "irqfd" | "irqfd+routing";

interface Outcome {
  acked: number[];
  done: number[];
  pending: boolean;
  active: boolean;
  line: boolean;
  resamples: number;
  exits: string[];
}

function scenario(method: Method, edge: boolean, split: boolean): Outcome {
  const { kvm, vm, vcpus, vgic } = armVm();
  const vcpu = vcpus[0]!;
  const log = loadDriver(vcpu, { spis: [{ intid: SPI, edge }], eoiModeSplit: split, ...(edge ? {} : { deviceAckAddr: DEVICE_ACK }) });
  const fd = new EventFd();
  const resamplefd = new EventFd();
  let gsi = SPI - 32;
  if (method === "irqfd+routing") {
    gsi = 100; // GSI 100 → pin 8 → SPI 40
    vm.setGsiRouting([{ gsi, type: KVM_IRQ_ROUTING_IRQCHIP, irqchip: 0, pin: SPI - 32 }]);
  }
  if (method !== "KVM_IRQ_LINE") vm.irqfd({ fd, gsi, ...(edge ? {} : { flags: KVM_IRQFD_FLAG_RESAMPLE, resamplefd }) });
  const line = (level: number): void => vm.irqLine((1 << 24) | SPI, level);
  kvm.queue.schedule(INJECT_AT, () => {
    if (method !== "KVM_IRQ_LINE") fd.signal();
    else if (edge) {
      line(1);
      line(0);
    } else line(1);
  });
  const exits: string[] = [];
  for (let i = 0; i < 10; i++) {
    const e = vcpu.run();
    if (e.reason === KVM_EXIT_MMIO && e.physAddr === DEVICE_ACK) {
      exits.push(`device-ack ${e.value}`);
      // The device is serviced: a level device behind KVM_IRQ_LINE lowers its line (an irqfd one waits for resample).
      if (method === "KVM_IRQ_LINE") line(0);
      continue;
    }
    expect(e.reason).toBe(KVM_EXIT_INTR);
    break;
  }
  const st = vgic.gic!.irqs.status(0, SPI);
  return { acked: ids(log.acked), done: ids(log.done), pending: st.pending, active: st.active, line: st.level, resamples: resamplefd.count, exits };
}

describe.each<Method>(["KVM_IRQ_LINE", "irqfd", "irqfd+routing"])("%s", (method) => {
  describe.each([
    ["edge", true],
    ["level", false],
  ])("%s SPI", (_t, edge) => {
    test.each([
      ["EOImode 0", false],
      ["EOImode 1 (EOIR + DIR)", true],
    ])("%s: taken once, completed, inactive and not pending afterwards", (_m, split) => {
      const o = scenario(method, edge, split);
      expect(o.acked).toEqual([SPI]);
      expect(o.done).toEqual([SPI]);
      expect(o.pending).toBe(false);
      expect(o.active).toBe(false);
      // An irqfd on an irqchip route raises the line and leaves it up (arm64
      // kvm_arch_set_irq_inatomic passes level 1 only, vgic-irqfd.c); for an edge
      // SPI that latches pending once, for a level SPI the resampler lowers it at EOI.
      expect(o.line).toBe(edge && method !== "KVM_IRQ_LINE");
      // Resample fires exactly once per level EOI, never for an edge SPI (virt/kvm/eventfd.c irqfd_resampler_ack;
      // an edge SPI's LR has no EOI bit, vgic-v3.c vgic_v3_fold_lr_state).
      expect(o.resamples).toBe(!edge && method !== "KVM_IRQ_LINE" ? 1 : 0);
      expect(o.exits).toEqual(edge ? [] : [`device-ack ${SPI}`]);
    });
  });
});

test("the interrupt is taken after the injection time, with the configured costs in between", () => {
  const { kvm, vm, vcpus } = armVm();
  const log = loadDriver(vcpus[0]!, { spis: [{ intid: SPI, edge: true }] });
  const fd = new EventFd();
  vm.irqfd({ fd, gsi: SPI - 32 });
  kvm.queue.schedule(INJECT_AT, () => fd.signal());
  vcpus[0]!.run();
  const [ackAt] = log.acked.map((s) => Number(s.split("@")[1]));
  const c = vm.costs;
  // wake-up from WFI, then the exception entry, then the ICC_IAR1_EL1 read (no trap)
  expect(ackAt).toBe(INJECT_AT + c.wakeup + c.interruptInjection + c.sysregNoTrap);
});

describe("targets: SPIs follow GICD_IROUTER, PPIs the vCPU id of KVM_IRQ_LINE", () => {
  test("an SPI routed to vCPU 1 makes vCPU 1 pending and runnable, not vCPU 0", () => {
    const { vm, vcpus, vgic } = armVm({ vcpus: 2 });
    const gic = vgic.gic!;
    gic.distributor.write(GICD_CTLR, 4, GICD_CTLR_ENABLE_SS_G1, 0);
    gic.distributor.write(GICD_IROUTER + SPI * 8, 4, vcpus[1]!.mpidr & 0xffffff, 0); // GICD_IROUTER<40> → vCPU 1
    gic.distributor.write(GICD_ISENABLER + 4, 4, 1 << (SPI - 32), 0);
    gic.writeSysReg(1, ICC_PMR_EL1, 0xff);
    gic.writeSysReg(1, ICC_IGRPEN1_EL1, 1);
    const fd = new EventFd();
    vm.irqfd({ fd, gsi: SPI - 32 });
    fd.signal();
    expect(vcpus[1]!.irqChip.hasPendingIrq()).toBe(true);
    expect(vcpus[0]!.irqChip.hasPendingIrq()).toBe(false);
  });

  test("KVM_IRQ_LINE PPI 23 to vCPU id 1 reaches only that vCPU's redistributor", () => {
    const { vm, vgic } = armVm({ vcpus: 2 });
    vm.irqLine((2 << 24) | (1 << 16) | 23, 1);
    expect(vgic.gic!.irqs.status(1, 23).pending).toBe(true);
    expect(vgic.gic!.irqs.status(0, 23).pending).toBe(false);
  });
});

describe("an injection into an active interrupt (vgic.c kvm_vgic_inject_irq → vgic_queue_irq_unlock)", () => {
  /** SPI 40 edge or level, enabled, group 1, routed to vCPU 0, made active as if the guest had acknowledged it. */
  function activeSpi(edge: boolean) {
    const rig = armVm();
    const gic = rig.vgic.gic!;
    gic.distributor.write(GICD_CTLR, 4, GICD_CTLR_ENABLE_SS_G1, 0);
    gic.distributor.write(GICD_ICFGR + 8, 4, edge ? 2 << ((SPI % 16) * 2) : 0, 0);
    gic.distributor.write(GICD_ISENABLER + 4, 4, 1 << (SPI - 32), 0);
    gic.irqs.setActive(0, SPI, true);
    expect(rig.vcpus[0]!.testRequest(KVM_REQ_IRQ_PENDING)).toBe(false);
    return rig;
  }

  test("an edge SPI re-asserted while active makes KVM_REQ_IRQ_PENDING on its vCPU (irqfd and KVM_IRQ_LINE)", () => {
    const { vm, vcpus, vgic } = activeSpi(true);
    const fd = new EventFd();
    vm.irqfd({ fd, gsi: SPI - 32 });
    fd.signal();
    expect(vgic.gic!.irqs.status(0, SPI)).toMatchObject({ pending: true, active: true });
    expect(vcpus[0]!.testRequest(KVM_REQ_IRQ_PENDING)).toBe(true);
    const other = activeSpi(true);
    other.vm.irqLine((1 << 24) | SPI, 1);
    expect(other.vcpus[0]!.testRequest(KVM_REQ_IRQ_PENDING)).toBe(true);
  });

  test("a level SPI whose line rises while active kicks; a line already high is no valid injection and does not", () => {
    const { vm, vcpus } = activeSpi(false);
    vm.irqLine((1 << 24) | SPI, 1);
    expect(vcpus[0]!.testRequest(KVM_REQ_IRQ_PENDING)).toBe(true);
    const held = activeSpi(false);
    held.vgic.gic!.setSpiLevel(SPI, true); // the line was already up before the interrupt became active
    held.vm.irqLine((1 << 24) | SPI, 1); // vgic_validate_injection: line_level == level
    expect(held.vcpus[0]!.testRequest(KVM_REQ_IRQ_PENDING)).toBe(false);
  });

  test("a vCPU blocked in WFI is kicked out of it: woken, then put back by kvm_arch_vcpu_runnable (the interrupt is active)", () => {
    const { kvm, vm, vcpus } = activeSpi(true);
    const vcpu = vcpus[0]!;
    vcpu.loadGuest({ main: function* () { yield op.unmask(); for (;;) yield op.wfi(); } });
    kvm.queue.schedule(10_000, () => vm.irqLine((1 << 24) | SPI, 1));
    const before = kvm.tracer.counters.get("kvm.wake_ignored");
    vcpu.run();
    expect(kvm.tracer.counters.get("kvm.wake_ignored") - before).toBe(1);
  });
});
