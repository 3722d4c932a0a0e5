/**
 * The vfio-platform pieces alone, on an event queue: the simulated host
 * device's registers, Linux's vfio-platform IRQ handling (automask, the
 * unmask virqfd, edges latched before request_irq, VFIO_DEVICE_SET_IRQS
 * errors) and QEMU's userspace path (vfio_intp_interrupt, EOI on a trapped
 * access, the mmap timer), with a recording sysbus IRQ and a fake KVM.
 */
import { EventFd } from "@irqlab/kvm";
import { EventQueue, GUEST_ERROR, Tracer, newGuestResult } from "@irqlab/sim";
import { describe, expect, test } from "vitest";
import {
  IRQLAB_PDEV_ACK,
  IRQLAB_PDEV_COUNT,
  IRQLAB_PDEV_ID,
  IRQLAB_PDEV_ID_VALUE,
  IRQLAB_PDEV_RAISE,
  IRQLAB_PDEV_STATUS,
  VFIO_IRQ_INFO_AUTOMASKED,
  VFIO_IRQ_INFO_EVENTFD,
  VFIO_IRQ_INFO_MASKABLE,
  VFIO_IRQ_SET_ACTION_MASK,
  VFIO_IRQ_SET_ACTION_TRIGGER,
  VFIO_IRQ_SET_ACTION_UNMASK,
  VFIO_IRQ_SET_DATA_EVENTFD,
  VFIO_IRQ_SET_DATA_NONE,
  VfioPlatformHostDevice,
  type HostIrqTrigger,
} from "./vfio-platform-host.js";
import { VfioPlatformDevice, type VfioIrqfdBackend } from "./vfio-platform.js";

function hostRig(trigger: HostIrqTrigger, lineHigh = false): { q: EventQueue; tracer: Tracer; host: VfioPlatformHostDevice } {
  const q = new EventQueue();
  const tracer = new Tracer(q);
  return { q, tracer, host: new VfioPlatformHostDevice({ trigger, lineHigh, timers: q, tracer, name: "pdev" }) };
}

const wide = newGuestResult();
const rd = (d: { read: VfioPlatformHostDevice["read"] }, off: number): number => d.read(off, 4, wide);
const trigger = (fd: EventFd | undefined) => ({ flags: VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER, index: 0, start: 0, count: 1, eventfd: fd });

describe("the simulated host device", () => {
  test("registers: ID, STATUS (line, event, edge), ACK lowers the line, COUNT, RAISE; guest errors", () => {
    const { tracer, host } = hostRig("level");
    expect(rd(host, IRQLAB_PDEV_ID)).toBe(IRQLAB_PDEV_ID_VALUE);
    expect(rd(host, IRQLAB_PDEV_STATUS)).toBe(0);
    host.write(IRQLAB_PDEV_RAISE, 4, 1, 0);
    expect([rd(host, IRQLAB_PDEV_STATUS), rd(host, IRQLAB_PDEV_COUNT)]).toEqual([0b011, 1]);
    host.write(IRQLAB_PDEV_ACK, 4, 1, 0);
    expect([rd(host, IRQLAB_PDEV_STATUS), host.line, host.state().acks]).toEqual([0, false, 1]);
    expect(rd(host, IRQLAB_PDEV_ACK)).toBe(0); // write-only reads 0, no error
    expect(tracer.counters.get(GUEST_ERROR)).toBe(0);
    expect(host.read(IRQLAB_PDEV_STATUS, 2, wide)).toBe(0);
    host.write(IRQLAB_PDEV_ID, 4, 0, 0);
    expect(rd(host, 0x800)).toBe(0);
    expect(tracer.counters.toJSON()).toMatchObject({
      [GUEST_ERROR]: 3,
      [`${GUEST_ERROR}:pdev:access`]: 1,
      [`${GUEST_ERROR}:pdev:read-only`]: 1,
      [`${GUEST_ERROR}:pdev:offset`]: 1,
    });
    const edge = hostRig("edge").host;
    edge.hostPulse();
    expect([rd(edge, IRQLAB_PDEV_STATUS), edge.line]).toEqual([0b110, false]); // EVENT | EDGE, the line back low
  });

  test("level: VFIO_IRQ_INFO_MASKABLE | AUTOMASKED; a high line fires 1 us after request_irq, is automasked, fires again after unmask while high", () => {
    const { q, host } = hostRig("level", true);
    expect(host.irqInfoFlags).toBe(VFIO_IRQ_INFO_EVENTFD | VFIO_IRQ_INFO_MASKABLE | VFIO_IRQ_INFO_AUTOMASKED);
    const fd = new EventFd(0, 7);
    q.runUntil(10_000);
    expect(fd.count).toBe(0); // nobody requested it yet
    host.setIrqs(trigger(fd));
    q.runUntil(q.now + 999);
    expect(fd.count).toBe(0);
    q.runUntil(q.now + 1);
    expect([fd.count, host.state().masked]).toEqual([1, true]);
    q.runUntil(q.now + 10_000);
    expect(fd.count).toBe(1); // masked: no more
    const unmask = { flags: VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_UNMASK, index: 0, start: 0, count: 1 };
    host.setIrqs(unmask);
    q.runUntil(q.now + 1_000);
    expect(fd.count).toBe(2); // still high: taken again
    host.hostLine(false);
    host.setIrqs(unmask);
    q.runUntil(q.now + 10_000);
    expect([fd.count, host.state().masked, host.state().unmasks]).toEqual([2, false, 2]);
  });

  test("level: the unmask eventfd (virqfd) unmasks, including a signal pending when it is set; a line that drops before the host takes it is not taken", () => {
    const { q, host } = hostRig("level");
    const fd = new EventFd(0, 7);
    const unmaskFd = new EventFd(1, 8); // already signalled
    host.setIrqs(trigger(fd));
    host.hostLine(true);
    q.runUntil(1_000);
    expect(host.state().masked).toBe(true);
    host.setIrqs({ flags: VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_UNMASK, index: 0, start: 0, count: 1, eventfd: unmaskFd });
    expect([unmaskFd.count, host.state().masked]).toEqual([0, false]); // drained and unmasked at registration
    host.hostLine(false); // before the host took the re-fire
    q.runUntil(q.now + 10_000);
    expect(fd.count).toBe(1);
    host.hostLine(true);
    q.runUntil(q.now + 1_000);
    expect(fd.count).toBe(2);
    unmaskFd.signal();
    expect(host.state().masked).toBe(false);
  });

  test("edge: an edge before request_irq stays pending in the host GIC and is taken at request_irq; edges while one is pending merge", () => {
    const { q, host } = hostRig("edge");
    expect(host.irqInfoFlags).toBe(VFIO_IRQ_INFO_EVENTFD);
    host.hostPulse();
    host.hostPulse();
    const fd = new EventFd(0, 7);
    host.setIrqs(trigger(fd));
    q.runUntil(5_000);
    expect(fd.count).toBe(1);
    host.hostPulse();
    q.runUntil(q.now + 5_000);
    host.hostPulse();
    q.runUntil(q.now + 5_000);
    expect([fd.count, host.state().raised, host.state().signalled]).toEqual([3, 4, 3]);
    host.setIrqs({ flags: VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER, index: 0, start: 0, count: 0 }); // free_irq
    host.hostPulse();
    q.runUntil(q.now + 5_000);
    expect([fd.count, host.state().requested, host.state().edgePending]).toEqual([3, false, true]);
  });

  test("VFIO_DEVICE_SET_IRQS errors as vfio_platform_set_irqs_ioctl returns them", () => {
    const edge = hostRig("edge").host;
    const level = hostRig("level").host;
    const code = (f: () => void): string => {
      try {
        f();
        return "ok";
      } catch (e) {
        return (e as { code: string }).code;
      }
    };
    expect(code(() => { level.setIrqs({ ...trigger(undefined), index: 1 }); })).toBe("EINVAL");
    expect(code(() => { level.setIrqs({ ...trigger(undefined), count: 2 }); })).toBe("EINVAL");
    expect(code(() => { edge.setIrqs({ flags: VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_MASK, index: 0, start: 0, count: 1 }); })).toBe("EINVAL");
    expect(code(() => { level.setIrqs({ flags: VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_MASK, index: 0, start: 0, count: 1 }); })).toBe("EINVAL");
    expect(code(() => { level.setIrqs({ flags: VFIO_IRQ_SET_DATA_NONE, index: 0, start: 0, count: 1 }); })).toBe("ENOTTY");
    expect(code(() => { level.setIrqs({ flags: VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_MASK, index: 0, start: 0, count: 1 }); })).toBe("ok");
  });
});

/** QEMU's device over a host device, with a recording sysbus IRQ. */
function deviceRig(o: { trigger: HostIrqTrigger; lineHigh?: boolean; noMmap?: boolean; mmapTimeoutMs?: number; irqfd?: boolean }) {
  const { q, tracer, host } = hostRig(o.trigger, o.lineHigh ?? false);
  const levels: boolean[] = [];
  let nextFd = 100;
  const dev = new VfioPlatformDevice({
    host,
    tracer,
    name: "vfio",
    timers: q,
    irq: (l) => levels.push(l),
    newEventFd: () => new EventFd(0, nextFd++),
    ...(o.noMmap === undefined ? {} : { noMmap: o.noMmap }),
    ...(o.mmapTimeoutMs === undefined ? {} : { mmapTimeoutMs: o.mmapTimeoutMs }),
    ...(o.irqfd === undefined ? {} : { irqfdAllowed: o.irqfd }),
  });
  return { q, host, dev, levels };
}

describe("QEMU's vfio-platform device", () => {
  test("irqfd: the backend gets the trigger and (level) the unmask eventfd as resamplefd; QEMU reads nothing", () => {
    const { q, dev, levels } = deviceRig({ trigger: "level", lineHigh: true });
    const got: string[] = [];
    const kvm: VfioIrqfdBackend = { addIrqfdNotifier: (t, r) => (got.push(`${t.fd}/${r?.fd ?? -1}`), undefined) };
    dev.startIrqfdInjection(kvm, true);
    expect(got).toEqual(["100/101"]);
    q.runUntil(100_000);
    expect([dev.interrupt.count, levels.length, dev.state().userspaceInterrupts]).toEqual([1, 0, 0]); // nobody drains it here: KVM would
    expect(() => { dev.startIrqfdInjection(kvm, true); }).toThrow(/already connected/);
  });

  test.each([
    [{ irqfd: false }, true, undefined, "x-irqfd=off"],
    [{}, false, undefined, "no KVM resamplefds"],
    [{}, true, "EAGAIN", "KVM_IRQFD: EAGAIN"],
  ])("fallback %j resamplefds=%s KVM_IRQFD→%s: %s", (o, resamplefds, errno, reason) => {
    const { dev } = deviceRig({ trigger: "edge", ...o });
    dev.startIrqfdInjection({ addIrqfdNotifier: () => errno }, resamplefds);
    expect([dev.injection, dev.state().fallbackReason]).toEqual(["userspace", reason]);
  });

  test("userspace: the main loop reads the eventfd 2 us later and raises the IRQ; only a trapped access is the EOI; the mmap timer restores the fast path", () => {
    const { q, dev, host, levels } = deviceRig({ trigger: "level", mmapTimeoutMs: 1 });
    dev.startEventfdInjection();
    rd(dev, IRQLAB_PDEV_STATUS); // fast path, nothing active: no EOI
    host.hostPulse();
    q.runUntil(2_999);
    expect(levels).toEqual([]);
    q.runUntil(3_000); // 1 us host IRQ + 2 us main loop
    expect([levels, dev.state().active, dev.state().mmapEnabled, dev.interrupt.count]).toEqual([[true], true, false, 0]);
    q.runUntil(3_000_000); // the timer re-arms while the IRQ is active
    expect(dev.state().mmapEnabled).toBe(false);
    dev.write(IRQLAB_PDEV_ACK, 4, 1, 0); // trapped: pwrite, then vfio_platform_eoi
    expect([levels, dev.state().active, host.state().masked, dev.state().eois]).toEqual([[true, false], false, false, 1]);
    rd(dev, IRQLAB_PDEV_STATUS); // still trapped, nothing active
    expect(dev.state().eois).toBe(1);
    q.runUntil(5_000_000);
    expect(dev.state().mmapEnabled).toBe(true);
    expect(host.state().signalled).toBe(1);
  });

  test("x-no-mmap: every access is trapped; an edge IRQ is not unmasked at EOI; mmap-timeout-ms=0 arms no timer", () => {
    const { q, dev, host, levels } = deviceRig({ trigger: "edge", noMmap: true, mmapTimeoutMs: 0 });
    dev.startEventfdInjection();
    expect(dev.state().mmapEnabled).toBe(false);
    host.hostPulse();
    q.runUntil(10_000);
    expect(q.pending).toBe(0);
    rd(dev, IRQLAB_PDEV_ID);
    expect([levels, host.state().unmasks, dev.state().eois]).toEqual([[true, false], 0, 1]);
  });

  test("a pending signal at vfio_start_eventfd_injection is handled; an empty eventfd counts as \"Error when clearing fd\"", () => {
    const { q, dev, levels } = deviceRig({ trigger: "edge" });
    dev.interrupt.signal();
    dev.startEventfdInjection();
    dev.interrupt.drain(); // someone else read it before the main loop did
    q.runUntil(10_000);
    expect([levels, dev.state().clearErrors]).toEqual([[true], 1]);
  });

  test("a system reset only counts (vfio_platform_hot_reset_multi returns -1)", () => {
    const { dev } = deviceRig({ trigger: "level" });
    expect(dev.systemReset()).toBe(-1);
    expect(dev.state().resets).toBe(1);
  });
});
