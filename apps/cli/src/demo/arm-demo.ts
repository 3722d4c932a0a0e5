/**
 * `irqlab demo` (arm64 part): a device interrupt through an eventfd and KVM's
 * irqfd into a vCPU's GICv3, the way QEMU + VFIO wire a passthrough device's
 * interrupt (Linux virt/kvm/eventfd.c, QEMU hw/vfio/). The VMM creates an arm64 VM with one vCPU, the
 * in-kernel vgic-v3 (NR_IRQS, the distributor and redistributor bases of
 * QEMU's virt board, then KVM_DEV_ARM_VGIC_CTRL_INIT — before any irqfd, as
 * seed 003 teaches), and binds an eventfd to GSI 8 (SPI 40) with KVM_IRQFD.
 * The device signals the eventfd a few times at seeded random moments; the
 * guest's GICv3 driver waits in WFI, acknowledges each interrupt with
 * ICC_IAR1_EL1 and completes it with ICC_EOIR1_EL1. The result lists every
 * interrupt with its virtual timestamps; the same seed gives the same trace.
 */
import {
  EventFd,
  KVM_ARM_TARGET_GENERIC_V8,
  KVM_DEV_ARM_VGIC_CTRL_INIT,
  KVM_DEV_ARM_VGIC_GRP_ADDR,
  KVM_DEV_ARM_VGIC_GRP_CTRL,
  KVM_DEV_ARM_VGIC_GRP_NR_IRQS,
  KVM_DEV_TYPE_ARM_VGIC_V3,
  KVM_EXIT_INTR,
  KVM_VGIC_V3_ADDR_TYPE_DIST,
  KVM_VGIC_V3_ADDR_TYPE_REDIST,
  Kvm,
  gicv3GuestImage,
} from "@irqlab/kvm";
import { EventQueue, RngStreams, Tracer, formatNs, type Nanoseconds } from "@irqlab/sim";

/** Options of {@link runArmDemo}. */
export interface ArmDemoOptions {
  /** Seed of the device's timing. */
  readonly seed: number;
  /** Record a trace (events of KVM, the vgic, irqfd and the vCPU). */
  readonly trace: boolean;
}

/** One interrupt as the demo saw it. */
export interface ArmDemoInterrupt {
  readonly intid: number;
  /** The device signalled the eventfd. */
  readonly signalled: Nanoseconds;
  /** The guest read the INTID from ICC_IAR1_EL1. */
  readonly acknowledged: Nanoseconds;
  /** The guest wrote ICC_EOIR1_EL1. */
  readonly completed: Nanoseconds;
}

/** What {@link runArmDemo} returns. */
export interface ArmDemoResult {
  /** A printable report. */
  readonly summary: string;
  /** Every interrupt, in order. */
  readonly interrupts: readonly ArmDemoInterrupt[];
  /** The tracer (events recorded when `trace` was set; counters always). */
  readonly tracer: Tracer;
}

/** QEMU virt: VIRT_GIC_DIST and VIRT_GIC_REDIST (hw/arm/virt.c). */
const GIC_DIST = 0x0800_0000;
const GIC_REDIST = 0x080a_0000;
const SPI = 40;
const GSI = SPI - 32;
const INTERRUPTS = 5;

/** Runs the arm64 irqfd demo to completion in virtual time. */
export function runArmDemo(opts: ArmDemoOptions): ArmDemoResult {
  const queue = new EventQueue();
  const tracer = new Tracer(queue, { enabled: opts.trace });
  const kvm = new Kvm({ arch: "arm64", queue, tracer }); // registers the vgic-v3 and the ITS
  const vm = kvm.createVm(0, { name: "arm-vm" });
  const vcpu = vm.createVcpu(0);
  vcpu.armVcpuInit({ target: KVM_ARM_TARGET_GENERIC_V8 });

  const gic = vm.createDevice(KVM_DEV_TYPE_ARM_VGIC_V3);
  gic.setDeviceAttr({ group: KVM_DEV_ARM_VGIC_GRP_NR_IRQS, attr: 0, value: 128 });
  gic.setDeviceAttr({ group: KVM_DEV_ARM_VGIC_GRP_ADDR, attr: KVM_VGIC_V3_ADDR_TYPE_DIST, value: GIC_DIST });
  gic.setDeviceAttr({ group: KVM_DEV_ARM_VGIC_GRP_ADDR, attr: KVM_VGIC_V3_ADDR_TYPE_REDIST, value: GIC_REDIST });
  gic.setDeviceAttr({ group: KVM_DEV_ARM_VGIC_GRP_CTRL, attr: KVM_DEV_ARM_VGIC_CTRL_INIT });

  const trigger = new EventFd(0, 10); // a fixed descriptor number keeps traces identical across runs
  vm.irqfd({ fd: trigger, gsi: GSI });

  const signalled: Nanoseconds[] = [];
  const acknowledged: Nanoseconds[] = [];
  const completed: Nanoseconds[] = [];
  const intids: number[] = [];
  vcpu.loadGuest(
    gicv3GuestImage({
      distBase: GIC_DIST,
      spis: [{ intid: SPI, edge: true }],
      handlerNs: 2_000,
      onAcknowledge: (intid) => {
        intids.push(intid);
        acknowledged.push(queue.now);
      },
      onComplete: () => completed.push(queue.now),
    }),
  );

  // The device: fires INTERRUPTS times, 20..120 us apart (seeded).
  const rng = new RngStreams(opts.seed).stream("device");
  let t = 0;
  for (let i = 0; i < INTERRUPTS; i++) {
    t += rng.int(20_000, 120_000);
    queue.schedule(t, () => {
      signalled.push(queue.now);
      trigger.signal();
    });
  }

  const exits: string[] = [];
  for (let i = 0; i < 4; i++) {
    const e = vcpu.run();
    exits.push(e.reason === KVM_EXIT_INTR ? `KVM_EXIT_INTR (${e.cause})` : `exit ${e.reason}`);
    if (e.reason === KVM_EXIT_INTR && e.cause === "idle") break;
  }

  const interrupts: ArmDemoInterrupt[] = intids.map((intid, i) => ({
    intid,
    signalled: signalled[i] ?? Number.NaN,
    acknowledged: acknowledged[i]!,
    completed: completed[i] ?? Number.NaN,
  }));
  const lines = [
    `arm64 VM, 1 vCPU, vgic-v3 (NR_IRQS 128, GICD @ 0x${GIC_DIST.toString(16)}, GICR @ 0x${GIC_REDIST.toString(16)}), CTRL_INIT before KVM_IRQFD`,
    `eventfd ${trigger.fd} → irqfd GSI ${GSI} → SPI ${SPI}; device seed ${opts.seed}`,
    "",
    `  #  INTID  ${"signalled".padEnd(10)}  ${"ICC_IAR1_EL1 (latency)".padEnd(22)}  ICC_EOIR1_EL1`,
    ...interrupts.map(
      (x, i) =>
        `  ${i + 1}  ${String(x.intid).padEnd(5)}  ${formatNs(x.signalled).padEnd(10)}  ` +
        `${`${formatNs(x.acknowledged)} (+${formatNs(x.acknowledged - x.signalled)})`.padEnd(22)}  ${formatNs(x.completed)}`,
    ),
    "",
    `${interrupts.length} interrupts taken, ${vm.irqfds.irqfds[0]?.injections ?? 0} irqfd injections; KVM_RUN ended with ${exits.join(", ")} at ${formatNs(queue.now)}`,
  ];
  return { summary: lines.join("\n") + "\n", interrupts, tracer };
}
