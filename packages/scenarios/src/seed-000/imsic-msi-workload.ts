/**
 * The guest of seed 000's VMs (scenario-local): a riscv64 guest that takes
 * device MSIs through its IMSIC, as Linux's imsic driver does after boot
 * (drivers/irqchip/irq-riscv-imsic-early.c imsic_starting_cpu →
 * imsic_local_delivery(true): eidelivery = 1, eithreshold = 0; an id enabled
 * in eie; the external interrupt taken from stopei, claimed by writing it).
 *
 * Every hart enables one identity, {@link workloadMsiId}(hart), in its own
 * interrupt file, so the device of the scenario sends each hart its own
 * MSI. The boot hart starts `earlyHarts` secondaries with SBI HSM
 * hart_start, the rest `lateStartNs` later (CPUs brought online later, as
 * `echo 1 > /sys/devices/system/cpu/cpuN/online` does). Every hart marks
 * itself online in a word of guest RAM (the device reads those words, as a
 * driver programs a device's MSI table once a CPU is up), then either idles
 * in WFI or computes in short slices (a busy guest), taking interrupts.
 *
 * The vector claims through stopei and hands the claimed identity to the
 * scenario's `claimed` callback: that call is the measurement point (a
 * tracepoint in the guest's handler), not something a guest could do.
 */

import { CSR_SIREG, CSR_SISELECT, CSR_STOPEI, TOPEI_ID_SHIFT } from "@irqlab/aia";
import { sbiHartStart } from "@irqlab/guest";
import { CSR_SIE, IRQ_S_EXT, type GuestImage } from "@irqlab/kvm";
import { op, type GuestProgram, type Nanoseconds } from "@irqlab/sim";

/** IMSIC indirect register numbers (AIA spec §3.8.1, Table 3.2): eidelivery, eithreshold, eie0. */
const ISELECT_EIDELIVERY = 0x70;
const ISELECT_EITHRESHOLD = 0x72;
const ISELECT_EIE0 = 0xc0;

/** Guest RAM address of the online words (4 bytes per hart), 1 MiB into RAM at 0x80000000. */
export const WORKLOAD_ONLINE_BASE = 0x8010_0000;

/** The MSI identity hart `hart` enables and the device sends it. */
export function workloadMsiId(hart: number): number {
  return 16 + hart;
}

/** Options of {@link imsicMsiWorkload}. */
export interface ImsicMsiWorkloadOptions {
  /** Harts of the VM. */
  readonly harts: number;
  /** Harts the boot hart starts at boot (including itself). */
  readonly earlyHarts: number;
  /** When the boot hart starts the others. */
  readonly lateStartNs: Nanoseconds;
  /** Compute in slices of this length instead of idling in WFI (0: idle). */
  readonly busySliceNs: Nanoseconds;
  /** The measurement point in the vector: the identity just claimed. */
  readonly claimed: (id: number) => void;
}

function* enableFile(hart: number): GuestProgram {
  const id = workloadMsiId(hart);
  yield op.csrWrite(CSR_SISELECT, ISELECT_EIDELIVERY);
  yield op.csrWrite(CSR_SIREG, 1);
  yield op.csrWrite(CSR_SISELECT, ISELECT_EITHRESHOLD);
  yield op.csrWrite(CSR_SIREG, 0);
  // eie registers hold 64 identities each on RV64 (even numbers only); ids here are < 32 + 16.
  yield op.csrWrite(CSR_SISELECT, ISELECT_EIE0 + 2 * Math.floor(id / 64));
  const bit = (1 << id % 32) >>> 0;
  yield id % 64 < 32 ? op.csrSet(CSR_SIREG, bit) : op.csrSet(CSR_SIREG, 0, bit);
  yield op.csrSet(CSR_SIE, 1 << IRQ_S_EXT);
  yield op.unmask();
  yield op.write(WORKLOAD_ONLINE_BASE + 4 * hart, 4, 1);
}

function* work(busySliceNs: Nanoseconds): GuestProgram {
  for (;;) yield busySliceNs > 0 ? op.compute(busySliceNs) : op.wfi();
}

/** The guest image: one per VM (its `claimed` callback knows the VM). */
export function imsicMsiWorkload(o: ImsicMsiWorkloadOptions): GuestImage {
  return {
    main: function* (regs: readonly number[]): GuestProgram {
      const hart = regs[0] ?? 0;
      yield* enableFile(hart);
      for (let h = 1; h < Math.min(o.earlyHarts, o.harts); h++) yield* sbiHartStart(h, WORKLOAD_ONLINE_BASE, h);
      if (o.earlyHarts < o.harts) {
        yield op.compute(o.lateStartNs);
        for (let h = Math.max(1, o.earlyHarts); h < o.harts; h++) yield* sbiHartStart(h, WORKLOAD_ONLINE_BASE, h);
      }
      yield* work(o.busySliceNs);
    },
    // hart_start: a0 = hart id, a1 = opaque; irqlab passes the opaque as context (the hart id here).
    secondary: function* (_entry: number, hart: number): GuestProgram {
      yield* enableFile(hart);
      yield* work(o.busySliceNs);
    },
    vector: function* (): GuestProgram {
      for (;;) {
        const r = yield op.csrWrite(CSR_STOPEI, 0);
        const id = r.value >>> TOPEI_ID_SHIFT;
        if (id === 0) return;
        o.claimed(id);
      }
    },
  };
}
