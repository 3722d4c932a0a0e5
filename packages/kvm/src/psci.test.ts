/**
 * PSCI as arch/arm64/kvm/psci.c answers it at each version a VMM can select
 * (kvm_psci_call → kvm_psci_1_x_call(minor) / kvm_psci_0_2_call): the
 * PSCI_VERSION value, PSCI_FEATURES for every function, SYSTEM_RESET2's
 * reset types, and which versions KVM_REG_ARM_PSCI_VERSION accepts
 * (hypercalls.c kvm_arm_set_fw_reg).
 */
import { op } from "@irqlab/sim";
import { describe, expect, test } from "vitest";
import {
  ARM_SMCCC_VERSION_FUNC_ID,
  KVM_ARM_TARGET_GENERIC_V8,
  KVM_CAP_ARM_SYSTEM_SUSPEND,
  KVM_EXIT_MMIO,
  KVM_EXIT_SYSTEM_EVENT,
  KVM_MP_STATE_RUNNABLE,
  KVM_SYSTEM_EVENT_RESET,
  KVM_SYSTEM_EVENT_RESET_FLAG_PSCI_RESET2,
  Kvm,
  KvmError,
  PSCI_0_2_FN64_AFFINITY_INFO,
  PSCI_0_2_FN64_CPU_ON,
  PSCI_0_2_FN64_CPU_SUSPEND,
  PSCI_0_2_FN_AFFINITY_INFO,
  PSCI_0_2_FN_CPU_OFF,
  PSCI_0_2_FN_CPU_ON,
  PSCI_0_2_FN_CPU_SUSPEND,
  PSCI_0_2_FN_MIGRATE_INFO_TYPE,
  PSCI_0_2_FN_PSCI_VERSION,
  PSCI_0_2_FN_SYSTEM_OFF,
  PSCI_0_2_FN_SYSTEM_RESET,
  PSCI_1_0_FN64_SYSTEM_SUSPEND,
  PSCI_1_0_FN_PSCI_FEATURES,
  PSCI_1_0_FN_SYSTEM_SUSPEND,
  PSCI_1_1_FN64_SYSTEM_RESET2,
  PSCI_1_1_FN_SYSTEM_RESET2,
  PSCI_1_3_FN64_SYSTEM_OFF2,
  PSCI_1_3_FN_SYSTEM_OFF2,
  PSCI_RET_INTERNAL_FAILURE,
  PSCI_RET_INVALID_PARAMS,
  PSCI_VERSION_0_2,
  PSCI_VERSION_1_0,
  PSCI_VERSION_1_1,
  PSCI_VERSION_1_2,
  PSCI_VERSION_1_3,
  type VcpuExit,
} from "./index.js";

const NS = -1; // PSCI_RET_NOT_SUPPORTED

/** Functions KVM answers 0 for at every 1.x version. */
const BASE = [
  PSCI_0_2_FN_PSCI_VERSION, PSCI_0_2_FN_CPU_SUSPEND, PSCI_0_2_FN64_CPU_SUSPEND, PSCI_0_2_FN_CPU_OFF,
  PSCI_0_2_FN_CPU_ON, PSCI_0_2_FN64_CPU_ON, PSCI_0_2_FN_AFFINITY_INFO, PSCI_0_2_FN64_AFFINITY_INFO,
  PSCI_0_2_FN_MIGRATE_INFO_TYPE, PSCI_0_2_FN_SYSTEM_OFF, PSCI_0_2_FN_SYSTEM_RESET, PSCI_1_0_FN_PSCI_FEATURES,
  ARM_SMCCC_VERSION_FUNC_ID,
];
/** PSCI functions KVM never implements: MIGRATE, MIGRATE_INFO_UP_CPU, CPU_FREEZE, CPU_DEFAULT_SUSPEND, NODE_HW_STATE, STAT_RESIDENCY, MEM_PROTECT. */
const NEVER = [0x8400_0005, 0x8400_0007, 0x8400_000b, 0x8400_000c, 0x8400_000d, 0x8400_0010, 0x8400_0013, 0xc400_0005];
const SUSPEND = [PSCI_1_0_FN_SYSTEM_SUSPEND, PSCI_1_0_FN64_SYSTEM_SUSPEND];
const RESET2 = [PSCI_1_1_FN_SYSTEM_RESET2, PSCI_1_1_FN64_SYSTEM_RESET2];
const OFF2 = [PSCI_1_3_FN_SYSTEM_OFF2, PSCI_1_3_FN64_SYSTEM_OFF2];
const PROBED = [...BASE, ...NEVER, ...SUSPEND, ...RESET2, ...OFF2];

/** Runs `calls` (x0..x3 each) as HVCs on vCPU 0 of a VM at `version`; x0 of each, then the exit that ended the run. */
function hvcs(version: number, calls: number[][], suspendCap = false): { x0: number[]; exit: VcpuExit } {
  const vm = new Kvm().createVm();
  if (suspendCap) vm.enableCap(KVM_CAP_ARM_SYSTEM_SUSPEND);
  vm.setPsciVersion(version);
  const v = vm.createVcpu(0);
  v.armVcpuInit({ target: KVM_ARM_TARGET_GENERIC_V8 });
  const x0: number[] = [];
  v.loadGuest({
    main: function* () {
      for (const c of calls) x0.push((yield op.hvc(c)).regs[0]!);
      yield op.read(0x0900_0000, 4);
    },
  });
  return { x0, exit: v.run() };
}

/** kvm_psci_1_x_call's PSCI_FEATURES answer, written out per function. */
function expectedFeature(minor: number, fn: number, suspendCap: boolean): number {
  if (BASE.includes(fn)) return 0;
  if (SUSPEND.includes(fn)) return suspendCap ? 0 : NS;
  if (RESET2.includes(fn)) return minor >= 1 ? 0 : NS;
  if (OFF2.includes(fn)) return minor >= 3 ? 1 : NS; // bitmask of types: HIBERNATE_OFF
  return NS;
}

describe("PSCI version selection", () => {
  test("PSCI_VERSION reports the selected version; 1.3 by default", () => {
    for (const ver of [PSCI_VERSION_0_2, PSCI_VERSION_1_0, PSCI_VERSION_1_1, PSCI_VERSION_1_2, PSCI_VERSION_1_3]) {
      expect(hvcs(ver, [[PSCI_0_2_FN_PSCI_VERSION]]).x0).toEqual([ver]);
    }
    expect(new Kvm().createVm().psciVersion).toBe(PSCI_VERSION_1_3);
  });

  test("KVM_REG_ARM_PSCI_VERSION refuses 0.1 for a PSCI 0.2 vCPU, and versions KVM does not know", () => {
    const vm = new Kvm().createVm();
    for (const bad of [0x0_0001, 0x1_0004, 0x2_0000]) {
      expect(() => vm.setPsciVersion(bad)).toThrow(KvmError);
    }
    expect(vm.psciVersion).toBe(PSCI_VERSION_1_3);
    expect(() => new Kvm({ arch: "riscv64" }).createVm().setPsciVersion(PSCI_VERSION_1_0)).toThrow(KvmError);
  });
});

describe("PSCI_FEATURES at each version", () => {
  for (const suspendCap of [false, true]) {
    for (const [name, ver] of [["1.0", PSCI_VERSION_1_0], ["1.1", PSCI_VERSION_1_1], ["1.2", PSCI_VERSION_1_2], ["1.3", PSCI_VERSION_1_3]] as const) {
      test(`PSCI ${name}${suspendCap ? " with KVM_CAP_ARM_SYSTEM_SUSPEND" : ""}`, () => {
        const { x0 } = hvcs(ver, PROBED.map((fn) => [PSCI_1_0_FN_PSCI_FEATURES, fn]), suspendCap);
        expect(x0).toEqual(PROBED.map((fn) => expectedFeature(ver & 0xffff, fn, suspendCap)));
      });
    }
  }

  test("PSCI 0.2 has no PSCI_FEATURES, nor any 1.x function", () => {
    const { x0 } = hvcs(PSCI_VERSION_0_2, [[PSCI_1_0_FN_PSCI_FEATURES, PSCI_0_2_FN_CPU_ON], [PSCI_1_1_FN64_SYSTEM_RESET2, 0], [PSCI_1_3_FN64_SYSTEM_OFF2, 1, 0], [PSCI_1_0_FN64_SYSTEM_SUSPEND, 0, 0]], true);
    expect(x0).toEqual([NS, NS, NS, NS]);
  });
});

describe("SYSTEM_RESET2 (kvm_psci_1_x_call)", () => {
  test("architectural reset types other than warm reset (0) are INVALID_PARAMS", () => {
    const { x0, exit } = hvcs(PSCI_VERSION_1_1, [[PSCI_1_1_FN64_SYSTEM_RESET2, 1], [PSCI_1_1_FN64_SYSTEM_RESET2, 0x7fff_ffff]]);
    expect(x0).toEqual([PSCI_RET_INVALID_PARAMS, PSCI_RET_INVALID_PARAMS]);
    expect(exit.reason).toBe(KVM_EXIT_MMIO);
  });

  test("warm reset and vendor types reset the VM with the PSCI_RESET2 flag; the 32-bit id narrows the type", () => {
    for (const type of [0, 0x8000_0000, 0xffff_ffff]) {
      const { exit } = hvcs(PSCI_VERSION_1_3, [[PSCI_1_1_FN64_SYSTEM_RESET2, type]]);
      expect(exit.reason === KVM_EXIT_SYSTEM_EVENT && [exit.type, exit.data[0]]).toEqual([KVM_SYSTEM_EVENT_RESET, KVM_SYSTEM_EVENT_RESET_FLAG_PSCI_RESET2]);
    }
    const { exit } = hvcs(PSCI_VERSION_1_3, [[PSCI_1_1_FN_SYSTEM_RESET2, 2 ** 32]]); // low half 0: warm reset
    expect(exit.reason === KVM_EXIT_SYSTEM_EVENT && exit.type).toBe(KVM_SYSTEM_EVENT_RESET);
  });

  test("PSCI 1.0 does not have it", () => {
    expect(hvcs(PSCI_VERSION_1_0, [[PSCI_1_1_FN64_SYSTEM_RESET2, 0]]).x0).toEqual([NS]);
  });
});

describe("SYSTEM_OFF (kvm_psci_0_2_call)", () => {
  test("SYSTEM_OFF, resumed anyway, returns INTERNAL_FAILURE", () => {
    const vm = new Kvm().createVm();
    const v = vm.createVcpu(0);
    v.armVcpuInit({ target: KVM_ARM_TARGET_GENERIC_V8 });
    const x0: number[] = [];
    v.loadGuest({
      main: function* () {
        x0.push((yield op.hvc([PSCI_0_2_FN_SYSTEM_OFF])).regs[0]!);
        yield op.read(0x0900_0000, 4);
      },
    });
    expect(v.run().reason).toBe(KVM_EXIT_SYSTEM_EVENT);
    v.setMpState(KVM_MP_STATE_RUNNABLE);
    expect(v.run().reason).toBe(KVM_EXIT_MMIO);
    expect(x0).toEqual([PSCI_RET_INTERNAL_FAILURE]);
  });
});
