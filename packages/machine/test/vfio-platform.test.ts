/**
 * `-device vfio-platform` on an arm64 virt machine under KVM: seed 003's
 * device whose level line is already high when QEMU opens it, with the
 * vgic initialised at board init (KVM_DEV_ARM_VGIC_CTRL_INIT, QEMU today)
 * or lazily at the first KVM_RUN (x-vgic-init=first-run: the 2014 kernel),
 * irqfd or QEMU's userspace path, edge and level, reset, bad properties.
 *
 * The machines start paused (-S) and the host runs a while before `cont`:
 * QEMU's first KVM_RUN comes long after machine-init-done opened the device
 * (the seed: "as soon as VFIO driver calls request_irq, the IRQ hits"),
 * while Machine.create would otherwise enter KVM_RUN at the same instant.
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
import { VgicV3, type GuestImage } from "@irqlab/kvm";
import { op, type GuestProgram } from "@irqlab/sim";
import { describe, expect, test } from "vitest";
import { IRQLAB_PDEV_ACK, IRQLAB_PDEV_STATUS } from "../src/devices/vfio-platform-host.js";
import { MachineHost } from "../src/host/machine-host.js";
import { Machine } from "../src/machine.js";
import { plugVfioPlatform, type VfioPlatformPlug } from "../src/wiring/vfio-platform-kvm.js";
import { armConfig } from "./machine-config-fixture.js";

const DIST = 0x0800_0000;

/** One interrupt the guest took: INTID, virtual time, the device's STATUS it read. */
interface Taken {
  readonly intid: number;
  readonly at: number;
  readonly status: number;
}

interface GuestLog {
  readonly taken: Taken[];
  spurious: number;
  enabledAt: number;
}

/** Where the device landed (filled in at machine-init-done, read by the guest at run time). */
interface Target {
  base: number;
  intid: number;
}

/**
 * A guest that brings up the GIC distributor, boots for `probeAfterNs`, then
 * probes the device's driver: SPI trigger (GICD_ICFGR), priority, enable,
 * PMR, group 1, unmask. Its handler acknowledges the device (ACK first, or
 * STATUS first as many drivers do) and completes the interrupt (EOIR).
 */
function guest(t: Target, log: GuestLog, o: { edge: boolean; probeAfterNs?: number; statusFirst?: boolean }): GuestImage {
  return {
    main: function* (): GuestProgram {
      yield op.write(DIST + GICD_CTLR, 4, GICD_CTLR_ENABLE_SS_G1);
      yield op.compute(o.probeAfterNs ?? 100_000);
      const cfg = DIST + GICD_ICFGR + (t.intid >>> 4) * 4;
      const bit = 1 << (2 * (t.intid & 15) + 1);
      const old = (yield op.read(cfg, 4)).value;
      yield op.write(cfg, 4, (o.edge ? old | bit : old & ~bit) >>> 0);
      yield op.write(DIST + GICD_IPRIORITYR + t.intid, 1, 0xa0);
      yield op.write(DIST + GICD_ISENABLER + (t.intid >>> 5) * 4, 4, (1 << (t.intid & 31)) >>> 0);
      yield op.msr(ICC_PMR_EL1, 0xff);
      yield op.msr(ICC_IGRPEN1_EL1, 1);
      log.enabledAt = -1;
      yield op.unmask();
      for (;;) yield op.wfi();
    },
    vector: function* (): GuestProgram {
      const intid = (yield op.mrs(ICC_IAR1_EL1)).value & 0xffffff;
      if (intid === INTID_SPURIOUS) {
        log.spurious++;
        return;
      }
      const at = 0;
      let status: number;
      if (o.statusFirst === true) {
        status = (yield op.read(t.base + IRQLAB_PDEV_STATUS, 4)).value;
        yield op.write(t.base + IRQLAB_PDEV_ACK, 4, 1);
      } else {
        yield op.write(t.base + IRQLAB_PDEV_ACK, 4, 1);
        status = (yield op.read(t.base + IRQLAB_PDEV_STATUS, 4)).value;
      }
      log.taken.push({ intid, at, status });
      yield op.msr(ICC_EOIR1_EL1, intid);
    },
  };
}

interface Rig {
  readonly m: Machine;
  readonly dev: VfioPlatformPlug;
  readonly log: GuestLog;
}

function boot(o: { props: Record<string, string>; vgicInit?: "board-init" | "first-run"; host?: MachineHost; edge?: boolean; statusFirst?: boolean; probeAfterNs?: number }): Rig {
  const t: Target = { base: 0, intid: 0 };
  const log: GuestLog = { taken: [], spurious: 0, enabledAt: 0 };
  let dev: VfioPlatformPlug | undefined;
  const m = Machine.create({
    config: armConfig({ vgicInit: o.vgicInit ?? "board-init", startPaused: true }),
    ...(o.host === undefined ? {} : { host: o.host }),
    kernel: guest(t, log, { edge: o.edge ?? false, ...(o.statusFirst === undefined ? {} : { statusFirst: o.statusFirst }), ...(o.probeAfterNs === undefined ? {} : { probeAfterNs: o.probeAfterNs }) }),
    machineInitDone: [
      (mm) => {
        dev = plugVfioPlatform(mm.deviceContext(), o.props);
        t.base = dev.base;
        t.intid = dev.guestIrq;
      },
    ],
  });
  return { m, dev: dev!, log };
}

describe("explore", () => {
  test("board-init level high", () => {
    const { m, dev, log } = boot({ props: { host: "xgmac", "x-irqlab-line": "high" } });
    m.host.run(m.queue.now + 50_000);
    console.log(dev.status(), m.calls.lines().slice(-6));
    m.cont();
    m.run(1_000_000);
    console.log(dev.status(), log);
  });
  test("first-run level high", () => {
    const { m, dev, log } = boot({ props: { host: "xgmac", "x-irqlab-line": "high" }, vgicInit: "first-run" });
    m.host.run(m.queue.now + 50_000);
    console.log(dev.status(), m.tracer.counters.get("vgic.dropped_before_init"), VgicV3.of(m.vm)?.initialized);
    m.cont();
    m.run(1_000_000);
    console.log(dev.status(), log, m.tracer.counters.get("vgic.dropped_before_init"));
  });
});
