/**
 * irqfd end to end with the vCPU blocked in WFI (companion of irqfd.bench.ts,
 * which holds the ≥ 2 M/s target): an eventfd is signalled → KVM's
 * irqfd injects SPI 40 into the vgic-v3 → the vCPU takes the interrupt and its
 * GICv3 driver acknowledges it (ICC_IAR1_EL1) and completes it
 * (ICC_EOIR1_EL1). One call runs N interrupts; names end in "[xN]".
 *
 * - "doorbell": the guest rings an in-kernel device register (on the VM's
 *   kernel MMIO bus) whose handler signals the eventfd — the vCPU is running
 *   when the interrupt arrives (trap, request, re-entry, exception, IAR, EOI).
 * - "WFI": the device signals every PERIOD_NS of virtual time while the vCPU
 *   is blocked in WFI — adds the event queue, the halt and the wake-up.
 *
 * `meta.virtualNsPerOp` is the virtual time per interrupt under the default
 * cost model.
 */
import { bench, describe } from "vitest";
import type { Vcpu } from "../src/index.js";
import { N, rig } from "./irqfd-rig.js";

const PERIOD_NS = 10_000;


function wfiBench(edge: boolean): { run: () => void; vcpu: Vcpu } {
  const r = rig(edge);
  const q = r.vcpu.vm.queue;
  let left = 0;
  const fire = (): void => {
    r.resamplefd.drain();
    r.fd.signal();
    if (--left > 0) q.scheduleAfter(PERIOD_NS, fire);
  };
  r.vcpu.run(); // boot: the guest configures the GIC and waits in WFI
  const run = (): void => {
    const before = r.completed();
    left = N;
    q.scheduleAfter(PERIOD_NS, fire);
    r.vcpu.run();
    if (r.completed() - before !== N) throw new Error(`expected ${N} completed interrupts, got ${r.completed() - before}`);
  };
  return { run, vcpu: r.vcpu };
}

/** Virtual ns per interrupt of a bench call, measured on one warm-up call. */
function virtualNs(run: () => void, vcpu: Vcpu): number {
  const q = vcpu.vm.queue;
  run();
  const t0 = q.now;
  run();
  return Math.round((q.now - t0) / N);
}

describe("irqfd → vgic-v3 → guest IAR/EOI, vCPU blocked in WFI", () => {
  const cases: [string, { run: () => void; vcpu: Vcpu }][] = [
    [`WFI: eventfd signal → irqfd → wake-up → ICC_IAR1 + ICC_EOIR1, edge SPI [x${N}]`, wfiBench(true)],
    [`WFI: level SPI with resamplefd, signal → IAR1 + EOIR1 → resample [x${N}]`, wfiBench(false)],
  ];
  for (const [name, b] of cases) {
    // WFI batches also count the idle gap until the next device event (PERIOD_NS apart).
    bench(name, b.run, { meta: { virtualNsPerOp: virtualNs(b.run, b.vcpu) } } as object);
  }
});
