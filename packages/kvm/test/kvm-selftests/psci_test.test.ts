/**
 * Linux's KVM selftest tools/testing/selftests/kvm/arm64/psci_test.c,
 * rewritten against irqlab's API: one `describe` per upstream host_test_*
 * function, named after it, checking what upstream checks, plus the
 * neighbouring cases of the same KVM code (arch/arm64/kvm/psci.c) that the
 * upstream guest relies on without asserting.
 *
 * GUEST_ASSERT, GUEST_SYNC and GUEST_DONE are 8-byte stores to the ucall page,
 * which no device claims (KVM_EXIT_MMIO), as ucall_arch_do_ucall does on
 * arm64; the value stored is the ucall command and the argument travels in
 * the test's shared record.
 *
 * Registers are read with KVM_GET_ONE_REG as upstream does: PC and x0 in
 * assert_vcpu_reset, KVM_REG_ARM_PSCI_VERSION (and KVM_SET_ONE_REG of it to
 * lower the version). MPIDR_EL1 is not a ONE_REG register of the model: the
 * target's is `Vcpu.mpidr` (reset_mpidr), masked with MPIDR_HWID_BITMASK as
 * upstream does.
 * The VM has no vgic: upstream's vm_create(2) gets one from
 * kvm_arch_vm_finalize_vcpus, but nothing here takes an interrupt.
 */
import { op, type GuestOp, type GuestResult } from "@irqlab/sim";
import { describe, expect, test } from "vitest";
import {
  KVM_ARM_PSCI_LATEST,
  KVM_ARM_TARGET_GENERIC_V8,
  KVM_ARM_VCPU_PSCI_0_2,
  KVM_CAP_ARM_SYSTEM_SUSPEND,
  KVM_EXIT_MMIO,
  KVM_EXIT_SYSTEM_EVENT,
  KVM_MP_STATE_RUNNABLE,
  KVM_MP_STATE_STOPPED,
  KVM_REG_ARM_PSCI_VERSION,
  KVM_SYSTEM_EVENT_SHUTDOWN,
  KVM_SYSTEM_EVENT_SHUTDOWN_FLAG_PSCI_OFF2,
  KVM_SYSTEM_EVENT_SUSPEND,
  Kvm,
  PSCI_0_2_AFFINITY_LEVEL_OFF,
  PSCI_0_2_AFFINITY_LEVEL_ON,
  PSCI_0_2_FN64_AFFINITY_INFO,
  PSCI_0_2_FN64_CPU_ON,
  PSCI_1_0_FN64_SYSTEM_SUSPEND,
  PSCI_1_0_FN_PSCI_FEATURES,
  PSCI_1_0_FN_SYSTEM_SUSPEND,
  PSCI_1_3_FN64_SYSTEM_OFF2,
  PSCI_1_3_FN_SYSTEM_OFF2,
  PSCI_1_3_OFF_TYPE_HIBERNATE_OFF,
  PSCI_RET_INTERNAL_FAILURE,
  PSCI_RET_INVALID_PARAMS,
  PSCI_RET_NOT_SUPPORTED,
  PSCI_VERSION_1_2,
  arm64CoreReg,
  CORE_OFF,
  mpidrHwid,
  psciVersion,
  type Vcpu,
  type VcpuExit,
} from "../../src/index.js";

const CPU_ON_ENTRY_ADDR = 0xfeed_f00d;
const CPU_ON_CONTEXT_ID = 0xdead_c0de;

const UCALL_ADDR = 0x2000_0000;
const UCALL_SYNC = 0x5c;
const UCALL_DONE = 0xd0e;
const UCALL_ABORT = 0xab0;

type Guest<T> = Generator<GuestOp, T, GuestResult>;

/** What the guest reported besides the ucall command. */
interface Shared {
  failure: string | undefined;
  syncArg: number | undefined;
}

/** x0 of an SMCCC result as the guest's uint64_t, negative errors kept as JS numbers. */
function* smcccHvc(args: number[]): Guest<number> {
  const r = yield op.hvc(args);
  return r.regs[0]!;
}

const psciCpuOn = (target: number, entry: number, ctx: number) => smcccHvc([PSCI_0_2_FN64_CPU_ON, target, entry, ctx]);
const psciAffinityInfo = (target: number, level: number) => smcccHvc([PSCI_0_2_FN64_AFFINITY_INFO, target, level]);
const psciSystemSuspend = (entry: number, ctx: number) => smcccHvc([PSCI_1_0_FN64_SYSTEM_SUSPEND, entry, ctx]);
const psciSystemOff2 = (type: number, cookie: number) => smcccHvc([PSCI_1_3_FN64_SYSTEM_OFF2, type, cookie]);
const psciFeatures = (fn: number) => smcccHvc([PSCI_1_0_FN_PSCI_FEATURES, fn]);

/** GUEST_ASSERT: on failure, record why and stop with an ABORT ucall. */
function* guestAssert(ok: boolean, shared: Shared, message: string): Guest<void> {
  if (ok) return;
  shared.failure ??= message;
  yield op.write(UCALL_ADDR, 8, UCALL_ABORT, 0);
}

function* guestSync(shared: Shared, arg: number): Guest<void> {
  shared.syncArg = arg;
  yield op.write(UCALL_ADDR, 8, UCALL_SYNC, 0);
}

function* guestDone(): Guest<void> {
  yield op.write(UCALL_ADDR, 8, UCALL_DONE, 0);
}

/** setup_vm: two vCPUs with KVM_ARM_VCPU_PSCI_0_2, both running `guest`. */
function setupVm(guest: (bootRegs: readonly number[]) => Guest<void>, secondary?: (entry: number, ctx: number) => Guest<void>) {
  const kvm = new Kvm();
  const vm = kvm.createVm();
  const source = vm.createVcpu(0);
  const target = vm.createVcpu(1);
  for (const v of [source, target]) {
    v.armVcpuInit({ target: KVM_ARM_TARGET_GENERIC_V8, features: 1 << KVM_ARM_VCPU_PSCI_0_2 });
    v.loadGuest(secondary === undefined ? { main: guest } : { main: guest, secondary });
  }
  return { vm, source, target };
}

/** get_ucall: the command of a ucall exit, undefined for any other exit. */
function getUcall(e: VcpuExit): number | undefined {
  return e.reason === KVM_EXIT_MMIO && e.physAddr === UCALL_ADDR && e.isWrite ? e.value : undefined;
}

/** enter_guest: run once; a GUEST_ASSERT failure fails the test with the guest's message. */
function enterGuest(vcpu: Vcpu, shared: Shared): VcpuExit {
  const e = vcpu.run();
  if (getUcall(e) === UCALL_ABORT) throw new Error(`guest assert: ${shared.failure}`);
  return e;
}

const newShared = (): Shared => ({ failure: undefined, syncArg: undefined });

/**
 * assert_vcpu_reset: PC and x0 read with KVM_GET_ONE_REG. The target has
 * not run: the read itself handles the reset CPU_ON left pending
 * (arm.c kvm_arch_vcpu_ioctl, KVM_GET_ONE_REG → kvm_reset_vcpu).
 */
function assertVcpuReset(vcpu: Vcpu): void {
  const obsPc = vcpu.getOneReg(arm64CoreReg(CORE_OFF.pc));
  const obsX0 = vcpu.getOneReg(arm64CoreReg(CORE_OFF.regs(0)));
  expect(obsPc).toBe(BigInt(CPU_ON_ENTRY_ADDR));
  expect(obsX0).toBe(BigInt(CPU_ON_CONTEXT_ID));
}

describe("host_test_cpu_on", () => {
  function guestTestCpuOn(shared: Shared) {
    return function* ([targetCpu]: readonly number[]): Guest<void> {
      const t = targetCpu ?? 0;
      yield* guestAssert((yield* psciCpuOn(t, CPU_ON_ENTRY_ADDR, CPU_ON_CONTEXT_ID)) === 0, shared, "CPU_ON failed");
      let state: number;
      do {
        state = yield* psciAffinityInfo(t, 0);
        yield* guestAssert(state === PSCI_0_2_AFFINITY_LEVEL_ON || state === PSCI_0_2_AFFINITY_LEVEL_OFF, shared, `AFFINITY_INFO ${state}`);
      } while (state !== PSCI_0_2_AFFINITY_LEVEL_ON);
      yield* guestDone();
    };
  }

  test("CPU_ON of a powered-off vCPU succeeds, AFFINITY_INFO reaches ON, the target resets to entry/context", () => {
    const shared = newShared();
    const reset: number[] = [];
    const { source, target } = setupVm(guestTestCpuOn(shared), function* (entry, ctx) {
      reset.push(entry, ctx);
      yield* guestDone();
    });
    target.setMpState(KVM_MP_STATE_STOPPED);
    source.loadGuest({ main: guestTestCpuOn(shared) }, [mpidrHwid(target.mpidr)]);

    expect(getUcall(enterGuest(source, shared))).toBe(UCALL_DONE);
    assertVcpuReset(target);
    // The reset is visible to userspace before the target ever runs.
    expect(target.getMpState()).toBe(KVM_MP_STATE_RUNNABLE);
    // And the target starts at its secondary entry with what PC and x0 hold.
    expect(getUcall(enterGuest(target, shared))).toBe(UCALL_DONE);
    expect(reset).toEqual([CPU_ON_ENTRY_ADDR, CPU_ON_CONTEXT_ID]);
    assertVcpuReset(target);
  });

  test("AFFINITY_INFO says OFF for the stopped target; a bad target or level is INVALID_PARAMS", () => {
    const shared = newShared();
    const seen: number[] = [];
    const guest = function* ([t = 0]: readonly number[]): Guest<void> {
      seen.push(yield* psciAffinityInfo(t, 0));
      seen.push(yield* psciAffinityInfo(0x0100, 0)); // Aff1 = 1: no vCPU matches
      seen.push(yield* psciAffinityInfo(t, 4)); // no affinity level 4
      seen.push(yield* psciCpuOn(t + 0x8000_0000, CPU_ON_ENTRY_ADDR, CPU_ON_CONTEXT_ID)); // bit 31 is outside MPIDR_HWID_BITMASK
      yield* guestDone();
    };
    const { source, target } = setupVm(guest);
    target.setMpState(KVM_MP_STATE_STOPPED);
    source.loadGuest({ main: guest }, [mpidrHwid(target.mpidr)]);
    expect(getUcall(enterGuest(source, shared))).toBe(UCALL_DONE);
    expect(seen).toEqual([PSCI_0_2_AFFINITY_LEVEL_OFF, PSCI_RET_INVALID_PARAMS, PSCI_RET_INVALID_PARAMS, PSCI_RET_INVALID_PARAMS]);
    expect(target.getMpState()).toBe(KVM_MP_STATE_STOPPED);
  });
});

describe("host_test_system_suspend", () => {
  function guestTestSystemSuspend(shared: Shared) {
    return function* (): Guest<void> {
      // assert that SYSTEM_SUSPEND is discoverable
      yield* guestAssert((yield* psciFeatures(PSCI_1_0_FN_SYSTEM_SUSPEND)) === 0, shared, "SYSTEM_SUSPEND not discoverable");
      yield* guestAssert((yield* psciFeatures(PSCI_1_0_FN64_SYSTEM_SUSPEND)) === 0, shared, "SYSTEM_SUSPEND (SMC64) not discoverable");
      yield* guestSync(shared, yield* psciSystemSuspend(CPU_ON_ENTRY_ADDR, CPU_ON_CONTEXT_ID));
    };
  }

  test("with KVM_CAP_ARM_SYSTEM_SUSPEND the call is KVM_EXIT_SYSTEM_EVENT of type SUSPEND", () => {
    const shared = newShared();
    const { vm, source, target } = setupVm(guestTestSystemSuspend(shared));
    expect(vm.checkExtension(KVM_CAP_ARM_SYSTEM_SUSPEND)).toBe(1);
    vm.enableCap(KVM_CAP_ARM_SYSTEM_SUSPEND, [0]);
    target.setMpState(KVM_MP_STATE_STOPPED);
    const e = enterGuest(source, shared);
    expect(e.reason).toBe(KVM_EXIT_SYSTEM_EVENT);
    if (e.reason !== KVM_EXIT_SYSTEM_EVENT) return;
    expect(e.type).toBe(KVM_SYSTEM_EVENT_SUSPEND);
    // kvm_psci_system_suspend zeroes system_event and powers nothing off.
    expect(e.ndata).toBe(0);
    expect(source.getMpState()).toBe(KVM_MP_STATE_RUNNABLE);
  });

  test("KVM leaves the registers as the call set them: resuming without acting hands the guest its own x0..x2", () => {
    const shared = newShared();
    let regs: readonly number[] = [];
    const { vm, source, target } = setupVm(function* (): Guest<void> {
      regs = [...(yield op.hvc([PSCI_1_0_FN_SYSTEM_SUSPEND, CPU_ON_ENTRY_ADDR, CPU_ON_CONTEXT_ID])).regs];
      yield* guestDone();
    });
    vm.enableCap(KVM_CAP_ARM_SYSTEM_SUSPEND, [0]);
    target.setMpState(KVM_MP_STATE_STOPPED);
    expect(enterGuest(source, shared).reason).toBe(KVM_EXIT_SYSTEM_EVENT);
    expect(getUcall(enterGuest(source, shared))).toBe(UCALL_DONE);
    expect(regs.slice(0, 3)).toEqual([PSCI_1_0_FN_SYSTEM_SUSPEND, CPU_ON_ENTRY_ADDR, CPU_ON_CONTEXT_ID]);
  });

  test("another vCPU still on does not stop the exit: DENIED is the VMM's answer to give, not KVM's", () => {
    const shared = newShared();
    const { vm, source, target } = setupVm(guestTestSystemSuspend(shared));
    vm.enableCap(KVM_CAP_ARM_SYSTEM_SUSPEND, [0]);
    expect(target.getMpState()).toBe(KVM_MP_STATE_RUNNABLE);
    const e = enterGuest(source, shared);
    expect(e.reason === KVM_EXIT_SYSTEM_EVENT && e.type).toBe(KVM_SYSTEM_EVENT_SUSPEND);
    expect(target.getMpState()).toBe(KVM_MP_STATE_RUNNABLE);
  });

  test("without the capability SYSTEM_SUSPEND is neither discoverable nor callable: NOT_SUPPORTED", () => {
    const shared = newShared();
    const seen: number[] = [];
    const { source, target } = setupVm(function* (): Guest<void> {
      seen.push(yield* psciFeatures(PSCI_1_0_FN_SYSTEM_SUSPEND), yield* psciFeatures(PSCI_1_0_FN64_SYSTEM_SUSPEND));
      seen.push(yield* psciSystemSuspend(CPU_ON_ENTRY_ADDR, CPU_ON_CONTEXT_ID));
      yield* guestDone();
    });
    target.setMpState(KVM_MP_STATE_STOPPED);
    expect(getUcall(enterGuest(source, shared))).toBe(UCALL_DONE);
    expect(seen).toEqual([PSCI_RET_NOT_SUPPORTED, PSCI_RET_NOT_SUPPORTED, PSCI_RET_NOT_SUPPORTED]);
  });
});

describe("host_test_system_off2", () => {
  function guestTestSystemOff2(shared: Shared) {
    return function* (): Guest<void> {
      // assert that SYSTEM_OFF2 is discoverable
      yield* guestAssert(((yield* psciFeatures(PSCI_1_3_FN_SYSTEM_OFF2)) & PSCI_1_3_OFF_TYPE_HIBERNATE_OFF) !== 0, shared, "SYSTEM_OFF2 not discoverable");
      yield* guestAssert(((yield* psciFeatures(PSCI_1_3_FN64_SYSTEM_OFF2)) & PSCI_1_3_OFF_TYPE_HIBERNATE_OFF) !== 0, shared, "SYSTEM_OFF2 (SMC64) not discoverable");
      // With a non-zero cookie it fails.
      let ret = yield* psciSystemOff2(PSCI_1_3_OFF_TYPE_HIBERNATE_OFF, 1);
      yield* guestAssert(ret === PSCI_RET_INVALID_PARAMS, shared, `HIBERNATE_OFF, cookie 1: ${ret}`);
      // Would never return; KVM preloads INTERNAL_FAILURE for a VMM that resumes the vCPU.
      ret = yield* psciSystemOff2(PSCI_1_3_OFF_TYPE_HIBERNATE_OFF, 0);
      yield* guestAssert(ret === PSCI_RET_INTERNAL_FAILURE, shared, `HIBERNATE_OFF: ${ret}`);
      // PSCI 1.3 issue F.b: zero is an alias of HIBERNATE_OFF.
      ret = yield* psciSystemOff2(0, 1);
      yield* guestAssert(ret === PSCI_RET_INVALID_PARAMS, shared, `type 0, cookie 1: ${ret}`);
      ret = yield* psciSystemOff2(0, 0);
      yield* guestAssert(ret === PSCI_RET_INTERNAL_FAILURE, shared, `type 0: ${ret}`);
      yield* guestDone();
    };
  }

  test("HIBERNATE_OFF (and its alias 0) is a SHUTDOWN event flagged PSCI_OFF2, twice; a cookie is INVALID_PARAMS", () => {
    const shared = newShared();
    const { vm, source, target } = setupVm(guestTestSystemOff2(shared));
    const version = target.getOneReg(KVM_REG_ARM_PSCI_VERSION);
    expect(version).toBeGreaterThanOrEqual(BigInt(psciVersion(1, 3)));
    expect(version).toBe(BigInt(KVM_ARM_PSCI_LATEST));
    expect(vm.psciVersion).toBe(KVM_ARM_PSCI_LATEST);
    target.setMpState(KVM_MP_STATE_STOPPED);
    let nrShutdowns = 0;
    let e = enterGuest(source, shared);
    while (e.reason === KVM_EXIT_SYSTEM_EVENT) {
      expect(e.type).toBe(KVM_SYSTEM_EVENT_SHUTDOWN);
      expect(e.ndata).toBeGreaterThanOrEqual(1);
      expect(Number(e.data[0]) & KVM_SYSTEM_EVENT_SHUTDOWN_FLAG_PSCI_OFF2).not.toBe(0);
      nrShutdowns++;
      // Restart the vCPU (kvm_prepare_system_event powered it off).
      expect(source.getMpState()).toBe(KVM_MP_STATE_STOPPED);
      source.setMpState(KVM_MP_STATE_RUNNABLE);
      e = enterGuest(source, shared);
    }
    expect(getUcall(e)).toBe(UCALL_DONE);
    expect(nrShutdowns).toBe(2);
  });

  test("the 32-bit function id narrows its arguments; any other type is INVALID_PARAMS", () => {
    const shared = newShared();
    const seen: number[] = [];
    const { source, target } = setupVm(function* (): Guest<void> {
      seen.push(yield* smcccHvc([PSCI_1_3_FN64_SYSTEM_OFF2, 2, 0]));
      seen.push(yield* smcccHvc([PSCI_1_3_FN64_SYSTEM_OFF2, 2 ** 32 + 1, 0])); // SMC64 sees the upper half
      seen.push(yield* smcccHvc([PSCI_1_3_FN_SYSTEM_OFF2, 1, 2 ** 32])); // SMC32: cookie's low half is 0
      yield* guestDone();
    });
    target.setMpState(KVM_MP_STATE_STOPPED);
    const e = enterGuest(source, shared);
    expect(e.reason === KVM_EXIT_SYSTEM_EVENT && [e.type, e.data[0]]).toEqual([KVM_SYSTEM_EVENT_SHUTDOWN, KVM_SYSTEM_EVENT_SHUTDOWN_FLAG_PSCI_OFF2]);
    expect(seen).toEqual([PSCI_RET_INVALID_PARAMS, PSCI_RET_INVALID_PARAMS]);
  });

  test("with the PSCI version lowered to 1.2, SYSTEM_OFF2 is neither discoverable nor callable", () => {
    const shared = newShared();
    const seen: number[] = [];
    const { vm, source, target } = setupVm(function* (): Guest<void> {
      seen.push(yield* psciFeatures(PSCI_1_3_FN_SYSTEM_OFF2), yield* psciFeatures(PSCI_1_3_FN64_SYSTEM_OFF2));
      seen.push(yield* psciSystemOff2(PSCI_1_3_OFF_TYPE_HIBERNATE_OFF, 0));
      yield* guestDone();
    });
    // The version is the VM's: written through one vCPU, read through the other.
    target.setOneReg(KVM_REG_ARM_PSCI_VERSION, BigInt(PSCI_VERSION_1_2));
    expect(source.getOneReg(KVM_REG_ARM_PSCI_VERSION)).toBe(BigInt(PSCI_VERSION_1_2));
    expect(vm.psciVersion).toBe(PSCI_VERSION_1_2);
    target.setMpState(KVM_MP_STATE_STOPPED);
    expect(getUcall(enterGuest(source, shared))).toBe(UCALL_DONE);
    expect(seen).toEqual([PSCI_RET_NOT_SUPPORTED, PSCI_RET_NOT_SUPPORTED, PSCI_RET_NOT_SUPPORTED]);
  });
});
