/**
 * The guest of seed 003: an arm64 guest that boots from the device tree
 * (@irqlab/guest's boot), brings the GICv3 up with @irqlab/guest's driver
 * as Linux's irq-gic-v3.c does (gic_dist_init, then the boot CPU's
 * redistributor and CPU interface), and after `probeAfterNs` of boot time
 * does what a platform driver's probe does for its one SPI: request_irq()
 * (the handler in the driver's IRQ table), the trigger (gic_set_type: edge
 * or level), the default priority and the enable, then unmasks interrupts
 * and idles in WFI. The vector is gic_handle_irq (ICC_IAR1_EL1, the
 * handler, ICC_EOIR1_EL1); the handler acknowledges the device with a write
 * to its ACK register, which lowers its line.
 *
 * The device's address and SPI come from the machine's platform bus (the
 * guest gets them as a device-tree node would give them; the virt board's
 * tree does not list dynamic sysbus devices); `seen` is the measurement
 * point in the handler (a tracepoint), not something the guest could call.
 */

import { GICD_INT_DEF_PRI, Gicv3Driver, boot, gicCpuInit, gicHandleIrq, panic, setCpuId } from "@irqlab/guest";
import type { GuestImage } from "@irqlab/kvm";
import { IRQLAB_PDEV_ACK } from "@irqlab/machine";
import { op, type GuestProgram, type Nanoseconds } from "@irqlab/sim";

/** Where the device is (filled in when it is plugged, before the guest runs). */
export interface SpiTarget {
  base: number;
  intid: number;
}

/** Options of {@link gicSpiGuest}. */
export interface GicSpiGuestOptions {
  readonly target: SpiTarget;
  readonly edge: boolean;
  /** Boot time before the driver's probe. */
  readonly probeAfterNs: Nanoseconds;
  /** The measurement point: the handler took `intid`. */
  readonly seen: (intid: number) => void;
}

/** A guest that enables one SPI and takes it. */
export function gicSpiGuest(o: GicSpiGuestOptions): GuestImage {
  const t = o.target;
  let gic: Gicv3Driver | undefined;
  return {
    main: function* (regs: readonly number[]): GuestProgram {
      const sys = yield* boot(regs, { arch: "aarch64" });
      const info = sys.platform.gic;
      if (info === undefined) return yield* panic(sys, "GICv3: no distributor detected, giving up");
      const g = new Gicv3Driver(info, sys.platform.cpus);
      yield* setCpuId(0);
      if (!(yield* g.initDist())) return yield* panic(sys, "RWP timeout, gone fishing");
      const err = yield* gicCpuInit(g, 0);
      if (err !== undefined) return yield* panic(sys, err);
      gic = g;
      yield op.compute(o.probeAfterNs);
      g.irqs.register(t.intid, function* (hwirq: number): GuestProgram {
        o.seen(hwirq);
        yield op.write(t.base + IRQLAB_PDEV_ACK, 4, 1);
      });
      yield* g.setType(t.intid, o.edge);
      yield* g.setPriority(t.intid, GICD_INT_DEF_PRI);
      yield* g.enableIrq(t.intid);
      yield op.unmask();
      for (;;) yield op.wfi();
    },
    vector: function* (): GuestProgram {
      if (gic !== undefined) yield* gicHandleIrq(gic);
    },
  };
}
