/**
 * The `storm` image: every MSI-X vector of every `x-irqlab-msix-test`
 * function fires, round after round, and the guest counts each interrupt.
 * It exercises the whole MSI path at volume: PCI enumeration, one ITS
 * device per function (DeviceID through `msi-map`), one LPI per vector,
 * the vectors spread over the CPUs' collections (vector v of a function on
 * CPU v mod N), MSI-X set up as Linux does and every entry unmasked.
 *
 * In each round the boot CPU rings each function's doorbell (BAR0 + 8)
 * once per vector — QEMU sends each message with KVM_SIGNAL_MSI through the
 * vITS — then waits until the round's interrupts have all been taken, so
 * no two MSIs of one LPI are pending at once (an LPI has no count: a second
 * MSI while it is pending is merged). Secondary CPUs idle in WFI and take
 * their share. It prints, e.g. with `-smp 2` and two 8-vector functions:
 *
 *     storm: 2 functions, 16 vectors, 4 rounds: 64 MSIs
 *     storm: 64 interrupts taken (CPU0 32, CPU1 32), 0 missing, in 173 us
 *
 * ("N missing" counts rounds that timed out), then powers off.
 */

import { op } from "@irqlab/sim";
import { panic } from "../boot/panic.js";
import { putLine } from "../console/console.js";
import type { GuestCode, GuestImage } from "../guest-image.js";
import { readCntvct } from "../arm/arm-timer.js";
import { gicHandleIrq } from "../arm/gicv3-cpu.js";
import { ItsDriver, type ItsDevice } from "../arm/its-driver.js";
import { KernelPages } from "../arm/its-pages.js";
import { enumeratePciBus, type PciFunctionInfo } from "../pci/pci-enumerate.js";
import { msiMapId } from "../pci/msi-map.js";
import { MsixCapability } from "../pci/pci-msix.js";
import { powerOff } from "../power/power.js";
import { gicBoot, secondaryStart, startSecondary, wfiForever, type GicSystem } from "./gic-test-base.js";
import { printBanner } from "./image-common.js";

/** x-irqlab-msix-test's identity and doorbell register. */
export const MSIX_TEST_VENDOR = 0x1234;
export const MSIX_TEST_DEVICE = 0x11e9;
export const MSIX_TEST_DOORBELL = 0x08;
/** Rounds of the storm. */
export const STORM_ROUNDS = 4;
/** Polls (of 1 us) the boot CPU waits for one round. */
export const STORM_ROUND_POLLS = 100_000;

interface StormState {
  readonly g: GicSystem;
  /** Interrupts taken per logical CPU (kernel data). */
  readonly taken: number[];
}

interface StormDevice {
  readonly fn: PciFunctionInfo;
  readonly doorbell: number;
  readonly vectors: number;
}

function total(s: StormState): number {
  return s.taken.reduce((a, b) => a + b, 0);
}

/** Sets up every function; returns them or a failure message. */
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
  const e = yield* enumeratePciBus(host);
  const out: StormDevice[] = [];
  const ncpu = sys.platform.cpus.length;
  for (const fn of e.functions) {
    if (fn.vendorId !== MSIX_TEST_VENDOR || fn.deviceId !== MSIX_TEST_DEVICE) continue;
    const msix = yield* MsixCapability.find(fn);
    const bar0 = fn.bars.find((b) => b.index === 0)?.cpuAddress;
    const target = msiMapId(host, fn.requesterId);
    if (msix === undefined || bar0 === undefined || target === undefined) return `${fn.name}: no MSI-X, BAR0 or msi-map translation`;
    const n = msix.vectors;
    const dev: ItsDevice | undefined = yield* its.createDevice(target.id, n, n);
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
    const lo = its.doorbell % 2 ** 32;
    const hi = Math.floor(its.doorbell / 2 ** 32);
    yield* msix.setup(Array.from({ length: n }, (_, v) => ({ addressLo: lo, addressHi: hi, data: v })));
    for (let v = 0; v < n; v++) yield* msix.mask(v, false);
    out.push({ fn, doorbell: bar0 + MSIX_TEST_DOORBELL, vectors: n });
  }
  if (out.length === 0) return "no x-irqlab-msix-test function on bus 0 (-device x-irqlab-msix-test)";
  return out;
}

function* noWork(): GuestCode {
  // The handler's work is the count its caller keeps.
}

/** The storm on the boot CPU. */
function* storm(s: StormState, devs: readonly StormDevice[]): GuestCode {
  const sys = s.g.sys;
  const vectors = devs.reduce((a, d) => a + d.vectors, 0);
  yield* putLine(sys.console, `storm: ${devs.length} function${devs.length === 1 ? "" : "s"}, ${vectors} vectors, ${STORM_ROUNDS} rounds: ${vectors * STORM_ROUNDS} MSIs`);
  const start = yield* readCntvct();
  let missing = 0;
  const poll = op.compute(1000);
  for (let r = 0; r < STORM_ROUNDS; r++) {
    const want = total(s) + vectors;
    for (const d of devs) for (let v = 0; v < d.vectors; v++) yield op.write(d.doorbell, 4, v);
    let polls = 0;
    while (total(s) < want && polls++ < STORM_ROUND_POLLS) yield poll;
    missing += Math.max(0, want - total(s));
  }
  const us = Math.round((((yield* readCntvct()) - start) * 1_000_000) / s.g.hz);
  const per = s.taken.map((n, c) => `CPU${c} ${n}`).join(", ");
  yield* putLine(sys.console, `storm: ${total(s)} interrupts taken (${per}), ${missing} missing, in ${us} us`);
}

/** Creates the `storm` image. */
export function stormImage(): GuestImage {
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
      yield* storm(s, devs);
      yield op.mask();
      return yield* powerOff(g.sys);
    },
    vector: function* () {
      if (state !== undefined) yield* gicHandleIrq(state.g.gic);
    },
    secondary: function* (entry, context) {
      yield* secondaryStart(state?.g, entry, context);
      yield op.unmask();
      yield* wfiForever();
    },
  };
}
