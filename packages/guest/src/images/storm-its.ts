/**
 * The `storm` image on arm64: the MSIs go through the ITS. One ITS device per
 * function (DeviceID through `msi-map`), one LPI per vector, vector v of a
 * function on CPU v mod N's collection (MAPTI), the message GITS_TRANSLATER
 * with the event ID as data. QEMU sends each message with KVM_SIGNAL_MSI
 * through the vITS (kvm_its_send_msi, with the requester ID as devid).
 * Secondary CPUs idle in WFI and take their share. With `-smp 2` and two
 * 8-vector functions it prints:
 *
 *     storm: 2 functions, 16 vectors, 4 rounds: 64 MSIs
 *     storm: 64 interrupts taken (CPU0 32, CPU1 32), 0 missing, in 173 us
 */

import { op } from "@irqlab/sim";
import { panic } from "../boot/panic.js";
import type { GuestCode, GuestImage } from "../guest-image.js";
import { readCntvct } from "../arm/arm-timer.js";
import { gicIrqVector } from "../arm/gicv3-cpu.js";
import { ItsDriver } from "../arm/its-driver.js";
import { KernelPages } from "../arm/its-pages.js";
import { powerOff } from "../power/power.js";
import { gicBoot, secondaryStart, startSecondary, wfiForever, type GicSystem } from "./gic-test-base.js";
import { printBanner } from "./image-common.js";
import { runStorm, setupStormDevices, type StormDevice } from "./storm-common.js";

interface StormState {
  readonly g: GicSystem;
  /** Interrupts taken per logical CPU (kernel data). */
  readonly taken: number[];
}

function* noWork(): GuestCode {
  // The handler's work is the count its caller keeps.
}

/** The ITS, every CPU's redistributor and collection, then the functions. */
function* setup(s: StormState): GuestCode<StormDevice[] | string> {
  const sys = s.g.sys;
  const gic = sys.platform.gic!;
  const info = gic.its[0];
  if (info === undefined) return "no ITS in the device tree (-M virt,its=on)";
  const pages = new KernelPages(sys.platform, [{ base: s.g.base, size: s.g.data - s.g.base + 64 }]);
  const probe = yield* ItsDriver.probe(gic, info, pages);
  if (!probe.ok) return probe.message;
  const its = probe.its;
  for (const cpu of sys.platform.cpus) {
    const err = yield* its.cpuInit(cpu);
    if (err !== undefined) return err;
  }
  const host = sys.platform.pcie[0];
  if (host === undefined) return "no PCIe host bridge";
  const ncpu = sys.platform.cpus.length;
  return yield* setupStormDevices(host, function* (fn, target, n) {
    const dev = yield* its.createDevice(target.id, n, n);
    if (dev === undefined) return `${fn.name}: no room for DeviceID 0x${target.id.toString(16)}`;
    for (let v = 0; v < n; v++) {
      const col = its.collections.get(v % ncpu)!;
      yield* its.mapti(dev, v, dev.lpiBase + v, col);
      s.g.gic.irqs.register(dev.lpiBase + v, (_hwirq, cpu) => {
        s.taken[cpu] = (s.taken[cpu] ?? 0) + 1;
        return noWork();
      });
      yield* its.enableEvent(dev, v);
    }
    const addressLo = its.doorbell % 2 ** 32;
    const addressHi = Math.floor(its.doorbell / 2 ** 32);
    return Array.from({ length: n }, (_, v) => ({ addressLo, addressHi, data: v }));
  });
}

/** Creates the arm64 `storm` image. */
export function stormItsImage(): GuestImage {
  let state: StormState | undefined;
  return {
    main: function* (bootRegs) {
      state = undefined;
      const g = yield* gicBoot(bootRegs, "storm", 64);
      yield* printBanner(g.sys, "storm");
      const s: StormState = { g, taken: g.sys.platform.cpus.map(() => 0) };
      state = s;
      for (let c = 1; c < g.sys.platform.cpus.length; c++) {
        const err = yield* startSecondary(g, c);
        if (err !== undefined) return yield* panic(g.sys, err);
      }
      const devs = yield* setup(s);
      if (typeof devs === "string") return yield* panic(g.sys, `storm: ${devs}`);
      yield op.unmask();
      yield* runStorm(g.sys.console, devs, s.taken, { hz: g.hz, now: readCntvct });
      yield op.mask();
      return yield* powerOff(g.sys);
    },
    vector: gicIrqVector(() => state?.g.gic),
    secondary: function* (entry, context) {
      yield* secondaryStart(state?.g, entry, context);
      yield op.unmask();
      yield* wfiForever();
    },
  };
}
