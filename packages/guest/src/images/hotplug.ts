/**
 * The `hotplug` image (arm64): a guest that takes CPU hotplug the way Linux
 * does on QEMU's arm virt with the vCPU hotplug series, through irqlab's
 * `irqlab,cpu-hotplug` node (QEMU's ACPI CPU hotplug block and GED,
 * ./hotplug-cpuhp.ts) instead of ACPI. With `-smp cpus=2,maxcpus=4` and
 * -M virt,x-cpu-hotplug=precreate, a plug of CPU 2 and its unplug print:
 *
 *     Machine model: linux,dummy-virt
 *     irqlab hotplug on aarch64: 2 CPUs, 128 MiB RAM
 *     cpuhp: /cpu-hotplug@90d0000: 4 possible CPUs, 2 present, GED on SPI 9
 *     smp: Bringing up secondary CPUs ...
 *     CPU1: Booted secondary processor 0x0000000001
 *     smp: Brought up 1 node, 2 CPUs
 *     ACPI: CPU2 has been hot-added
 *     CPU2: Booted secondary processor 0x0000000002
 *     CPU2: IPI (SGI 1) from CPU0 received
 *     CPU2: eject request
 *     CPU2: shutdown
 *     psci: CPU2 killed (polled 0 ms)
 *     cpuhp: CPU2 ejected
 *
 * Linux's texts: "ACPI: CPU%d has been hot-added" (acpi_processor_hotadd_init),
 * "CPU%u: Booted secondary processor" (secondary_start_kernel, without Linux's
 * [MIDR]: irqlab's vCPUs have no MIDR_EL1), "CPU%u: shutdown"
 * (arch_cpuhp_cleanup_dead_cpu), "psci: CPU%d killed (polled %d ms)"
 * (psci_cpu_kill), "smp: Brought up %d node, %d CPUs" (smp_cpus_done); the
 * IPI, eject-request and "cpuhp:" lines are the image's own.
 *
 * At boot the image learns every possible CPU's MPIDR from the block
 * (CPHP_GET_CPU_ID_CMD, what the MADT gives an ACPI guest; /cpus lists only
 * the CPUs present at boot) and numbers them after the present ones, as
 * Linux numbers the MADT's online-capable GICC entries. It brings the GIC up
 * (arm/gicv3-driver.ts), the secondaries of /cpus with PSCI CPU_ON (and
 * any CPU the block says is present that /cpus does not list: one plugged
 * before a reboot), and
 * enables the GED interrupt (SPI, rising edge) on the boot CPU. The GED
 * handler only notes the event; the boot CPU's idle loop then scans the
 * block (CSCN): for an inserted CPU it starts it with CPU_ON, waits for it
 * to come online, sends it SGI 1 and waits for the IPI to arrive, and
 * reports _OST(Device Check, success); for a removal it reports
 * _OST(Eject Request, ejection pending), has the CPU call PSCI CPU_OFF (an IPI
 * with a request in its record), polls PSCI AFFINITY_INFO until the CPU is
 * off (Linux psci_cpu_kill), ejects it (_EJ0) and reports _OST(Eject
 * Request, success).
 */

import { op, type Nanoseconds } from "@irqlab/sim";
import { gicCpuInit, gicIrqVector, gicSendSgi } from "../arm/gicv3-cpu.js";
import { Gicv3Driver } from "../arm/gicv3-driver.js";
import { setCpuId } from "../arm/arm-timer.js";
import { allocateBootMemory } from "../boot/boot-memory.js";
import { boot, type BootedGuest } from "../boot/boot.js";
import { hex } from "../boot/dt-read.js";
import { halt, panic } from "../boot/panic.js";
import type { CpuInfo } from "../boot/platform-info.js";
import { putLine } from "../console/console.js";
import type { GuestCode, GuestImage } from "../guest-image.js";
import { cpuOff, cpuOn, firmwareError } from "../power/power.js";
import { psciCall } from "../power/psci.js";
import { HotplugArea } from "./hotplug-area.js";
import {
  ACPI_NOTIFY_DEVICE_CHECK,
  ACPI_NOTIFY_EJECT_REQUEST,
  ACPI_OST_SC_DEVICE_BUSY,
  ACPI_OST_SC_EJECT_IN_PROGRESS,
  ACPI_OST_SC_NON_SPECIFIC_FAILURE,
  ACPI_OST_SC_SUCCESS,
  CpuHotplugPort,
  GED_CPU_HOTPLUG_EVT,
  findCpuHotplug,
} from "./hotplug-cpuhp.js";
import { printBanner, type ImageOptions } from "./image-common.js";
import { ONLINE_POLL_NS, SECONDARY_TIMEOUT_NS } from "./smp-hello.js";

/** The SGI the image sends: Linux arm64's IPI_CALL_FUNC. */
export const HOTPLUG_IPI_SGI = 1;
/** How long the boot CPU waits for an IPI to be taken. */
export const IPI_TIMEOUT_NS: Nanoseconds = 10_000_000;
/** psci_cpu_kill(): AFFINITY_INFO is polled for up to 100 ms. */
export const KILL_TIMEOUT_NS: Nanoseconds = 100_000_000;
/** PSCI AFFINITY_INFO, SMC64 (DEN0022 §5.1.8), and its answers. */
export const PSCI_0_2_FN64_AFFINITY_INFO = 0xc400_0004;
export const PSCI_0_2_AFFINITY_LEVEL_ON = 0;
export const PSCI_0_2_AFFINITY_LEVEL_OFF = 1;

/** "CPU2: Booted secondary processor 0x0000000002" (arm64 secondary_start_kernel, without the MIDR). */
export function bootedLine(logical: number, hwid: number): string {
  return `CPU${logical}: Booted secondary processor 0x${hwid.toString(16).padStart(10, "0")}`;
}

/** The kernel's data, set up by the boot CPU before it starts another. */
interface HotplugState {
  readonly sys: BootedGuest;
  readonly area: HotplugArea;
  readonly drv: Gicv3Driver;
  readonly port: CpuHotplugPort;
  /** Logical CPU by hotplug slot. */
  readonly logicalOf: ReadonlyMap<number, number>;
  /** Set by the GED handler on the boot CPU, consumed by its idle loop. */
  scanPending: boolean;
}

/** Creates the `hotplug` image. */
export function hotplugImage(options: ImageOptions = {}): GuestImage {
  let state: HotplugState | undefined;

  function* say(s: HotplugState, logical: number, line: string): GuestCode {
    yield* s.area.lock.lock(logical);
    yield* putLine(s.sys.console, line);
    yield* s.area.lock.unlock(logical);
  }

  /** Polls `cond` every ONLINE_POLL_NS for up to `limit`; returns whether it held and the time waited. */
  function* waitFor(cond: () => GuestCode<boolean>, limit: Nanoseconds): GuestCode<{ ok: boolean; waited: Nanoseconds }> {
    const pause = op.compute(ONLINE_POLL_NS);
    for (let waited = 0; waited < limit; waited += ONLINE_POLL_NS) {
      if (yield* cond()) return { ok: true, waited };
      yield pause;
    }
    return { ok: yield* cond(), waited: limit };
  }

  /** __cpu_up(): CPU_ON, then wait for the CPU to say it is online. Returns whether it came up. */
  function* bringUp(s: HotplugState, cpu: CpuInfo): GuestCode<boolean> {
    yield* s.area.resetRecord(cpu.logical);
    const rc = yield* cpuOn(s.sys, cpu, s.area.entry, s.area.record(cpu.logical));
    if (rc !== 0) {
      yield* say(s, 0, `CPU${cpu.logical}: failed to boot: ${firmwareError("aarch64", rc)}`);
      return false;
    }
    const up = yield* waitFor(() => s.area.online(cpu.logical), SECONDARY_TIMEOUT_NS);
    if (!up.ok) yield* say(s, 0, `CPU${cpu.logical}: failed to come online`);
    return up.ok;
  }

  /** A Device Check: bring the CPU up, send it an IPI, report _OST. */
  function* hotAdd(s: HotplugState, slot: number, cpu: CpuInfo): GuestCode {
    yield* say(s, 0, `ACPI: CPU${cpu.logical} has been hot-added`);
    let status = ACPI_OST_SC_NON_SPECIFIC_FAILURE;
    if (yield* bringUp(s, cpu)) {
      const before = yield* s.area.ipis(cpu.logical);
      yield* gicSendSgi(s.drv, HOTPLUG_IPI_SGI, [cpu.logical]);
      const got = yield* waitFor(function* () {
        return (yield* s.area.ipis(cpu.logical)) > before;
      }, IPI_TIMEOUT_NS);
      yield* say(s, 0, `CPU${cpu.logical}: IPI (SGI ${HOTPLUG_IPI_SGI}) from CPU0 ${got.ok ? "received" : "not received"}`);
      if (got.ok) status = ACPI_OST_SC_SUCCESS;
    }
    yield* s.port.ost(slot, ACPI_NOTIFY_DEVICE_CHECK, status);
  }

  /** An Eject Request: take the CPU offline (CPU_OFF on it), eject it, report _OST. */
  function* hotRemove(s: HotplugState, slot: number, cpu: CpuInfo): GuestCode {
    const l = cpu.logical;
    yield* say(s, 0, `CPU${l}: eject request`);
    yield* s.port.ost(slot, ACPI_NOTIFY_EJECT_REQUEST, ACPI_OST_SC_EJECT_IN_PROGRESS);
    if (l === 0) {
      yield* s.port.ost(slot, ACPI_NOTIFY_EJECT_REQUEST, ACPI_OST_SC_DEVICE_BUSY);
      return;
    }
    if (yield* s.area.online(l)) {
      yield* s.area.requestDie(l);
      yield* gicSendSgi(s.drv, HOTPLUG_IPI_SGI, [l]);
      const dead = yield* waitFor(function* () {
        return !(yield* s.area.online(l));
      }, SECONDARY_TIMEOUT_NS);
      if (!dead.ok) {
        yield* say(s, 0, `CPU${l}: cpu didn't die`);
        yield* s.port.ost(slot, ACPI_NOTIFY_EJECT_REQUEST, ACPI_OST_SC_DEVICE_BUSY);
        return;
      }
      yield* say(s, 0, `CPU${l}: shutdown`);
      // psci_cpu_kill(): AFFINITY_INFO until the firmware says the CPU is off.
      let info = PSCI_0_2_AFFINITY_LEVEL_ON;
      const off = yield* waitFor(function* () {
        info = yield* psciCall(s.sys.psci, PSCI_0_2_FN64_AFFINITY_INFO, [cpu.hwid, 0]);
        return info === PSCI_0_2_AFFINITY_LEVEL_OFF;
      }, KILL_TIMEOUT_NS);
      if (off.ok) yield* say(s, 0, `psci: CPU${l} killed (polled ${Math.floor(off.waited / 1_000_000)} ms)`);
      else yield* say(s, 0, `CPU${l} may not have shut down cleanly (AFFINITY_INFO reports ${info})`);
    }
    yield* s.port.eject(slot);
    yield* say(s, 0, `cpuhp: CPU${l} ejected`);
    yield* s.port.ost(slot, ACPI_NOTIFY_EJECT_REQUEST, ACPI_OST_SC_SUCCESS);
  }

  /** \_SB.CPUS.CSCN: every CPU with an event, until none has one. */
  function* scan(s: HotplugState): GuestCode {
    for (let from = 0; ; ) {
      const ev = yield* s.port.nextEvent(from);
      if (ev === undefined) return;
      from = ev.slot + 1;
      const logical = s.logicalOf.get(ev.slot);
      const cpu = logical === undefined ? undefined : s.drv.cpus[logical];
      if (cpu === undefined) {
        yield* say(s, 0, `cpuhp: event for unknown CPU slot ${ev.slot}`);
        yield* s.port.ost(ev.slot, ev.kind === "insert" ? ACPI_NOTIFY_DEVICE_CHECK : ACPI_NOTIFY_EJECT_REQUEST, ACPI_OST_SC_NON_SPECIFIC_FAILURE);
        continue;
      }
      if (ev.kind === "insert") yield* hotAdd(s, ev.slot, cpu);
      else yield* hotRemove(s, ev.slot, cpu);
    }
  }

  return {
    main: function* (bootRegs) {
      state = undefined;
      const sys = yield* boot(bootRegs, { ...options, arch: options.arch ?? "aarch64" });
      yield* printBanner(sys, "hotplug");
      const gic = sys.platform.gic;
      if (gic === undefined) return yield* panic(sys, "hotplug: no GICv3 in the device tree");
      const found = findCpuHotplug(sys.fdt);
      if (found === undefined) return yield* panic(sys, "hotplug: no irqlab,cpu-hotplug node (-M virt,x-cpu-hotplug=precreate|naive adds it)");
      if (typeof found === "string") return yield* panic(sys, `hotplug: ${found}`);
      const spec = found.interrupt.cells;
      if (spec.length !== 3 || spec[0] !== 0) return yield* panic(sys, `hotplug: the GED interrupt of ${found.path} is not a GIC SPI`);
      const gedIntid = 32 + spec[1]!;
      const port = new CpuHotplugPort(found);

      // Every possible CPU: /cpus first (logical order), then the block's other slots.
      const slots = yield* port.possibleCpus();
      const cpus: CpuInfo[] = [...sys.platform.cpus];
      const logicalOf = new Map<number, number>();
      for (const sl of slots) {
        let cpu = cpus.find((c) => c.hwid === sl.hwid);
        if (cpu === undefined) {
          cpu = { logical: cpus.length, path: `${found.path}:slot${sl.slot}`, hwid: sl.hwid, enableMethod: "psci", isa: undefined, intcPhandle: undefined };
          cpus.push(cpu);
        }
        logicalOf.set(sl.slot, cpu.logical);
      }
      const present = slots.filter((sl) => sl.present).length;
      yield* putLine(sys.console, `cpuhp: ${found.path}: ${slots.length} possible CPUs, ${present} present, GED on SPI ${spec[1]}`);

      const bytes = HotplugArea.bytes(cpus.length);
      const base = allocateBootMemory(sys.platform, bytes);
      if (base === undefined) return yield* panic(sys, `hotplug: no free RAM for ${bytes} bytes of boot data`);
      const area = new HotplugArea(base, cpus.length);
      yield* area.init();
      const drv = new Gicv3Driver(gic, cpus);
      const s: HotplugState = { sys, area, drv, port, logicalOf, scanPending: false };

      yield* setCpuId(0);
      if (!(yield* drv.initDist())) return yield* panic(sys, "GICv3: RWP timeout, gone fishing");
      const err = yield* gicCpuInit(drv, 0);
      if (err !== undefined) return yield* panic(sys, err);
      drv.irqs.register(gedIntid, function* () {
        // acpi_ged_irq_handler → _EVT: the selector says which event; the scan runs outside the handler.
        if (((yield* port.readGedEvents()) & GED_CPU_HOTPLUG_EVT) !== 0) s.scanPending = true;
      });
      drv.irqs.register(HOTPLUG_IPI_SGI, function* (_hwirq, cpu) {
        yield* area.countIpi(cpu);
      });
      if ((yield* drv.setType(gedIntid, true)) !== 0) return yield* panic(sys, `hotplug: SPI ${spec[1]} cannot be made edge-triggered`);
      yield* drv.enableIrq(gedIntid);
      state = s;

      yield* say(s, 0, "smp: Bringing up secondary CPUs ...");
      let online = 1;
      // /cpus, then CPUs the block says are present that /cpus does not list (plugged before a reboot).
      const presentHwids = new Set(slots.filter((sl) => sl.present).map((sl) => sl.hwid));
      for (const cpu of cpus.slice(1)) {
        if (cpu.logical >= sys.platform.cpus.length && !presentHwids.has(cpu.hwid)) continue;
        if (yield* bringUp(s, cpu)) online++;
      }
      yield* say(s, 0, `smp: Brought up 1 node, ${online} CPU${online === 1 ? "" : "s"}`);

      // The idle loop: WFI with interrupts masked wakes on any pending interrupt, which unmasking then takes.
      for (;;) {
        yield op.mask();
        if (!s.scanPending) yield op.wfi();
        yield op.unmask();
        if (s.scanPending) {
          s.scanPending = false;
          yield* scan(s);
        }
      }
    },

    vector: gicIrqVector(() => state?.drv),

    secondary: function* (entry, context) {
      const s = state;
      if (s === undefined) return yield* halt();
      const { sys, area, drv } = s;
      const logical = area.recordIndex(context);
      if (entry !== area.entry || logical === undefined || logical === 0) {
        return yield* panic(sys, `hotplug: a CPU started at ${hex(entry)} with context ${hex(context)}, which this image did not ask for`);
      }
      if ((yield* area.storedLogical(logical)) !== logical) return yield* panic(sys, `hotplug: boot record at ${hex(context)} is corrupt`);
      yield* setCpuId(logical);
      const err = yield* gicCpuInit(drv, logical);
      if (err !== undefined) {
        yield* say(s, logical, err);
        return yield* halt();
      }
      yield* drv.enableIrq(HOTPLUG_IPI_SGI, logical);
      yield* say(s, logical, bootedLine(logical, drv.cpus[logical]!.hwid));
      yield* area.setOnline(logical, true);
      // cpu_startup_entry(): idle until asked to go offline, then PSCI CPU_OFF (cpu_die).
      for (;;) {
        yield op.mask();
        if (!(yield* area.dieRequested(logical))) yield op.wfi();
        yield op.unmask();
        if (yield* area.dieRequested(logical)) {
          yield op.mask();
          yield* area.setOnline(logical, false);
          return yield* cpuOff(sys);
        }
      }
    },
  };
}
