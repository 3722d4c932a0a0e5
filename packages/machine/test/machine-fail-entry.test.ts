/**
 * KVM_EXIT_FAIL_ENTRY at the VMM (seed 000, VS-file exhaustion): three
 * riscv64 machines with riscv-aia=hwaccel on one host of 2 harts × 1 guest
 * interrupt file. The third vCPU to enter finds no free VS-file on its hart.
 * Stock QEMU (x-fail-entry=stop) stops that VM in internal-error, the others
 * run on; the thread's pin-next patch re-pins and re-enters while KVM reports
 * CSR_HSTATUS (linux-6.18) — for ever when no hart has a file — and does not
 * recognise linux-6.19's NO_VSFILE, so the VM stops as with stock QEMU.
 */
import { op, type GuestProgram } from "@irqlab/sim";
import { describe, expect, test } from "vitest";
import type { FailEntryPolicy } from "../src/config/machine-config.js";
import { MachineHost } from "../src/host/machine-host.js";
import { Machine } from "../src/machine.js";
import { riscvConfig } from "./machine-config-fixture.js";

function threeVms(failEntry: FailEntryPolicy, kernel: "linux-6.18" | "linux-6.19"): { host: MachineHost; vms: Machine[] } {
  const host = new MachineHost({ arch: "riscv64", harts: 2, guestFiles: 1, kernel });
  const vms = [0, 1, 2].map((i) =>
    Machine.create({
      host,
      config: { ...riscvConfig({ riscvAia: "hwaccel", failEntry, harts: 2, guestFiles: 1, kernel }), name: `vm${i}` },
      kernel: {
        main: function* (): GuestProgram {
          for (;;) {
            yield op.compute(10_000);
            yield op.wfi();
          }
        },
      },
    }),
  );
  return { host, vms };
}

describe("KVM_EXIT_FAIL_ENTRY policies", () => {
  test("stock QEMU: the VM whose vCPU finds no VS-file stops in internal-error; the others keep running", () => {
    const { host, vms } = threeVms("stop", "linux-6.19");
    host.run(host.queue.now + 1_000_000);
    const states = vms.map((m) => m.runState);
    expect(states.filter((s) => s === "running")).toHaveLength(2);
    const failed = vms.find((m) => m.runState === "internal-error")!;
    expect(failed.errors[0]).toMatch(/CPU 0\/KVM: un-handled exit reason 9 \(KVM_EXIT_FAIL_ENTRY, hardware_entry_failure_reason 0x1, cpu [01]\)/);
    expect(host.aia!.usage()).toEqual([1, 1]);
  });

  test("pin-next under linux-6.18 (CSR_HSTATUS): re-pins without end, the VM never stops and its vCPU never enters", () => {
    const { host, vms } = threeVms("pin-next", "linux-6.18");
    host.run(host.queue.now + 1_000_000);
    expect(vms.map((m) => m.runState)).toEqual(["running", "running", "running"]);
    const repins = vms.map((m) => m.repins);
    expect(Math.max(...repins)).toBeGreaterThan(100); // livelock: one hop per failed entry, ~1.7 us each
    expect(repins.filter((n) => n > 0)).toHaveLength(1);
  });

  test("pin-next under linux-6.19 (NO_VSFILE): not recognised, the VM stops as with stock QEMU", () => {
    const { host, vms } = threeVms("pin-next", "linux-6.19");
    host.run(host.queue.now + 1_000_000);
    expect(vms.filter((m) => m.runState === "internal-error")).toHaveLength(1);
    expect(vms.every((m) => m.repins === 0)).toBe(true);
  });
});
