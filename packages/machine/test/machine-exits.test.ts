/**
 * kvm_cpu_exec's exit dispatch and the run state (accel/kvm/kvm-all.c,
 * system/runstate.c): unassigned MMIO reads as 0 and is a guest error, a
 * guest SYSTEM_RESET resets the machine through the main loop (RESET with
 * guest=true, reason guest-reset) and the guest boots again, stop/cont emit
 * STOP/RESUME, a shutdown is final.
 */
import { GUEST_ERROR, op, type GuestProgram } from "@irqlab/sim";
import { describe, expect, test } from "vitest";
import type { MachineEvent } from "../src/core/machine-events.js";
import { Machine } from "../src/machine.js";
import { armConfig, riscvConfig } from "./machine-config-fixture.js";

const PSCI_SYSTEM_RESET = 0x8400_0009;
const PSCI_SYSTEM_OFF = 0x8400_0008;

describe("exits and run state", () => {
  test("an unassigned MMIO read returns 0 and counts as a guest error", () => {
    let got = -1;
    const m = Machine.create({
      config: armConfig(),
      kernel: {
        main: function* (): GuestProgram {
          got = (yield op.read(0x0a00_0000, 4)).value; // VIRT_MMIO (virtio-mmio, not modelled)
          yield op.hvc([PSCI_SYSTEM_OFF]);
        },
      },
    });
    expect(m.run()).toBe("shutdown");
    expect(got).toBe(0);
    expect(m.tracer.counters.counter(GUEST_ERROR).value).toBeGreaterThan(0);
  });

  test("PSCI SYSTEM_RESET: RESET {guest: true, reason: guest-reset}, the guest boots again, then powers off", () => {
    const events: string[] = [];
    let boots = 0;
    const m = Machine.create({
      config: armConfig({ cpus: 2 }),
      kernel: {
        main: function* (): GuestProgram {
          boots++;
          yield op.compute(5_000);
          yield op.hvc([boots === 1 ? PSCI_SYSTEM_RESET : PSCI_SYSTEM_OFF]);
        },
      },
    });
    m.onEvent((e: MachineEvent) => events.push(`${e.event}${"reason" in e.data ? ` ${String(e.data.guest)} ${e.data.reason}` : ""}`));
    expect(m.run()).toBe("shutdown");
    expect(boots).toBe(2);
    expect(events).toEqual(["RESET true guest-reset", "SHUTDOWN true guest-shutdown"]);
  });

  test("stop and cont: STOP and RESUME, the vCPUs do not run while paused", () => {
    let ticks = 0;
    const events: string[] = [];
    const m = Machine.create({
      config: riscvConfig(),
      kernel: {
        main: function* (): GuestProgram {
          for (;;) {
            ticks++;
            yield op.compute(1_000);
          }
        },
      },
    });
    m.onEvent((e) => events.push(e.event));
    expect(m.run(50_000)).toBe("until");
    m.stop();
    const frozen = ticks;
    expect(m.run(50_000)).toBe("paused");
    expect(ticks).toBe(frozen);
    m.cont();
    expect(m.run(50_000)).toBe("until");
    expect(ticks).toBeGreaterThan(frozen + 40);
    expect(events).toEqual(["STOP", "RESUME"]);
  });
});
