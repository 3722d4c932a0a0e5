/**
 * `-device vfio-platform` under a VMM that retries KVM_IRQFD: the seed-003
 * remedy where the kernel refuses an irqfd with EAGAIN until the vgic is
 * initialised (kvm_arch_intc_initialized() in kvm_irqfd_assign, v5 of Eric
 * Auger's series) and the vgic is still initialised at the first KVM_RUN,
 * so the VMM — which sets the irqfd up at machine-init-done, before any
 * KVM_RUN — has to try again later ("In case we keep the current
 * initialization model (on first vcpu run), I need to use some timer").
 *
 * The device is the machine's own (VfioPlatformDevice over the simulated
 * host device, in the platform bus window); only the connect step differs
 * from QEMU's vfio_start_irqfd_injection, which falls back to its userspace
 * path on any KVM_IRQFD error: here KVM_IRQFD is retried every
 * `retryNs` while it fails with EAGAIN, and VFIO's signalling
 * (VFIO_DEVICE_SET_IRQS TRIGGER/UNMASK) is set up once it succeeds, so the
 * host IRQ is requested only when KVM can take it.
 */

import { KVM_ARM_IRQ_TYPE_SHIFT, KVM_ARM_IRQ_TYPE_SPI, KVM_IRQFD_FLAG_RESAMPLE, KvmError } from "@irqlab/kvm";
import { IRQLAB_PDEV_REGION_SIZE, VfioPlatformDevice, VfioPlatformHostDevice, parseVfioPlatformProps, type DeviceConfig, type DeviceContext } from "@irqlab/machine";

/** What the scenario reads of a plugged retrying device. */
export interface RetryingVfioPlatform {
  readonly device: VfioPlatformDevice;
  readonly host: VfioPlatformHostDevice;
  readonly base: number;
  /** INTID of its SPI (32 + GSI). */
  readonly intid: number;
  /** KVM_IRQFD attempts refused with EAGAIN. */
  readonly eagains: () => number;
}

/** Default retry period of the VMM (10 µs of virtual time). */
export const IRQFD_RETRY_NS = 10_000;

/** Plugs the device; `plugged` receives it (during board init). */
export function plugRetryingVfioPlatform(ctx: DeviceContext, d: DeviceConfig, plugged: (p: RetryingVfioPlatform) => void, retryNs = IRQFD_RETRY_NS): void {
  const config = parseVfioPlatformProps(d.props);
  const name = `${ctx.name}/vfio-platform:${d.id ?? config.name}`;
  const host = new VfioPlatformHostDevice({ tracer: ctx.tracer, name: `${name}/host`, trigger: config.trigger, lineHigh: config.lineHigh, timers: ctx.queue });
  const base = ctx.platformBus.allocateMmio(ctx.bus, IRQLAB_PDEV_REGION_SIZE);
  const gsi = ctx.platformBus.allocateIrq();
  const intid = 32 + gsi;
  const kvmIrq = ((KVM_ARM_IRQ_TYPE_SPI << KVM_ARM_IRQ_TYPE_SHIFT) | intid) >>> 0;
  const device = new VfioPlatformDevice({
    tracer: ctx.tracer,
    name,
    host,
    timers: ctx.queue,
    newEventFd: () => ctx.routes.newEventFd(),
    calls: ctx.calls,
    irq: (level) => {
      ctx.calls.call("KVM_IRQ_LINE", `irq=0x${kvmIrq.toString(16)} level=${level ? 1 : 0}`, () => {
        ctx.vm.irqLine(kvmIrq, level ? 1 : 0);
      });
    },
  });
  ctx.bus.map(base, IRQLAB_PDEV_REGION_SIZE, device, `vfio-platform:${config.name}`);
  let eagains = 0;
  const attempt = (): void => {
    const resample = device.unmask;
    try {
      ctx.calls.call("KVM_IRQFD", `fd=${device.interrupt.fd} gsi=${gsi}${resample === undefined ? "" : ` flags=RESAMPLE resamplefd=${resample.fd}`}`, () => {
        ctx.vm.irqfd({ fd: device.interrupt, gsi, flags: resample === undefined ? 0 : KVM_IRQFD_FLAG_RESAMPLE, ...(resample === undefined ? {} : { resamplefd: resample }) });
      });
    } catch (e) {
      if (!(e instanceof KvmError) || e.code !== "EAGAIN") throw e;
      eagains++;
      ctx.queue.scheduleAfter(retryNs, attempt);
      return;
    }
    // The irqfd is in place: connect VFIO's signalling to it (the backend reports the assignment done).
    device.startIrqfdInjection({ addIrqfdNotifier: () => undefined }, true);
  };
  ctx.addMachineInitDoneNotifier(attempt);
  plugged({ device, host, base, intid, eagains: () => eagains });
}
