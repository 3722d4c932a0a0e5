/**
 * Several vCPUs of one machine running in parallel on the shared clock:
 * PSCI CPU_ON brings a secondary up through KVM, an SGI from one vCPU
 * reaches the other through the in-kernel vgic-v3, and both vCPUs' time
 * passes at once (each on its own host CPU), not one after the other.
 */
import { GICD_CTLR, GICD_CTLR_ENABLE_SS_G1, ICC_EOIR1_EL1, ICC_IAR1_EL1, ICC_IGRPEN1_EL1, ICC_PMR_EL1, ICC_SGI1R_EL1 } from "@irqlab/gic";
import { op, type GuestProgram } from "@irqlab/sim";
import { describe, expect, test } from "vitest";
import { Machine } from "../src/machine.js";
import { armConfig } from "./machine-config-fixture.js";

const PSCI_CPU_ON = 0xc400_0003; // PSCI 1.1 (DEN0022) CPU_ON, SMC64
const PSCI_SYSTEM_OFF = 0x8400_0008;

describe("vCPU threads in parallel", () => {
  test("arm64: CPU_ON, an SGI from CPU 0 taken by CPU 1 within microseconds, both computing at once", () => {
    const log: string[] = [];
    let sgiTakenAt = -1;
    let cpu1Done = -1;
    let cpu0Done = -1;
    const m = Machine.create({
      config: armConfig({ cpus: 2 }),
      kernel: {
        main: function* (): GuestProgram {
          // gic_dist_init(): the distributor forwards group 1 (KVM delivers nothing while it is disabled).
          yield op.write(0x0800_0000 + GICD_CTLR, 4, GICD_CTLR_ENABLE_SS_G1);
          const r = yield op.hvc([PSCI_CPU_ON, 1, 0x4008_0000, 7]);
          log.push(`CPU_ON -> ${r.value | 0}`);
          yield op.compute(100_000); // 100 us, while CPU 1 computes too
          cpu0Done = m.queue.now;
          log.push("cpu0 sends SGI 1");
          yield op.msr(ICC_SGI1R_EL1, (1 << 24) | (1 << 1)); // INTID 1, Aff0 target 1
          while (sgiTakenAt < 0) yield op.compute(1_000);
          yield op.hvc([PSCI_SYSTEM_OFF]);
        },
        secondary: function* (entry, context): GuestProgram {
          log.push(`cpu1 up at 0x${entry.toString(16)} ctx ${context}`);
          // gic_cpu_config(): enable the SGIs in this CPU's redistributor (SGI_base + GICR_ISENABLER0).
          yield op.write(0x080a_0000 + 0x2_0000 + 0x1_0000 + 0x100, 4, 0xffff);
          yield op.msr(ICC_PMR_EL1, 0xff);
          yield op.msr(ICC_IGRPEN1_EL1, 1);
          yield op.compute(100_000);
          cpu1Done = m.queue.now;
          yield op.unmask();
          for (;;) yield op.wfi();
        },
        vector: function* (): GuestProgram {
          const intid = (yield op.mrs(ICC_IAR1_EL1)).value & 0xffffff;
          sgiTakenAt = m.queue.now;
          log.push(`cpu took ${intid}`);
          yield op.msr(ICC_EOIR1_EL1, intid);
        },
      },
    });
    const end = m.run(10_000_000);
    expect(end).toBe("shutdown");
    // CPU 1 starts while CPU 0's CPU_ON call is still returning (the hypercall's cost): they run at once.
    expect(log).toEqual(["cpu1 up at 0x40080000 ctx 7", "CPU_ON -> 0", "cpu0 sends SGI 1", "cpu took 1"]);
    // Both computed 100 us from about the same start: in parallel they end together (well under 2 × 100 us).
    expect(cpu0Done).toBeGreaterThan(100_000);
    expect(cpu1Done).toBeGreaterThan(100_000);
    expect(Math.max(cpu0Done, cpu1Done)).toBeLessThan(150_000);
    // The SGI reaches a running/waking CPU 1 in a few microseconds, not after a time slice.
    expect(sgiTakenAt - cpu0Done).toBeGreaterThan(0);
    expect(sgiTakenAt - cpu0Done).toBeLessThan(20_000);
  });

  test("a vCPU computing across the other's operations goes on with one KVM_RUN: continuations, not runs", () => {
    const m = Machine.create({
      config: armConfig({ cpus: 2 }),
      kernel: {
        main: function* (): GuestProgram {
          yield op.hvc([PSCI_CPU_ON, 1, 0x4008_0000, 0]);
          for (let i = 0; i < 20; i++) yield op.compute(1_000);
          yield op.hvc([PSCI_SYSTEM_OFF]);
        },
        secondary: function* (): GuestProgram {
          for (;;) yield op.compute(2_500);
        },
      },
    });
    expect(m.run(1_000_000)).toBe("shutdown");
    const [cpu0, cpu1] = m.cpus.map((c) => c.thread);
    // CPU 0 runs on the outside: its one KVM_RUN never hands back "running".
    expect([cpu0!.runs, cpu0!.continuations]).toEqual([1, 0]);
    // CPU 1 computes from its CPU_ON (about 1 us in) to the power-off at 22.3 us in 2.5 us steps: each
    // step after its first starts while one of CPU 0's 1 us steps is under way, which ends CPU 1's
    // run() there ("running"); the next call goes on with the same KVM_RUN.
    expect(m.queue.now).toBe(22_295);
    expect([cpu1!.runs, cpu1!.continuations]).toEqual([1, 9]);
  });
});
