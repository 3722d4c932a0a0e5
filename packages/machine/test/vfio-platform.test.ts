/**
 * `-device vfio-platform` on a virt machine under KVM (seed 003): a host
 * device whose line is already high when QEMU opens it, with the vgic
 * initialised at board init (KVM_DEV_ARM_VGIC_CTRL_INIT, QEMU today) or by
 * KVM at the first KVM_RUN (x-vgic-init=first-run: the host's vgic in
 * "lazy-init" mode, the 2014 kernel of the thread); irqfd and QEMU's
 * userspace path; edge and level; a refused KVM_IRQFD; reset; riscv64;
 * bad properties.
 *
 * The machines start paused (-S) and the host runs a while before `cont`:
 * in QEMU the first KVM_RUN comes long after machine-init-done opened the
 * device ("as soon as VFIO driver calls request_irq, the IRQ hits"), while
 * Machine.create would otherwise enter KVM_RUN at the same instant. The
 * guest then boots for 100 us before its driver enables the SPI.
 */
import {
  GICD_CTLR,
  GICD_CTLR_ENABLE_SS_G1,
  GICD_ICFGR,
  GICD_IPRIORITYR,
  GICD_ISENABLER,
  ICC_EOIR1_EL1,
  ICC_IAR1_EL1,
  ICC_IGRPEN1_EL1,
  ICC_PMR_EL1,
  INTID_SPURIOUS,
} from "@irqlab/gic";
import { CSR_SIE, CSR_SIREG, CSR_SISELECT, CSR_STOPEI, IRQ_S_EXT, VgicV3, type GuestImage } from "@irqlab/kvm";
import { ConfigError, op, type GuestOp, type GuestProgram, type GuestResult } from "@irqlab/sim";
import { describe, expect, test } from "vitest";
import { RISCV_VIRT_APLIC_S } from "../src/board/riscv-virt-memmap.js";
import { IRQLAB_PDEV_ACK, IRQLAB_PDEV_STATUS, IRQLAB_PDEV_STATUS_LINE } from "../src/devices/vfio-platform-host.js";
import { MachineHost } from "../src/host/machine-host.js";
import { Machine } from "../src/machine.js";
import { parseSystemCommandLine } from "../src/cmdline/system-command-line.js";
import { plugVfioPlatform, plugVfioPlatformDevice, type VfioPlatformPlug } from "../src/wiring/vfio-platform-kvm.js";
import { parseVfioPlatformProps, VFIO_PLATFORM_DEVICE_INFO } from "../src/wiring/vfio-platform-props.js";
import { armConfig, riscvConfig } from "./machine-config-fixture.js";

const DIST = 0x0800_0000;
const PROBE_NS = 100_000;

/** One interrupt the guest took: INTID (or IMSIC identity), virtual time, the device's STATUS as read. */
interface Taken {
  readonly irq: number;
  readonly at: number;
  readonly status: number;
}

interface GuestLog {
  readonly taken: Taken[];
  spurious: number;
  /** When the driver had enabled the interrupt (-1 before). */
  enabledAt: number;
}

/** Where the device landed (set at machine-init-done, read by the guest as it runs) and the clock. */
interface Target {
  base: number;
  irq: number;
  now: () => number;
}

/** The guest's handler: acknowledge the device (ACK write first, or STATUS read first as many drivers do). */
function* serviceDevice(t: Target, statusFirst: boolean): Generator<GuestOp, number, GuestResult> {
  if (statusFirst) {
    const status = (yield op.read(t.base + IRQLAB_PDEV_STATUS, 4)).value;
    yield op.write(t.base + IRQLAB_PDEV_ACK, 4, 1);
    return status;
  }
  yield op.write(t.base + IRQLAB_PDEV_ACK, 4, 1);
  return (yield op.read(t.base + IRQLAB_PDEV_STATUS, 4)).value;
}

/**
 * An arm64 guest: the distributor on (gic_dist_init), `PROBE_NS` of boot,
 * then the driver's probe: the SPI's trigger (GICD_ICFGR), priority, enable,
 * PMR, group 1, unmask. Its handler services the device and EOIs.
 */
function armGuest(t: Target, log: GuestLog, o: { edge: boolean; statusFirst: boolean }): GuestImage {
  return {
    main: function* (): GuestProgram {
      yield op.write(DIST + GICD_CTLR, 4, GICD_CTLR_ENABLE_SS_G1);
      yield op.compute(PROBE_NS);
      const cfg = DIST + GICD_ICFGR + (t.irq >>> 4) * 4;
      const bit = 1 << (2 * (t.irq & 15) + 1);
      const old = (yield op.read(cfg, 4)).value;
      yield op.write(cfg, 4, (o.edge ? old | bit : old & ~bit) >>> 0);
      yield op.write(DIST + GICD_IPRIORITYR + t.irq, 1, 0xa0);
      yield op.write(DIST + GICD_ISENABLER + (t.irq >>> 5) * 4, 4, (1 << (t.irq & 31)) >>> 0);
      yield op.msr(ICC_PMR_EL1, 0xff);
      yield op.msr(ICC_IGRPEN1_EL1, 1);
      log.enabledAt = t.now();
      yield op.unmask();
      for (;;) yield op.wfi();
    },
    vector: function* (): GuestProgram {
      const intid = (yield op.mrs(ICC_IAR1_EL1)).value & 0xffffff;
      if (intid === INTID_SPURIOUS) {
        log.spurious++;
        return;
      }
      const at = t.now();
      const status = yield* serviceDevice(t, o.statusFirst);
      log.taken.push({ irq: intid, at, status });
      yield op.msr(ICC_EOIR1_EL1, intid);
    },
  };
}

interface Rig {
  readonly m: Machine;
  readonly dev: VfioPlatformPlug;
  readonly log: GuestLog;
}

interface BootOptions {
  readonly props: Record<string, string>;
  readonly vgicInit?: "board-init" | "first-run";
  readonly host?: MachineHost;
  readonly edge?: boolean;
  readonly statusFirst?: boolean;
}

/** An arm64 machine, paused (-S), with the device plugged at machine-init-done. */
function bootArm(o: BootOptions): Rig {
  const t: Target = { base: 0, irq: 0, now: () => 0 };
  const log: GuestLog = { taken: [], spurious: 0, enabledAt: -1 };
  let dev: VfioPlatformPlug | undefined;
  const m = Machine.create({
    config: armConfig({ vgicInit: o.vgicInit ?? "board-init", startPaused: true }),
    ...(o.host === undefined ? {} : { host: o.host }),
    kernel: armGuest(t, log, { edge: o.edge ?? false, statusFirst: o.statusFirst ?? false }),
    machineInitDone: [
      (mm) => {
        dev = plugVfioPlatform(mm.deviceContext(), o.props);
        t.base = dev.base;
        t.irq = dev.guestIrq;
        t.now = () => mm.queue.now;
      },
    ],
  });
  return { m, dev: dev!, log };
}

/** Host time passes while the VM is paused: the main loop, VFIO and KVM's irqfds work, no vCPU runs. */
function hostRun(m: Machine, ns: number): void {
  m.host.run(m.queue.now + ns);
}

/** The vgic's view of an SPI. */
function spi(m: Machine, intid: number): { pending: boolean; enabled: boolean } {
  const s = VgicV3.of(m.vm)!.gic!.irqs.status(0, intid);
  return { pending: s.pending, enabled: s.enabled };
}

const irqs = (log: GuestLog): number[] => log.taken.map((x) => x.irq);

describe("arm64, vgic initialised at board init (KVM_DEV_ARM_VGIC_CTRL_INIT, QEMU since 2015)", () => {
  test("level line already high: KVM_IRQFD with resamplefd at machine-init-done, the SPI latches pending, the guest takes it once after enabling it", () => {
    const { m, dev, log } = bootArm({ props: { host: "fff51000.ethernet", "x-irqlab-line": "high" } });
    expect([dev.base, dev.gsi, dev.guestIrq]).toEqual([0x0c00_0000, 112, 144]); // platform bus window: SPI 112, INTID 144
    const setup = m.calls.calls.filter((c) => c.ioctl === "KVM_IRQFD" || c.ioctl === "VFIO_DEVICE_SET_IRQS");
    expect(setup.map((c) => `${c.phase} ${c.ioctl} ${c.arg}`)).toEqual([
      "PHASE_MACHINE_READY KVM_IRQFD fd=100 gsi=112 flags=RESAMPLE resamplefd=101",
      "PHASE_MACHINE_READY VFIO_DEVICE_SET_IRQS index=0 TRIGGER eventfd=100",
      "PHASE_MACHINE_READY VFIO_DEVICE_SET_IRQS index=0 UNMASK eventfd=101",
    ]);
    hostRun(m, 50_000);
    // request_irq enabled the host IRQ, the line was high: VFIO automasked it and signalled once; KVM injected.
    let s = dev.status();
    expect([s.injection, s.irqfdActive, s.host.signalled, s.host.masked, s.irqfdInjections]).toEqual(["irqfd", true, 1, true, 1]);
    expect(spi(m, 144)).toEqual({ pending: true, enabled: false });
    m.cont();
    m.run(1_000_000);
    expect(irqs(log)).toEqual([144]);
    expect(log.taken[0]!.at).toBeGreaterThan(log.enabledAt);
    expect(log.enabledAt).toBeGreaterThan(PROBE_NS);
    // EOI → KVM's resampler → resamplefd → VFIO unmask; the guest had lowered the line: nothing more.
    s = dev.status();
    expect([s.host.unmasks, s.host.masked, s.host.line, s.host.acks, s.host.signalled, s.irqfdInjections]).toEqual([1, false, false, 1, 1, 1]);
    expect([s.userspaceInterrupts, s.irqLineCalls, log.spurious]).toEqual([0, 0, 0]);
    expect(spi(m, 144).pending).toBe(false);
  });

  test("level: each later assertion is taken once; the device re-fires after EOI only while the guest has not lowered the line", () => {
    const { m, dev, log } = bootArm({ props: { host: "xgmac" } });
    m.cont();
    m.run(200_000); // booted and probed, nothing raised
    for (let i = 0; i < 3; i++) {
      dev.hostPulse(); // level: the line stays high until the guest's ACK
      m.run(50_000);
    }
    expect(irqs(log)).toEqual([144, 144, 144]);
    expect(log.taken.every((x) => x.status === 0)).toBe(true); // ACK first: the line was low when STATUS was read
    const s = dev.status();
    expect([s.host.raised, s.host.signalled, s.irqfdInjections, s.host.unmasks, s.host.acks]).toEqual([3, 3, 3, 3, 3]);
  });

  test("edge: no resamplefd; an early edge latches pending and is taken once, later pulses once each", () => {
    const { m, dev, log } = bootArm({ props: { host: "gpio-keys", "x-irqlab-trigger": "edge", "x-irqlab-line": "high" }, edge: true });
    expect(m.calls.lines().filter((l) => l.startsWith("KVM_IRQFD") || l.startsWith("VFIO_"))).toEqual([
      "KVM_IRQFD fd=100 gsi=112",
      "VFIO_DEVICE_SET_IRQS index=0 TRIGGER eventfd=100",
    ]);
    expect(dev.device.unmask).toBeUndefined(); // not automasked: no unmask eventfd
    hostRun(m, 50_000);
    expect(spi(m, 144)).toEqual({ pending: true, enabled: false });
    m.cont();
    m.run(300_000);
    for (let i = 0; i < 3; i++) {
      dev.hostPulse();
      m.run(50_000);
    }
    expect(irqs(log)).toEqual([144, 144, 144, 144]);
    const s = dev.status();
    expect([s.host.raised, s.host.signalled, s.irqfdInjections, s.host.unmasks]).toEqual([4, 4, 4, 0]);
  });
});

describe("arm64, vgic initialised by KVM at the first KVM_RUN (x-vgic-init=first-run: the 2014 lazy-init vgic)", () => {
  // packages/kvm/src/vgic/seed-003.test.ts ("seed 003 under lazy-init") and vgic-v3.ts setIrqchipPin: KVM_IRQFD is
  // accepted before init, an injection before init is dropped and — level, with a resampler — acknowledged at once
  // (kvm_notify_acked_irq in Eric Auger's v4 patch), so the resamplefd fires and VFIO unmasks the host IRQ.

  test("level line already high: dropped and re-fired every microsecond until the first KVM_RUN, then taken once", () => {
    const { m, dev, log } = bootArm({ props: { host: "xgmac", "x-irqlab-line": "high" }, vgicInit: "first-run" });
    expect(m.calls.lines().some((l) => l.includes("CTRL_INIT") && l.includes("vgic-v3"))).toBe(false);
    expect(m.calls.lines()).toContain("KVM_IRQFD fd=100 gsi=112 flags=RESAMPLE resamplefd=101"); // no EAGAIN in lazy-init
    hostRun(m, 50_000);
    // "continuously ack and re-request the irq from the vfio driver until you are ready to receive it" (the thread):
    // fire (1 us after request_irq / unmask) → automask → irqfd → dropped → acked → resamplefd → unmask → fire ...
    let s = dev.status();
    expect(VgicV3.of(m.vm)!.initialized).toBe(false);
    expect(m.tracer.counters.get("vgic.dropped_before_init")).toBe(50);
    expect([s.host.signalled, s.host.unmasks, s.irqfdInjections]).toEqual([50, 50, 50]);
    m.cont();
    m.run(1_000_000);
    // The first KVM_RUN initialised the vgic; the next re-fire latched; the guest took it once after probing.
    expect(irqs(log)).toEqual([144]);
    expect(log.taken[0]!.at).toBeGreaterThan(log.enabledAt);
    s = dev.status();
    expect(m.tracer.counters.get("vgic.dropped_before_init")).toBe(50);
    expect([s.host.signalled, s.irqfdInjections, s.host.unmasks, s.host.line, s.host.masked]).toEqual([51, 51, 51, false, false]);
  });

  test("edge line already high: the early edge is consumed and dropped, the guest never sees it; later edges are delivered", () => {
    const { m, dev, log } = bootArm({ props: { host: "gpio-keys", "x-irqlab-trigger": "edge", "x-irqlab-line": "high" }, vgicInit: "first-run", edge: true });
    hostRun(m, 50_000);
    expect(m.tracer.counters.get("vgic.dropped_before_init")).toBe(1);
    expect(dev.status().host.signalled).toBe(1);
    m.cont();
    m.run(1_000_000);
    expect(irqs(log)).toEqual([]); // lost for good (Christoffer Dall: "the guest will never know it hit")
    dev.hostPulse();
    m.run(50_000);
    expect(irqs(log)).toEqual([144]);
  });

  test("x-irqfd=off: QEMU's userspace path raises it with KVM_IRQ_LINE, which initialises the vgic (vgic_lazy_init): kept, taken once", () => {
    const { m, dev, log } = bootArm({ props: { host: "xgmac", "x-irqlab-line": "high", "x-irqfd": "off" }, vgicInit: "first-run" });
    hostRun(m, 50_000);
    expect(VgicV3.of(m.vm)!.initialized).toBe(true);
    expect(m.tracer.counters.get("vgic.dropped_before_init")).toBe(0);
    expect(spi(m, 144)).toEqual({ pending: true, enabled: false });
    m.cont();
    m.run(1_000_000);
    expect(irqs(log)).toEqual([144]);
    expect(dev.status().fallbackReason).toBe("x-irqfd=off");
  });
});

describe("QEMU's userspace path (vfio_intp_interrupt, vfio_platform_eoi)", () => {
  test("x-irqfd=off, level high: KVM_IRQ_LINE up, the first trapped access to the region is the EOI (line down, host unmask)", () => {
    const { m, dev, log } = bootArm({ props: { host: "xgmac", "x-irqlab-line": "high", "x-irqfd": "off" } });
    expect(m.calls.lines().filter((l) => l.startsWith("KVM_IRQFD") || l.startsWith("VFIO_"))).toEqual(["VFIO_DEVICE_SET_IRQS index=0 TRIGGER eventfd=100"]);
    hostRun(m, 50_000);
    let s = dev.status();
    expect([s.injection, s.irqfdActive, s.userspaceInterrupts, s.active, s.mmapEnabled, s.irqLineCalls]).toEqual(["userspace", false, 1, true, false, 1]);
    expect(m.calls.lines()).toContain("KVM_IRQ_LINE irq=0x1000090 level=1"); // KVM_ARM_IRQ_TYPE_SPI << 24 | 144
    m.cont();
    m.run(1_000_000);
    expect(irqs(log)).toEqual([144]);
    s = dev.status();
    expect([s.eois, s.irqLineCalls, s.host.unmasks, s.host.signalled, s.active, s.mmapEnabled]).toEqual([1, 2, 1, 1, false, false]);
    // The mmap timer (mmap-timeout-ms=1100, QEMU_CLOCK_VIRTUAL) restores the fast path once nothing is active.
    m.run(1_200_000_000);
    expect(dev.status().mmapEnabled).toBe(true);
  });

  test("a driver that reads STATUS first: that read is the EOI, the still-high line re-fires, the guest takes a second interrupt and finds the device idle", () => {
    const { m, dev, log } = bootArm({ props: { host: "xgmac", "x-irqlab-line": "high", "x-irqfd": "off" }, statusFirst: true });
    m.cont();
    m.run(1_000_000);
    // hw/vfio/region.c: "we don't know which access will service the interrupt, so we're potentially getting
    // quite a few host interrupts per guest interrupt". The irqfd path has no such guess (EOI from the vgic).
    expect(irqs(log)).toEqual([144, 144]);
    expect(log.taken.map((x) => x.status & IRQLAB_PDEV_STATUS_LINE)).toEqual([1, 0]);
    const s = dev.status();
    expect([s.host.signalled, s.userspaceInterrupts, s.eois, s.irqLineCalls]).toEqual([2, 2, 2, 4]);
  });

  test("KVM refuses the irqfd (EAGAIN: an explicit-init vgic that QEMU did not initialise): QEMU falls back without a word", () => {
    // A host whose kernel needs KVM_DEV_ARM_VGIC_CTRL_INIT, driven by a VMM that leaves the vgic to the first run.
    const host = new MachineHost({ arch: "aarch64", vgicInitMode: "explicit" });
    const { m, dev } = bootArm({ props: { host: "xgmac" }, vgicInit: "first-run", host });
    expect(m.calls.lines().filter((l) => l.startsWith("KVM_IRQFD") || l.startsWith("VFIO_"))).toEqual([
      "KVM_IRQFD fd=100 gsi=112 flags=RESAMPLE resamplefd=101 = -EAGAIN",
      "VFIO_DEVICE_SET_IRQS index=0 TRIGGER eventfd=100",
    ]);
    expect([dev.status().injection, dev.status().fallbackReason]).toEqual(["userspace", "KVM_IRQFD: EAGAIN"]);
    // An interrupt now reaches QEMU, whose KVM_IRQ_LINE fails too: kvm_set_irq() would abort() QEMU here.
    dev.hostPulse();
    hostRun(m, 50_000);
    expect(dev.status().userspaceInterrupts).toBe(1);
    expect(dev.errors).toEqual([expect.stringMatching(/^kvm_set_irq: KVM_IRQ_LINE failed with EBUSY/)]);
  });
});

describe("system reset", () => {
  test("QEMU resets nothing of a vfio-platform device: the irqfd and VFIO signalling stay, the rebooted guest takes the next interrupt", () => {
    const { m, dev, log } = bootArm({ props: { host: "xgmac", "x-irqlab-line": "high" } });
    m.cont();
    m.run(1_000_000);
    expect(irqs(log)).toEqual([144]);
    const before = m.calls.lines().filter((l) => l.startsWith("KVM_IRQFD") || l.startsWith("VFIO_"));
    const irqfd = m.vm.irqfds.irqfds.find((f) => f.fd === dev.device.interrupt);
    m.requestReset("host-qmp-system-reset");
    m.run(50_000); // the guest boots again, re-probes after 100 us
    expect(m.calls.lines().filter((l) => l.startsWith("KVM_IRQFD") || l.startsWith("VFIO_"))).toEqual(before);
    expect(m.vm.irqfds.irqfds.find((f) => f.fd === dev.device.interrupt)).toBe(irqfd);
    expect(dev.status().resets).toBe(2); // Machine.create's reset and this one: vfio_platform_hot_reset_multi() is a stub
    m.run(500_000);
    dev.hostPulse();
    m.run(50_000);
    expect(irqs(log)).toEqual([144, 144]);
    expect(dev.status().irqfdActive).toBe(true);
  });
});

describe("riscv64 (aia=aplic-imsic): no KVM_CAP_IRQFD_RESAMPLE, so QEMU takes the userspace path to the in-kernel APLIC", () => {
  const APLIC = RISCV_VIRT_APLIC_S.base;

  /** One device as the riscv guest drives it: its APLIC source, its trigger (sourcecfg SM) and IMSIC identity. */
  interface RiscvSource {
    base: number;
    source: number;
    readonly sm: number;
    readonly eiid: number;
  }

  /**
   * An S-mode guest: the IMSIC delivers (eidelivery = 1) and enables each
   * identity; after booting, each APLIC source gets its trigger, goes to hart
   * 0 with its identity and is enabled. The vector claims through stopei and
   * services the device behind the identity.
   */
  function riscvGuest(srcs: readonly RiscvSource[], log: GuestLog, now: () => number): GuestImage {
    return {
      main: function* (): GuestProgram {
        yield op.csrWrite(CSR_SISELECT, 0x70); // eidelivery
        yield op.csrWrite(CSR_SIREG, 1);
        yield op.csrWrite(CSR_SISELECT, 0xc0); // eie0
        for (const s of srcs) yield op.csrSet(CSR_SIREG, 1 << s.eiid);
        yield op.compute(PROBE_NS);
        for (const s of srcs) {
          yield op.write(APLIC + 0x0004 + (s.source - 1) * 4, 4, s.sm); // sourcecfg[i]
          yield op.write(APLIC + 0x3004 + (s.source - 1) * 4, 4, s.eiid); // target[i]: hart 0, guest 0, EIID
        }
        yield op.write(APLIC + 0x0000, 4, 1 << 8); // domaincfg.IE
        for (const s of srcs) yield op.write(APLIC + 0x1edc, 4, s.source); // setienum
        yield op.csrSet(CSR_SIE, 1 << IRQ_S_EXT);
        log.enabledAt = now();
        yield op.unmask();
        for (;;) yield op.wfi();
      },
      vector: function* (): GuestProgram {
        for (;;) {
          const id = (yield op.csrWrite(CSR_STOPEI, 0)).value >>> 16;
          if (id === 0) return;
          const at = now();
          const s = srcs.find((x) => x.eiid === id)!;
          const status = yield* serviceDevice({ base: s.base, irq: s.source, now }, false);
          log.taken.push({ irq: id, at, status });
        }
      },
    };
  }

  test("an edge and a level device on APLIC sources 64 and 65 (GSI = source): each interrupt taken once through KVM_IRQ_LINE", () => {
    const log: GuestLog = { taken: [], spurious: 0, enabledAt: -1 };
    const srcs: RiscvSource[] = [
      { base: 0, source: 0, sm: 4, eiid: 5 }, // Edge1
      { base: 0, source: 0, sm: 6, eiid: 6 }, // Level1
    ];
    const devs: VfioPlatformPlug[] = [];
    let now = (): number => 0;
    const m = Machine.create({
      config: riscvConfig(),
      kernel: riscvGuest(srcs, log, () => now()),
      machineInitDone: [
        (mm) => {
          devs.push(plugVfioPlatform(mm.deviceContext(), { host: "keys", "x-irqlab-trigger": "edge" }));
          devs.push(plugVfioPlatform(mm.deviceContext(), { host: "eth" }));
          devs.forEach((d, i) => {
            srcs[i]!.base = d.base;
            srcs[i]!.source = d.guestIrq;
          });
          now = () => mm.queue.now;
        },
      ],
    });
    const [edge, level] = devs as [VfioPlatformPlug, VfioPlatformPlug];
    expect([edge.base, edge.gsi, edge.guestIrq, level.base, level.gsi, level.guestIrq]).toEqual([0x400_0000, 64, 64, 0x400_1000, 65, 65]);
    expect([edge.status().injection, edge.status().fallbackReason]).toEqual(["userspace", "no KVM resamplefds"]);
    expect(m.calls.lines().filter((l) => l.startsWith("KVM_IRQFD"))).toEqual([]);
    m.run(300_000);
    for (let i = 0; i < 3; i++) {
      edge.hostPulse();
      m.run(50_000);
      level.hostPulse();
      m.run(50_000);
    }
    expect(log.taken.map((x) => x.irq)).toEqual([5, 6, 5, 6, 5, 6]);
    expect(log.taken.every((x) => x.at > log.enabledAt)).toBe(true);
    for (const d of devs) {
      const s = d.status();
      expect([s.host.signalled, s.userspaceInterrupts, s.eois, s.irqLineCalls, s.errors.length]).toEqual([3, 3, 3, 6, 0]);
    }
    expect(level.status().host.unmasks).toBe(3); // automasked: unmasked at each EOI
    expect(m.calls.lines()).toContain("KVM_IRQ_LINE irq=0x40 level=1");
  });
});

describe("from the command line", () => {
  test("-S -device vfio-platform,host=xgmac,x-irqlab-line=high,id=eth0 through the machine's drivers (MachineOptions.drivers)", () => {
    const argv = ["-M", "virt", "-accel", "kvm", "-cpu", "host", "-S", "-device", "vfio-platform,host=xgmac,x-irqlab-line=high,id=eth0"];
    const r = parseSystemCommandLine("aarch64", argv, { devices: [VFIO_PLATFORM_DEVICE_INFO] });
    if (r.kind !== "run") throw new Error(r.kind);
    expect(r.config.devices).toEqual([{ driver: "vfio-platform", id: "eth0", props: { host: "xgmac", "x-irqlab-line": "high" } }]);
    const t: Target = { base: 0, irq: 0, now: () => 0 };
    const log: GuestLog = { taken: [], spurious: 0, enabledAt: -1 };
    const plugs: VfioPlatformPlug[] = [];
    const m = Machine.create({
      config: r.config,
      kernel: armGuest(t, log, { edge: false, statusFirst: false }),
      drivers: new Map([["vfio-platform", (ctx, d) => { plugs.push(plugVfioPlatformDevice(ctx, d)); }]]),
    });
    const dev = plugs[0]!;
    Object.assign(t, { base: dev.base, irq: dev.guestIrq, now: () => m.queue.now });
    expect(m.bus.regions().find((x) => x.base === dev.base)?.name).toBe("vfio-platform:eth0");
    expect(m.calls.calls.filter((c) => c.ioctl === "KVM_IRQFD").map((c) => c.phase)).toEqual(["PHASE_MACHINE_READY"]);
    hostRun(m, 50_000);
    m.cont();
    m.run(1_000_000);
    expect(irqs(log)).toEqual([144]);
  });

  test("-device vfio-platform,help lists QEMU's properties and irqlab's", () => {
    const r = parseSystemCommandLine("aarch64", ["-M", "virt", "-device", "vfio-platform,help"], { devices: [VFIO_PLATFORM_DEVICE_INFO] });
    if (r.kind !== "list") throw new Error(r.kind);
    expect(r.text.split("\n").map((l) => l.trim().split(/\s+/)[0])).toEqual([
      "vfio-platform",
      "fd=<str>",
      "host=<str>",
      "iommufd=<link<iommufd>>",
      "mmap-timeout-ms=<uint32>",
      "sysfsdev=<str>",
      "x-irqfd=<bool>",
      "x-irqlab-line=<str>",
      "x-irqlab-trigger=<str>",
      "x-no-mmap=<bool>",
      "",
    ]);
  });
});

describe("platform bus placement", () => {
  test("regions at the first naturally aligned free offset, lines in order; a full window is QEMU's error", () => {
    const plugs: VfioPlatformPlug[] = [];
    let error: unknown;
    Machine.create({
      config: armConfig({ startPaused: true }),
      machineInitDone: [
        (mm) => {
          try {
            for (let i = 0; i < 65; i++) plugs.push(plugVfioPlatform(mm.deviceContext(), { host: `dev${i}` }));
          } catch (e) {
            error = e;
          }
        },
      ],
    });
    expect(plugs.length).toBe(64); // PLATFORM_BUS_NUM_IRQS
    expect(plugs.slice(0, 3).map((p) => [p.base, p.guestIrq])).toEqual([
      [0x0c00_0000, 144],
      [0x0c00_1000, 145],
      [0x0c00_2000, 146],
    ]);
    expect(plugs[63]!.guestIrq).toBe(144 + 63);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toBe("Platform Bus: Can not fit IRQ line");
  });
});

describe("properties", () => {
  test("defaults and values", () => {
    expect(parseVfioPlatformProps({ host: "fff51000.ethernet" })).toEqual({
      name: "fff51000.ethernet",
      sysfsdev: "/sys/bus/platform/devices/fff51000.ethernet",
      noMmap: false,
      mmapTimeoutMs: 1100,
      irqfd: true,
      trigger: "level",
      lineHigh: false,
      warnings: ["-device vfio-platform is deprecated"],
    });
    const c = parseVfioPlatformProps({ sysfsdev: "/sys/bus/platform/devices/xgmac0/", "x-no-mmap": "on", "mmap-timeout-ms": "0x10", "x-irqfd": "off", "x-irqlab-trigger": "edge", "x-irqlab-line": "high" });
    expect([c.name, c.noMmap, c.mmapTimeoutMs, c.irqfd, c.trigger, c.lineHigh]).toEqual(["xgmac0", true, 16, false, "edge", true]);
    // sysfsdev= takes precedence over host=.
    expect(parseVfioPlatformProps({ host: "a", sysfsdev: "/x/b" }).name).toBe("b");
  });

  test.each([
    [{ host: "xgmac", foo: "1" }, "Property 'vfio-platform.foo' not found"],
    [{ host: "xgmac", "x-irqfd": "maybe" }, "Parameter 'x-irqfd' expects 'on' or 'off'"],
    [{ host: "xgmac", "x-no-mmap": "" }, "Parameter 'x-no-mmap' expects 'on' or 'off'"],
    [{ host: "xgmac", "mmap-timeout-ms": "soon" }, "Parameter 'mmap-timeout-ms' expects integer"],
    [{ host: "xgmac", "mmap-timeout-ms": "4294967296" }, "Parameter 'mmap-timeout-ms' expects uint32_t"],
    [{ host: "xgmac", "x-irqlab-trigger": "pulse" }, "Parameter 'x-irqlab-trigger' does not accept value 'pulse'"],
    [{ host: "xgmac", "x-irqlab-line": "1" }, "Parameter 'x-irqlab-line' does not accept value '1'"],
    [{ host: "xgmac", iommufd: "iommufd0" }, "irqlab does not model the vfio-platform property 'iommufd' (iommufd backends)"],
    [{}, "vfio error: wrong host device name"],
    [{ host: "platform/xgmac" }, "vfio platform/xgmac: wrong host device name"],
  ])("%j → %s", (props: Record<string, string>, message) => {
    expect(() => parseVfioPlatformProps(props)).toThrow(new ConfigError(message));
  });

  test("plugVfioPlatform reports a bad property before it touches the machine", () => {
    let error: unknown;
    const m = Machine.create({
      config: armConfig({ startPaused: true }),
      machineInitDone: [
        (mm) => {
          try {
            plugVfioPlatform(mm.deviceContext(), { host: "xgmac", "x-irqfd": "2" });
          } catch (e) {
            error = e;
          }
        },
      ],
    });
    expect(error).toEqual(new ConfigError("Parameter 'x-irqfd' expects 'on' or 'off'"));
    expect(m.bus.regions().some((r) => r.name.startsWith("vfio-platform"))).toBe(false);
    expect(m.vm.irqfds.irqfds).toEqual([]);
  });
});
