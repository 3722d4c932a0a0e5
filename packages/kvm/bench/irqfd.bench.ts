/**
 * irqfd end to end (target ≥ 2 M/s): an eventfd is signalled → KVM's
 * irqfd injects SPI 40 into the vgic-v3 → the vCPU takes the interrupt and its
 * GICv3 driver acknowledges it (ICC_IAR1_EL1) and completes it
 * (ICC_EOIR1_EL1). One call runs N interrupts; names end in "[xN]".
 *
 * - "doorbell": the guest rings an in-kernel device register (on the VM's
 *   kernel MMIO bus) whose handler signals the eventfd — the vCPU is running
 *   when the interrupt arrives (trap, request, re-entry, exception, IAR, EOI).
 * - "WFI" (irqfd-wfi.bench.ts, its own process): the device signals while
 *   the vCPU is blocked in WFI — adds the event queue, the halt and the wake-up.
 *
 * `meta.virtualNsPerOp` is the virtual time per interrupt under the default
 * cost model.
 */
import type { MmioDevice } from "@irqlab/sim";
import { bench, describe } from "vitest";
import { KVM_EXIT_INTR, type Vcpu } from "../src/index.js";
import { N, rig } from "./irqfd-rig.js";

const DOORBELL = 0x0a00_0000;


/** Virtual ns per interrupt of a bench call, measured on one warm-up call. */
function virtualNs(run: () => void, vcpu: Vcpu): number {
  const q = vcpu.vm.queue;
  run();
  const t0 = q.now;
  run();
  return Math.round((q.now - t0) / N);
}

function doorbellBench(): { run: () => void; vcpu: Vcpu } {
  const r = rig(true, DOORBELL);
  let rings = 0;
  const doorbell: MmioDevice = {
    read: () => 0,
    write: () => {
      if (rings === N) {
        r.vcpu.kick(); // the batch is done: leave KVM_RUN
        return;
      }
      rings++;
      r.fd.signal();
    },
  };
  r.vcpu.vm.kernelBus.map(DOORBELL, 4, doorbell, "doorbell");
  const run = (): void => {
    const before = r.completed();
    rings = 0;
    r.vcpu.kvmRun.immediateExit = 0;
    const e = r.vcpu.run();
    if (e.reason !== KVM_EXIT_INTR || r.completed() - before !== N) throw new Error(`expected ${N} completed interrupts, got ${r.completed() - before}`);
  };
  return { run, vcpu: r.vcpu };
}

describe("irqfd → vgic-v3 → guest IAR/EOI", () => {
  const b = doorbellBench();
  bench(`doorbell: guest rings device → eventfd → irqfd → IRQ → ICC_IAR1 + ICC_EOIR1 [x${N}]`, b.run, {
    meta: { virtualNsPerOp: virtualNs(b.run, b.vcpu) },
  } as object);
});
