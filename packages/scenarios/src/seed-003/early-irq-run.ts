/**
 * One run of seed 003 (irqfd before the vgic is ready) for one remedy and
 * one trigger: an arm64 `virt` machine started paused (-S) with
 * `-device vfio-platform` whose host line is already high when QEMU opens
 * it ("as soon as VFIO driver calls request_irq, the IRQ hits"). The host
 * runs `pausedNs` before `cont` — in QEMU the first KVM_RUN comes well after
 * machine-init-done set up VFIO and KVM_IRQFD — and then the guest boots
 * for `probeAfterNs` before its driver enables the SPI. Measured: whether
 * and when the guest took the interrupt, how often, how many injections
 * the vgic dropped before it was initialised.
 */

import { Machine, MachineHost, parseSystemCommandLine, plugVfioPlatformDevice, type DeviceContext, type DeviceConfig } from "@irqlab/machine";
import type { VgicInitMode } from "@irqlab/kvm";
import { guestInForm } from "../framework/guest-form.js";
import { gicSpiGuest, type SpiTarget } from "./gic-spi-guest.js";
import { plugRetryingVfioPlatform, type RetryingVfioPlatform } from "./retrying-vfio-platform.js";

/** The remedy's kernel and VMM. */
export interface EarlyIrqRemedyConfig {
  /** `-M virt,x-vgic-init=`: QEMU initialises the vgic at board init (CTRL_INIT) or leaves it to the first KVM_RUN. */
  readonly vgicInit: "board-init" | "first-run";
  /** The host kernel's vgic. */
  readonly kernel: VgicInitMode;
  /** The VMM retries KVM_IRQFD on EAGAIN (else QEMU's vfio_start_irqfd_injection). */
  readonly retryIrqfd: boolean;
}

/** What one run measured. */
export interface EarlyIrqResult {
  readonly commandLine: string;
  /** Virtual µs after `cont` at which the guest took the device's SPI, in order. */
  readonly takenUs: readonly number[];
  /** Injections the vgic dropped because it was not initialised (counter vgic.dropped_before_init). */
  readonly dropped: number;
  /** Host interrupts VFIO signalled. */
  readonly signalled: number;
  /** KVM_IRQFD refusals (EAGAIN) the VMM retried. */
  readonly eagains: number;
  /** How the device's interrupt was injected in the end ("irqfd", "userspace"). */
  readonly injection: string;
  /** The machine, after the run. */
  readonly machine: Machine;
}

/** Run timing. */
export interface EarlyIrqTiming {
  readonly pausedNs: number;
  readonly probeAfterNs: number;
  readonly runNs: number;
  /** eagain-retry: the VMM's KVM_IRQFD retry period. */
  readonly retryNs: number;
}

/** The qemu-system-aarch64 command line. */
export function earlyIrqCommandLine(edge: boolean, r: EarlyIrqRemedyConfig): string[] {
  return [
    "-M",
    `virt,x-vgic-init=${r.vgicInit}`,
    "-accel",
    "kvm",
    "-cpu",
    "host",
    "-smp",
    "1",
    "-m",
    "64M",
    "-S",
    "-device",
    `vfio-platform,host=${edge ? "gpio-keys" : "xgmac"},x-irqlab-trigger=${edge ? "edge" : "level"},x-irqlab-line=high`,
  ];
}

/** Runs one machine. Deterministic. With `loopForm`, the guest runs in its loop form (ScenarioRunOptions.loopForm). */
export function runEarlyIrq(edge: boolean, r: EarlyIrqRemedyConfig, t: EarlyIrqTiming, trace: boolean, loopForm = false): EarlyIrqResult {
  const argv = earlyIrqCommandLine(edge, r);
  const p = parseSystemCommandLine("aarch64", argv);
  if (p.kind !== "run") throw new Error(`scenario command line did not parse: ${argv.join(" ")}`);
  const host = new MachineHost({ arch: "aarch64", vgicInitMode: r.kernel, trace });
  const target: SpiTarget = { base: 0, intid: 0 };
  const taken: number[] = [];
  let startedAt = 0;
  let status: () => { injection: string; signalled: number; eagains: number } = () => ({ injection: "none", signalled: 0, eagains: 0 });
  const plug = (ctx: DeviceContext, d: DeviceConfig): void => {
    if (r.retryIrqfd) {
      plugRetryingVfioPlatform(ctx, d, (x: RetryingVfioPlatform) => {
        target.base = x.base;
        target.intid = x.intid;
        status = () => ({ injection: x.device.injection, signalled: x.host.state().signalled, eagains: x.eagains() });
      }, t.retryNs);
      return;
    }
    const x = plugVfioPlatformDevice(ctx, d);
    target.base = x.base;
    target.intid = x.guestIrq;
    status = () => {
      const s = x.status();
      return { injection: s.injection, signalled: s.host.signalled, eagains: s.fallbackReason === "KVM_IRQFD: EAGAIN" ? 1 : 0 };
    };
  };
  const machine = Machine.create({
    host,
    config: p.config,
    kernel: guestInForm(
      gicSpiGuest({
        target,
        edge,
        probeAfterNs: t.probeAfterNs,
        seen: (intid) => {
          if (intid === target.intid) taken.push(Math.round((host.queue.now - startedAt) / 10) / 100);
        },
      }),
      loopForm,
    ),
    drivers: new Map([["vfio-platform", plug]]),
  });
  host.run(host.queue.now + t.pausedNs);
  startedAt = host.queue.now;
  machine.cont();
  machine.run(t.runNs);
  const s = status();
  return {
    commandLine: `irqlab system-aarch64 ${argv.join(" ")}`,
    takenUs: taken,
    dropped: host.tracer.counters.get("vgic.dropped_before_init"),
    signalled: s.signalled,
    eagains: s.eagains,
    injection: s.injection,
    machine,
  };
}
