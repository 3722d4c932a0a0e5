/**
 * CPU slots and hotplug on arm64 (seed 002; Salil Mehta's "[PATCH RFC V5
 * 05/30] arm/virt,kvm: Pre-create KVM vCPUs for all unplugged QOM vCPUs
 * @machine init"): with x-cpu-hotplug=precreate every possible vCPU exists
 * before the vgic is initialised and GICR_TYPER of every slot never changes;
 * with x-cpu-hotplug=naive the plug fails as KVM refuses KVM_CREATE_VCPU
 * after vgic init (kvm_vm_ioctl_create_vcpu → kvm_arch_vcpu_precreate:
 * -EBUSY once vgic_initialized()).
 */
import { GICR_TYPER } from "@irqlab/gic";
import { op, type GuestProgram } from "@irqlab/sim";
import { describe, expect, test } from "vitest";
import { Machine } from "../src/machine.js";
import { armConfig } from "./machine-config-fixture.js";

const GICR_BASE = 0x080a_0000;
const GICR_STRIDE = 0x2_0000;

/** GICR_TYPER (64 bits) of every redistributor frame the VM has, as the guest reads it. */
function typers(m: Machine, n: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const lo = m.vm.kernelBus.read(GICR_BASE + i * GICR_STRIDE + GICR_TYPER, 4);
    const hi = m.vm.kernelBus.read(GICR_BASE + i * GICR_STRIDE + GICR_TYPER + 4, 4);
    out.push(`${hi.toString(16)}:${lo.toString(16)}`);
  }
  return out;
}

const PSCI_CPU_ON = 0xc400_0003;

describe("CPU slots and hotplug (arm64)", () => {
  test("precreate: all four vCPUs exist at vgic init, two threads run, plug unparks slot 2 and the guest brings it up", () => {
    const up: number[] = [];
    let plugged = false;
    const m = Machine.create({
      config: armConfig({ cpus: 2, maxcpus: 4, cpuHotplug: "precreate" }),
      kernel: {
        main: function* (): GuestProgram {
          // The guest's CPU hotplug handler: once told of the new CPU, PSCI CPU_ON brings it up.
          while (!plugged) yield op.compute(10_000);
          yield op.hvc([PSCI_CPU_ON, 2, 0x4008_0000, 42]);
          for (;;) yield op.wfi();
        },
        secondary: function* (_entry, context): GuestProgram {
          up.push(context);
          for (;;) yield op.wfi();
        },
      },
    });
    // Four KVM_CREATE_VCPU, all before the vgic's CTRL_INIT (board init).
    const lines = m.calls.lines();
    const creates = lines.map((l, i) => [l, i] as const).filter(([l]) => l.startsWith("KVM_CREATE_VCPU"));
    expect(creates.map(([l]) => l)).toEqual(["KVM_CREATE_VCPU id=0", "KVM_CREATE_VCPU id=1", "KVM_CREATE_VCPU id=2", "KVM_CREATE_VCPU id=3"]);
    const init = lines.indexOf("KVM_SET_DEVICE_ATTR vgic-v3 GRP_CTRL CTRL_INIT");
    expect(Math.max(...creates.map(([, i]) => i))).toBeLessThan(init);
    expect(m.cpus.map((c) => c.index)).toEqual([0, 1]);
    m.run(100_000);
    const before = typers(m, 4);
    // Four frames sized at vgic init: Affinity (bits 63:32) = the slot's MPIDR, Last (bit 4) only on the fourth.
    expect(before.map((t) => t.split(":")[0])).toEqual(["0", "1", "2", "3"]);
    expect(before.map((t) => (parseInt(t.split(":")[1]!, 16) >>> 4) & 1)).toEqual([0, 0, 0, 1]);
    const cpu = m.plugCpu(2);
    expect(cpu.archId).toBe(2); // MPIDR fixed per slot
    expect(m.cpus.map((c) => c.index)).toEqual([0, 1, 2]);
    // The guest brings the new CPU up with PSCI CPU_ON (it starts powered off).
    expect(up).toEqual([]);
    plugged = true;
    m.run(100_000);
    expect(up).toContain(42);
    expect(typers(m, 4)).toEqual(before);
    m.unplugCpu(2);
    expect(m.cpus.map((c) => c.index)).toEqual([0, 1]);
    expect(typers(m, 4)).toEqual(before);
  });

  test("naive: the plug fails with KVM's EBUSY after vgic init, as QEMU reports a failed realize", () => {
    const m = Machine.create({ config: armConfig({ cpus: 2, maxcpus: 4, cpuHotplug: "naive" }) });
    expect(m.calls.lines().filter((l) => l.startsWith("KVM_CREATE_VCPU"))).toHaveLength(2);
    expect(() => m.plugCpu(2)).toThrow("kvm_init_vcpu: kvm_create_vcpu failed (2): Device or resource busy");
    expect(m.calls.lines().at(-1)).toBe("KVM_CREATE_VCPU id=2 = -EBUSY");
    expect(m.cpus).toHaveLength(2);
  });

  test("off (upstream virt): hotplug is refused; absent slots are only possible CPUs", () => {
    const m = Machine.create({ config: armConfig({ cpus: 2, maxcpus: 4 }) });
    expect(m.slots.map((s) => s.present)).toEqual([true, true, false, false]);
    expect(() => m.plugCpu(3)).toThrow(/CPU hotplug is not supported/);
  });
});
