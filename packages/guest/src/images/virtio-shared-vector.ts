/**
 * The `virtio-shared-vector` image: the guest of seed 001 ("GICv4: Support
 * shared VLPI", Nov 2023). An old virtio-pci driver (CentOS 7.6, Linux
 * 4.19) drives the passed-through virtio-scsi function of
 * `-device vfio-pci,host=...` with two vectors — config and one shared by
 * the six request queues — but writes the shared vector's message into
 * MSI-X entries 1–6, which the device raises for its queues. Then the guest
 * reboots into firmware that has mapped no LPI.
 *
 * Boot 1, the driver: the GICv3 and ITS drivers come up on the boot CPU;
 * PCI bus 0 is enumerated (BARs assigned from the host bridge's windows);
 * the function's requester ID becomes its ITS DeviceID through `msi-map`;
 * the ITS gets MAPD with two LPIs (config = event 0, queues = event 1)
 * mapped to CPU 0; MSI-X is set up as Linux does (enable under the function
 * mask, all entries masked, messages written, mask lifted) with entry 0 =
 * data 0 and entries 1–6 = data 1, and all seven entries unmasked. For each
 * queue the driver kicks the device (BAR4 notify) and waits for the queue
 * interrupt; then it kicks all six queues again and reboots at once (PSCI
 * SYSTEM_RESET) with the six requests in flight.
 *
 * Boot 2, the firmware: the GIC is brought up (distributor and CPU
 * interface), no ITS, no LPI; interrupts are unmasked for 100 ms and every
 * interrupt acknowledged is one the firmware did not ask for. It prints what
 * it saw and powers off. With `-accel kvm,x-gicv4=linux-6.6` the host
 * interrupts of entries 2–6 are still mapped onto the guest's vLPI after
 * the reset (unset_forwarding unmapped only one of them) and arrive here;
 * with linux-6.16 (or without GICv4) none does.
 *
 * Telling the boots apart: the firmware is a different program from the
 * kernel, which this image models by keeping a boot counter in its
 * JavaScript state, which survives the machine's reset (RAM contents would
 * too, but a kernel cannot assume that).
 */

import { ICC_EOIR1_EL1, ICC_IAR1_EL1 } from "@irqlab/gic";
import { op } from "@irqlab/sim";
import { panic } from "../boot/panic.js";
import { putLine } from "../console/console.js";
import type { GuestCode, GuestImage } from "../guest-image.js";
import { mdelay } from "../arm/arm-timer.js";
import { gicHandleIrq } from "../arm/gicv3-cpu.js";
import { GIC_SPECIAL_FIRST } from "../arm/gicv3-driver.js";
import { ItsDriver, type ItsDevice } from "../arm/its-driver.js";
import { KernelPages } from "../arm/its-pages.js";
import { enumeratePciBus, type PciFunctionInfo } from "../pci/pci-enumerate.js";
import { MsixCapability, type MsiMessage } from "../pci/pci-msix.js";
import { msiMapId } from "../pci/msi-map.js";
import { powerOff, restart } from "../power/power.js";
import { gicBoot, type GicSystem } from "./gic-test-base.js";
import { printBanner } from "./image-common.js";

/** virtio-scsi, transitional (vendor 0x1af4, device 0x1004). */
export const VIRTIO_SCSI_VENDOR = 0x1af4;
export const VIRTIO_SCSI_DEVICE = 0x1004;
/** The device's request queues, raising MSI-X entries 1–6. */
export const VIRTIO_SCSI_QUEUES = 6;
/** Where a kick goes: the notify area of BAR4 (QEMU's virtio-pci layout). */
export const VIRTIO_NOTIFY_OFFSET = 0x3000;
/** How long the driver waits for one queue interrupt. */
export const QUEUE_TIMEOUT_MS = 100;
/** How long the firmware listens for interrupts. */
export const FIRMWARE_LISTEN_MS = 100;

interface DriverState {
  readonly g: GicSystem;
  /** Interrupts taken per LPI. */
  readonly taken: Map<number, number>;
}

/** The driver's run; returns on failure with a message. */
function* driver(s: DriverState): GuestCode<string | undefined> {
  const { g } = s;
  const sys = g.sys;
  const gic = sys.platform.gic!;
  const itsInfo = gic.its[0];
  if (itsInfo === undefined) return "no ITS in the device tree (-M virt,its=on)";
  const pages = new KernelPages(sys.platform, [{ base: g.base, size: g.data - g.base + 64 }]);
  const probe = yield* ItsDriver.probe(gic, itsInfo, pages);
  if (!probe.ok) return probe.message;
  const its = probe.its;
  const err = yield* its.cpuInit(sys.platform.cpus[0]!);
  if (err !== undefined) return err;
  const host = sys.platform.pcie[0];
  if (host === undefined) return "no PCIe host bridge";
  const e = yield* enumeratePciBus(host);
  for (const line of e.log) yield* putLine(sys.console, line);
  const fn: PciFunctionInfo | undefined = e.functions.find((f) => f.vendorId === VIRTIO_SCSI_VENDOR && f.deviceId === VIRTIO_SCSI_DEVICE);
  if (fn === undefined) return "no virtio-scsi function on bus 0 (-device vfio-pci,host=...)";
  const msix = yield* MsixCapability.find(fn);
  if (msix === undefined || msix.vectors < VIRTIO_SCSI_QUEUES + 1) return `${fn.name}: no MSI-X with ${VIRTIO_SCSI_QUEUES + 1} entries`;
  const target = msiMapId(host, fn.requesterId);
  if (target === undefined) return `${fn.name}: no msi-map translation for id 0x${fn.requesterId.toString(16)}`;
  const dev: ItsDevice | undefined = yield* its.mapDevice(target.id, 2, 0);
  if (dev === undefined) return `${fn.name}: ITS MAPD of DeviceID 0x${target.id.toString(16)} failed`;
  const config = its.lpiOf(dev, 0);
  const queues = its.lpiOf(dev, 1);
  const addressLo = its.doorbell % 2 ** 32;
  const addressHi = Math.floor(its.doorbell / 2 ** 32);
  const messages: MsiMessage[] = [{ addressLo, addressHi, data: 0 }];
  for (let q = 1; q <= VIRTIO_SCSI_QUEUES; q++) messages.push({ addressLo, addressHi, data: 1 });
  for (const lpi of [config, queues]) {
    g.gic.irqs.register(lpi, (hwirq) => {
      s.taken.set(hwirq, (s.taken.get(hwirq) ?? 0) + 1);
      return nothing();
    });
  }
  yield* msix.setup(messages);
  for (let i = 0; i <= VIRTIO_SCSI_QUEUES; i++) yield* msix.mask(i, false);
  yield* its.enableEvent(dev, 0);
  yield* its.enableEvent(dev, 1);
  yield* putLine(sys.console, `virtio-pci ${fn.name}: ITS DeviceID 0x${target.id.toString(16)}, LPI ${config} (config), LPI ${queues} (queues)`);
  yield* putLine(sys.console, `virtio-pci ${fn.name}: MSI-X entry 0 data 0x0, entries 1-${VIRTIO_SCSI_QUEUES} data 0x1 (one vector shared by the queues)`);
  yield op.unmask();
  const notify = fn.bars.find((b) => b.index === 4)?.cpuAddress;
  if (notify === undefined) return `${fn.name}: BAR4 not assigned`;
  let ok = 0;
  for (let q = 1; q <= VIRTIO_SCSI_QUEUES; q++) {
    const before = s.taken.get(queues) ?? 0;
    yield op.write(notify + VIRTIO_NOTIFY_OFFSET, 2, q);
    for (let t = 0; t < QUEUE_TIMEOUT_MS && (s.taken.get(queues) ?? 0) === before; t++) yield* mdelay(1, g.hz);
    if ((s.taken.get(queues) ?? 0) > before) ok++;
    else yield* putLine(sys.console, `virtio-scsi: queue ${q}: no interrupt within ${QUEUE_TIMEOUT_MS} ms`);
  }
  yield* putLine(sys.console, `virtio-scsi: ${ok} of ${VIRTIO_SCSI_QUEUES} queues completed, ${s.taken.get(queues) ?? 0} interrupts on LPI ${queues}`);
  for (let q = 1; q <= VIRTIO_SCSI_QUEUES; q++) yield op.write(notify + VIRTIO_NOTIFY_OFFSET, 2, q);
  yield* putLine(sys.console, `virtio-scsi: ${VIRTIO_SCSI_QUEUES} requests in flight`);
  return undefined;
}

function* nothing(): GuestCode {
  // The handler's work is the count the caller keeps.
}

/** The firmware's vector: acknowledge, count by INTID, EOI. */
function* firmwareVector(seen: Map<number, number>): GuestCode {
  const intid = (yield op.mrs(ICC_IAR1_EL1)).value & 0xff_ffff;
  if (intid >= GIC_SPECIAL_FIRST && intid <= 1023) return;
  seen.set(intid, (seen.get(intid) ?? 0) + 1);
  yield op.msr(ICC_EOIR1_EL1, intid);
}

/** The line the firmware prints about what it saw. */
export function firmwareLine(seen: ReadonlyMap<number, number>): string {
  const total = [...seen.values()].reduce((a, b) => a + b, 0);
  if (total === 0) return "firmware: no unexpected interrupts";
  const list = [...seen].sort((a, b) => a[0] - b[0]).map(([i, n]) => `${i >= 8192 ? "LPI" : "INTID"} ${i} x${n}`);
  return `firmware: ${total} unexpected interrupt${total === 1 ? "" : "s"} (${list.join(", ")})`;
}

/** Creates the `virtio-shared-vector` image. */
export function virtioSharedVectorImage(): GuestImage {
  // Survives the reset: which program runs at this boot.
  let boots = 0;
  let driverState: DriverState | undefined;
  let firmwareSeen: Map<number, number> | undefined;
  return {
    main: function* (bootRegs) {
      boots++;
      driverState = undefined;
      firmwareSeen = undefined;
      if (boots === 1) {
        const g = yield* gicBoot(bootRegs, "virtio-shared-vector", 64);
        yield* printBanner(g.sys, "virtio-shared-vector");
        const s: DriverState = { g, taken: new Map() };
        driverState = s;
        const err = yield* driver(s);
        if (err !== undefined) return yield* panic(g.sys, `virtio-shared-vector: ${err}`);
        return yield* restart(g.sys);
      }
      const g = yield* gicBoot(bootRegs, "virtio-shared-vector firmware", 64);
      yield* printBanner(g.sys, "virtio-shared-vector firmware");
      const seen = new Map<number, number>();
      firmwareSeen = seen;
      yield* putLine(g.sys.console, `firmware: no LPI mapped; listening for ${FIRMWARE_LISTEN_MS} ms`);
      yield op.unmask();
      yield* mdelay(FIRMWARE_LISTEN_MS, g.hz);
      yield op.mask();
      yield* putLine(g.sys.console, firmwareLine(seen));
      return yield* powerOff(g.sys);
    },
    vector: function* () {
      if (driverState !== undefined) yield* gicHandleIrq(driverState.g.gic);
      else if (firmwareSeen !== undefined) yield* firmwareVector(firmwareSeen);
    },
  };
}
