/**
 * KVM_RUN exit round trips: what the VMM writes into kvm_run reaches the
 * guest program on the next run (api.rst "KVM_RUN"; arm64
 * kvm_handle_mmio_return, RISC-V kvm_riscv_vcpu_sbi_return), in-kernel paths
 * do not exit, and the arm64 PSCI / RISC-V SBI calls behave as Linux's
 * handlers (arch/arm64/kvm/psci.c, arch/riscv/kvm/vcpu_sbi*.c).
 */
import { op, type GuestProgram, type GuestResult } from "@irqlab/sim";
import { describe, expect, test } from "vitest";
import {
  CSR_SEED,
  KVM_ARM_TARGET_GENERIC_V8,
  KVM_ARM_VCPU_PMU_V3,
  KVM_ARM_VCPU_PMU_V3_CTRL,
  KVM_ARM_VCPU_PMU_V3_INIT,
  KVM_ARM_VCPU_PMU_V3_SET_PMU,
  KVM_ARM_VCPU_POWER_OFF,
  KVM_ARM_VM_SMCCC_CTRL,
  KVM_ARM_VM_SMCCC_FILTER,
  KVM_EXIT_DEBUG,
  KVM_EXIT_FAIL_ENTRY,
  KVM_EXIT_FAIL_ENTRY_CPU_UNSUPPORTED,
  KVM_EXIT_HYPERCALL,
  KVM_EXIT_INTERNAL_ERROR,
  KVM_EXIT_INTR,
  KVM_EXIT_MMIO,
  KVM_EXIT_RISCV_CSR,
  KVM_EXIT_RISCV_SBI,
  KVM_EXIT_SYSTEM_EVENT,
  KVM_INTERNAL_ERROR_EMULATION,
  KVM_MEM_READONLY,
  KVM_MP_STATE_RUNNABLE,
  KVM_MP_STATE_STOPPED,
  KVM_SMCCC_FILTER_DENY,
  KVM_SMCCC_FILTER_FWD_TO_USER,
  KVM_SYSTEM_EVENT_RESET,
  KVM_SYSTEM_EVENT_SHUTDOWN,
  Host,
  Kvm,
  KvmRun,
  PSCI_0_2_FN64_CPU_ON,
  PSCI_0_2_FN_PSCI_VERSION,
  PSCI_0_2_FN_SYSTEM_OFF,
  PSCI_RET_ALREADY_ON,
  PSCI_RET_SUCCESS,
  PSCI_VERSION_1_3,
  SBI_ERR_NOT_SUPPORTED,
  SBI_EXT_0_1_CONSOLE_PUTCHAR,
  SBI_EXT_BASE,
  SBI_EXT_BASE_GET_SPEC_VERSION,
  SBI_EXT_BASE_PROBE_EXT,
  SBI_EXT_HSM,
  SBI_EXT_HSM_HART_START,
  SBI_EXT_IPI,
  CSR_SIE,
  CSR_SIP,
  IRQ_S_SOFT,
  SBI_EXT_SRST,
  SMCCC_RET_NOT_SUPPORTED,
  mpidrHwid,
  type Vcpu,
} from "./index.js";

/** Runs `body` as the guest of a fresh arm64 vCPU 0 and records what it sees. */
function armVcpu(body: (seen: number[]) => GuestProgram, kvm = new Kvm()): Vcpu {
  const vm = kvm.createVm();
  const v = vm.createVcpu(0);
  v.armVcpuInit({ target: KVM_ARM_TARGET_GENERIC_V8 });
  const seen: number[] = [];
  (v as unknown as { seen: number[] }).seen = seen;
  v.loadGuest({ main: () => body(seen) });
  return v;
}
const seenOf = (v: Vcpu) => (v as unknown as { seen: number[] }).seen;

describe("kvm_run", () => {
  test("each member of the exit union is one object for the vCPU's life, whether made up front or at its first use", () => {
    const run = new KvmRun();
    const members = [
      [run.mmio, KVM_EXIT_MMIO],
      [run.intr, KVM_EXIT_INTR],
      [run.hypercall, KVM_EXIT_HYPERCALL],
      [run.debug, KVM_EXIT_DEBUG],
      [run.systemEvent, KVM_EXIT_SYSTEM_EVENT],
      [run.failEntry, KVM_EXIT_FAIL_ENTRY],
      [run.riscvSbi, KVM_EXIT_RISCV_SBI],
      [run.riscvCsr, KVM_EXIT_RISCV_CSR],
      [run.internal, KVM_EXIT_INTERNAL_ERROR],
    ] as const;
    for (const [e, reason] of members) expect(e.reason).toBe(reason);
    const again = [run.mmio, run.intr, run.hypercall, run.debug, run.systemEvent, run.failEntry, run.riscvSbi, run.riscvCsr, run.internal];
    again.forEach((e, i) => {
      expect(e).toBe(members[i]![0]);
    });
  });
});

describe("KVM_EXIT_MMIO", () => {
  test("a read the VMM answers reaches the guest program; a write carries its data", () => {
    const v = armVcpu(function* (seen) {
      const r: GuestResult = yield op.read(0x0a00_0008, 4);
      seen.push(r.value);
      yield op.write(0x0a00_0010, 2, 0xbeef);
      const w: GuestResult = yield op.read(0x0a00_0018, 8);
      seen.push(w.value, w.hi);
    });
    let e = v.run();
    expect(e.reason).toBe(KVM_EXIT_MMIO);
    if (e.reason !== KVM_EXIT_MMIO) return;
    expect([e.physAddr, e.len, e.isWrite]).toEqual([0x0a00_0008, 4, false]);
    e.value = 0x1234_5678;
    e = v.run();
    if (e.reason !== KVM_EXIT_MMIO) throw new Error("expected MMIO");
    expect([e.physAddr, e.len, e.isWrite, e.value]).toEqual([0x0a00_0010, 2, true, 0xbeef]);
    e = v.run();
    if (e.reason !== KVM_EXIT_MMIO) throw new Error("expected MMIO");
    e.data.set([1, 2, 3, 4, 5, 6, 7, 8]);
    v.run();
    expect(seenOf(v)).toEqual([0x1234_5678, 0x0403_0201, 0x0807_0605]);
  });

  test("a read is completed even when the next run has immediate_exit set", () => {
    const v = armVcpu(function* (seen) {
      seen.push((yield op.read(0x1000, 1)).value);
    });
    const e = v.run();
    if (e.reason !== KVM_EXIT_MMIO) throw new Error("expected MMIO");
    e.value = 0x1ab; // a 1-byte read keeps the low byte
    v.kvmRun.immediateExit = 1;
    expect(v.run().reason).toBe(KVM_EXIT_INTR);
    v.kvmRun.immediateExit = 0;
    v.run();
    expect(seenOf(v)).toEqual([0xab]);
  });

  test("in-kernel devices on the kernel bus and RAM in a memslot do not exit", () => {
    const kvm = new Kvm();
    const vm = kvm.createVm();
    vm.setUserMemoryRegion({ slot: 0, guestPhysAddr: 0x4000_0000, memorySize: 0x1000 });
    let written = 0;
    vm.kernelBus.map(0x0800_0000, 0x1000, { read: (off) => 0x100 + off, write: (_o, _s, val) => (written = val) }, "test-dev");
    const v = vm.createVcpu(0);
    v.armVcpuInit({ target: KVM_ARM_TARGET_GENERIC_V8 });
    const seen: number[] = [];
    v.loadGuest({
      main: function* () {
        yield op.write(0x4000_0010, 4, 0xcafe);
        seen.push((yield op.read(0x4000_0010, 4)).value);
        seen.push((yield op.read(0x0800_0004, 4)).value);
        yield op.write(0x0800_0000, 4, 77);
        yield op.read(0x0900_0000, 4);
      },
    });
    const e = v.run();
    expect(e.reason).toBe(KVM_EXIT_MMIO);
    expect(seen).toEqual([0xcafe, 0x104]);
    expect(written).toBe(77);
    expect(kvm.tracer.counters.get("kvm.exit.KVM_EXIT_MMIO")).toBe(1);
    // Costs: 2 RAM accesses (1 ns each), 2 in-kernel MMIO (451 ns), the exit (1683 ns).
    expect(kvm.queue.now).toBe(2 * 1 + 2 * 451 + 1683);
  });

  test("a KVM_MEM_READONLY slot reads as RAM and exits on a write, whichever slot the access before was in", () => {
    // arm64 kvm_handle_guest_abort: a write fault on a slot that is not writable goes to io_mem_abort.
    const kvm = new Kvm();
    const vm = kvm.createVm();
    vm.setUserMemoryRegion({ slot: 0, guestPhysAddr: 0x4000_0000, memorySize: 0x1000 });
    vm.setUserMemoryRegion({ slot: 1, guestPhysAddr: 0x0000_0000, memorySize: 0x1000, flags: KVM_MEM_READONLY });
    vm.memory.writeU32(0x10, 0x5eed);
    const v = vm.createVcpu(0);
    v.armVcpuInit({ target: KVM_ARM_TARGET_GENERIC_V8 });
    const seen: number[] = [];
    v.loadGuest({
      main: function* () {
        seen.push((yield op.read(0x10, 4)).value);
        yield op.write(0x4000_0010, 4, 0xcafe);
        seen.push((yield op.read(0x4000_0010, 4)).value);
        seen.push((yield op.read(0x10, 4)).value);
        yield op.write(0x10, 4, 0xbad); // exits
        yield op.write(0x4000_0014, 4, 0xf00d);
        yield op.write(0x14, 2, 0xbad); // exits, after a store to the writable slot
        seen.push((yield op.read(0x10, 4)).value, (yield op.read(0x4000_0014, 4)).value);
        yield op.write(0x1000, 4, 1); // past both slots: exits
      },
    });
    const exits: [number, number, number][] = [];
    for (let e = v.run(); e.reason === KVM_EXIT_MMIO; e = v.run()) {
      expect(e.isWrite).toBe(true);
      exits.push([e.physAddr, e.len, e.value]);
    }
    expect(exits).toEqual([
      [0x10, 4, 0xbad],
      [0x14, 2, 0xbad],
      [0x1000, 4, 1],
    ]);
    // The writes that exited did not reach the slot's memory.
    expect(seen).toEqual([0x5eed, 0xcafe, 0x5eed, 0x5eed, 0xf00d]);
  });
});

describe("arm64 HVC: PSCI in the kernel, SYSTEM_OFF as a system event, the SMCCC filter", () => {
  test("PSCI_VERSION is 1.3 and an unknown function gets SMCCC_RET_NOT_SUPPORTED without an exit", () => {
    const v = armVcpu(function* (seen) {
      seen.push((yield op.hvc([PSCI_0_2_FN_PSCI_VERSION])).regs[0]!);
      seen.push((yield op.hvc([0xc200_0001])).regs[0]!);
      yield op.hvc([PSCI_0_2_FN_SYSTEM_OFF]);
      seen.push(-100);
    });
    const e = v.run();
    expect(e.reason).toBe(KVM_EXIT_SYSTEM_EVENT);
    if (e.reason === KVM_EXIT_SYSTEM_EVENT) expect([e.type, e.ndata, e.data[0]]).toEqual([KVM_SYSTEM_EVENT_SHUTDOWN, 1, 0]);
    expect(seenOf(v)).toEqual([PSCI_VERSION_1_3, SMCCC_RET_NOT_SUPPORTED]);
    // kvm_prepare_system_event powered every vCPU off: running again sleeps (nothing can wake it).
    expect(v.getMpState()).toBe(KVM_MP_STATE_STOPPED);
    const again = v.run();
    expect(again.reason === KVM_EXIT_INTR && again.cause).toBe("idle");
  });

  test("CPU_ON starts a powered-off vCPU at its secondary entry; a second CPU_ON is ALREADY_ON", () => {
    const kvm = new Kvm();
    const vm = kvm.createVm();
    const boot = vm.createVcpu(0);
    const sec = vm.createVcpu(1);
    boot.armVcpuInit({ target: KVM_ARM_TARGET_GENERIC_V8 });
    sec.armVcpuInit({ target: KVM_ARM_TARGET_GENERIC_V8, features: 1 << KVM_ARM_VCPU_POWER_OFF });
    expect(sec.getMpState()).toBe(KVM_MP_STATE_STOPPED);
    const seen: number[] = [];
    boot.loadGuest({
      main: function* () {
        // The target is MPIDR & MPIDR_HWID_BITMASK: RES1 bit 31 would be INVALID_PARAMS (kvm_psci_valid_affinity).
        seen.push((yield op.hvc([PSCI_0_2_FN64_CPU_ON, mpidrHwid(sec.mpidr), 0x8000, 42])).regs[0]!);
        seen.push((yield op.hvc([PSCI_0_2_FN64_CPU_ON, mpidrHwid(sec.mpidr), 0x8000, 42])).regs[0]!);
        yield op.read(0x0900_0000, 4);
      },
    });
    sec.loadGuest({
      main: function* () {
        yield op.read(0xdead, 4);
      },
      secondary: function* (entry, ctx) {
        seen.push(entry, ctx);
        yield op.read(0x0900_0004, 4);
      },
    });
    expect(boot.run().reason).toBe(KVM_EXIT_MMIO);
    expect(seen).toEqual([PSCI_RET_SUCCESS, PSCI_RET_ALREADY_ON]);
    expect(sec.getMpState()).toBe(KVM_MP_STATE_RUNNABLE);
    const e = sec.run();
    expect(e.reason === KVM_EXIT_MMIO && e.physAddr).toBe(0x0900_0004);
    expect(seen).toEqual([PSCI_RET_SUCCESS, PSCI_RET_ALREADY_ON, 0x8000, 42]);
  });

  test("FWD_TO_USER: KVM_EXIT_HYPERCALL with the function id; x0..x3 from the VMM reach the guest", () => {
    const kvm = new Kvm();
    const vm = kvm.createVm();
    vm.setDeviceAttr({ group: KVM_ARM_VM_SMCCC_CTRL, attr: KVM_ARM_VM_SMCCC_FILTER, value: { base: 0xc600_0000, nrFunctions: 1, action: KVM_SMCCC_FILTER_FWD_TO_USER } });
    const v = vm.createVcpu(0);
    v.armVcpuInit({ target: KVM_ARM_TARGET_GENERIC_V8 });
    const seen: number[] = [];
    v.loadGuest({
      main: function* () {
        const r: GuestResult = yield op.smc([0xc600_0000, 7]);
        seen.push(...r.regs);
      },
    });
    const e = v.run();
    if (e.reason !== KVM_EXIT_HYPERCALL) throw new Error(`expected HYPERCALL, got ${e.reason}`);
    expect([e.nr, e.args[0], e.flags]).toEqual([0xc600_0000, 7, 1]);
    e.regs[0] = 0;
    e.regs[1] = 99;
    v.run();
    expect(seen).toEqual([0, 99, 0, 0]);
  });

  test("DENY: SMCCC_RET_NOT_SUPPORTED in x0 and zeros in x1..x3, without an exit (kvm_smccc_call_handler)", () => {
    const kvm = new Kvm();
    const vm = kvm.createVm();
    vm.setDeviceAttr({ group: KVM_ARM_VM_SMCCC_CTRL, attr: KVM_ARM_VM_SMCCC_FILTER, value: { base: 0xc600_0000, nrFunctions: 1, action: KVM_SMCCC_FILTER_DENY } });
    const v = vm.createVcpu(0);
    v.armVcpuInit({ target: KVM_ARM_TARGET_GENERIC_V8 });
    const seen: number[] = [];
    v.loadGuest({
      main: function* () {
        const r: GuestResult = yield op.hvc([0xc600_0000, 7, 8, 9]);
        seen.push(...r.regs);
        yield op.read(0x0900_0000, 4);
      },
    });
    expect(v.run().reason).toBe(KVM_EXIT_MMIO);
    // val[4] = {SMCCC_RET_NOT_SUPPORTED}: the arguments are not echoed back.
    expect(seen).toEqual([SMCCC_RET_NOT_SUPPORTED, 0, 0, 0]);
  });

  test("an op of the other architecture is KVM_EXIT_INTERNAL_ERROR (emulation) and a guest error", () => {
    const kvm = new Kvm();
    const v = armVcpu(function* () {
      yield op.sbi(SBI_EXT_BASE, 0);
    }, kvm);
    const e = v.run();
    expect(e.reason === KVM_EXIT_INTERNAL_ERROR && e.suberror).toBe(KVM_INTERNAL_ERROR_EMULATION);
    expect(kvm.tracer.guestErrors).toBe(1);
  });

  test("KVM_ARM_VCPU_PMU_V3_SET_PMU restricts the VM: entry on another PMU's CPU is FAIL_ENTRY with that CPU", () => {
    const kvm = new Kvm({ host: new Host({ cpus: [{ pmu: 0 }, { pmu: 1 }] }) });
    const vm = kvm.createVm();
    const v = vm.createVcpu(0);
    v.armVcpuInit({ target: KVM_ARM_TARGET_GENERIC_V8, features: 1 << KVM_ARM_VCPU_PMU_V3 });
    v.setDeviceAttr({ group: KVM_ARM_VCPU_PMU_V3_CTRL, attr: KVM_ARM_VCPU_PMU_V3_SET_PMU, value: 0 });
    // kvm_arm_pmu_v3_enable: a vCPU with the feature runs only once INIT created its vPMU.
    v.setDeviceAttr({ group: KVM_ARM_VCPU_PMU_V3_CTRL, attr: KVM_ARM_VCPU_PMU_V3_INIT });
    v.loadGuest({ main: function* () { yield op.read(0x0900_0000, 4); } });
    v.setThreadAffinity([1]);
    const e = v.run();
    if (e.reason !== KVM_EXIT_FAIL_ENTRY) throw new Error("expected FAIL_ENTRY");
    expect([e.hardwareEntryFailureReason, e.cpu, v.hostCpu]).toEqual([KVM_EXIT_FAIL_ENTRY_CPU_UNSUPPORTED, 1, 1]);
    v.setThreadAffinity([0]);
    expect(v.run().reason).toBe(KVM_EXIT_MMIO);
    expect(v.hostCpu).toBe(0);
  });
});

describe("RISC-V SBI and CSR exits", () => {
  function rvVcpu(body: (seen: number[]) => GuestProgram) {
    const kvm = new Kvm({ arch: "riscv64" });
    const vm = kvm.createVm();
    const v = vm.createVcpu(0);
    const seen: number[] = [];
    v.loadGuest({ main: () => body(seen) });
    return { kvm, vm, v, seen };
  }

  test("a forwarded call exits with KVM_EXIT_RISCV_SBI; the VMM's ret reaches the guest", () => {
    const { v, seen } = rvVcpu(function* (seen) {
      const r: GuestResult = yield op.sbi(SBI_EXT_0_1_CONSOLE_PUTCHAR, 0, [0x41]);
      seen.push(r.error, r.value);
      const b: GuestResult = yield op.sbi(SBI_EXT_BASE, SBI_EXT_BASE_GET_SPEC_VERSION);
      seen.push(b.error, b.value);
      const p: GuestResult = yield op.sbi(SBI_EXT_BASE, SBI_EXT_BASE_PROBE_EXT, [SBI_EXT_HSM]);
      seen.push(p.value);
      const u: GuestResult = yield op.sbi(0x1234_5678, 0);
      seen.push(u.error);
      yield op.sbi(SBI_EXT_SRST, 0, [1, 7]);
    });
    const e = v.run();
    if (e.reason !== KVM_EXIT_RISCV_SBI) throw new Error("expected RISCV_SBI");
    expect([e.extensionId, e.functionId, e.args[0], e.ret[0]]).toEqual([SBI_EXT_0_1_CONSOLE_PUTCHAR, 0, 0x41, SBI_ERR_NOT_SUPPORTED]);
    e.ret[0] = 0;
    e.ret[1] = 5;
    const s = v.run();
    if (s.reason !== KVM_EXIT_SYSTEM_EVENT) throw new Error("expected SYSTEM_EVENT");
    expect([s.type, s.data[0]]).toEqual([KVM_SYSTEM_EVENT_RESET, 7]);
    expect(seen).toEqual([0, 5, 0, 2 << 24, 1, SBI_ERR_NOT_SUPPORTED]);
  });

  test("the seed CSR exits with KVM_EXIT_RISCV_CSR; ret_value reaches the guest", () => {
    const { v, seen } = rvVcpu(function* (seen) {
      const r: GuestResult = yield op.csrRead(CSR_SEED);
      seen.push(r.value, r.hi);
    });
    const e = v.run();
    if (e.reason !== KVM_EXIT_RISCV_CSR) throw new Error("expected RISCV_CSR");
    expect([e.csrNum, e.writeMask]).toEqual([CSR_SEED, 0n]);
    e.retValue = 0x1_0000_0002n;
    v.run();
    expect(seen).toEqual([2, 1]);
  });

  test("HSM hart_start powers on a stopped hart at start_addr with a1 = opaque", () => {
    const kvm = new Kvm({ arch: "riscv64" });
    const vm = kvm.createVm();
    const h0 = vm.createVcpu(0);
    const h1 = vm.createVcpu(1);
    const seen: number[] = [];
    h0.loadGuest({ main: function* () { seen.push((yield op.sbi(SBI_EXT_HSM, SBI_EXT_HSM_HART_START, [1, 0x8020_0000, 9])).error); yield op.read(0x1000_0000, 4); } });
    h1.loadGuest({ main: function* () { yield op.wfi(); }, secondary: function* (entry, opaque) { seen.push(entry, opaque); yield op.read(0x1000_0004, 4); } });
    expect(h1.run().reason).toBe(KVM_EXIT_INTR); // stopped, nothing to wake it
    h0.run();
    expect(h1.getMpState()).toBe(KVM_MP_STATE_RUNNABLE);
    const e = h1.run();
    expect(e.reason === KVM_EXIT_MMIO && e.physAddr).toBe(0x1000_0004);
    expect(seen).toEqual([0, 0x8020_0000, 9]);
  });
});

describe("RISC-V SBI IPI", () => {
  test("send_ipi raises VSSIP on the target; its vector runs and clears sip.SSIP", () => {
    const kvm = new Kvm({ arch: "riscv64" });
    const vm = kvm.createVm();
    const h0 = vm.createVcpu(0);
    const h1 = vm.createVcpu(1);
    h1.setMpState(KVM_MP_STATE_RUNNABLE);
    const seen: string[] = [];
    h0.loadGuest({ main: function* () { yield op.sbi(SBI_EXT_IPI, 0, [0b10, 0]); yield op.read(0x1000_0000, 4); } });
    h1.loadGuest({
      main: function* () {
        yield op.csrSet(CSR_SIE, 1 << IRQ_S_SOFT);
        yield op.unmask();
        yield op.wfi();
        seen.push("after-wfi");
        yield op.read(0x1000_0008, 4);
      },
      vector: function* (cause) {
        seen.push(`irq${cause}`);
        yield op.csrClear(CSR_SIP, 1 << IRQ_S_SOFT);
      },
    });
    expect(h1.run().reason).toBe(KVM_EXIT_INTR); // blocked, nothing queued: idle
    expect(h0.run().reason).toBe(KVM_EXIT_MMIO);
    const e = h1.run();
    expect(e.reason === KVM_EXIT_MMIO && e.physAddr).toBe(0x1000_0008);
    expect(seen).toEqual([`irq${IRQ_S_SOFT}`, "after-wfi"]);
    expect(h1.irqChip.hasPendingIrq()).toBe(false);
  });
});
