/**
 * Linux's KVM selftest tools/testing/selftests/kvm/arm64/get-reg-list.c with
 * the shared driver tools/testing/selftests/kvm/get-reg-list.c, rewritten
 * against irqlab's API for the registers the model has. run_test() on a
 * fresh vCPU: vcpu_get_reg_list (KVM_GET_REG_LIST with n = 0 must fail with
 * E2BIG, then the list), every blessed register present must read back
 * (KVM_GET_ONE_REG) and write back the value read (KVM_SET_ONE_REG), none
 * may be missing, and no register may appear that is not blessed.
 *
 * The blessed list is the model's share of upstream's base_regs: the core
 * registers without fp_regs, the firmware pseudo-registers, and the timer
 * registers. Upstream's list also holds fp_regs.vregs[0..31], fpsr, fpcr
 * (vregs_regs), and some two hundred system registers (ID registers,
 * MIDR_EL1, MPIDR_EL1, SCTLR_EL1, ...): the model exposes none of them, and
 * reading one is ENOENT. Only the "vregs" configuration (no PMU, SVE,
 * pointer authentication or nested virtualization) is ported; the others
 * test registers the model does not have.
 */
import { describe, expect, test } from "vitest";
import {
  ARM64_FW_REG_IDS,
  ARM64_TIMER_REG_IDS,
  CORE_OFF,
  KVM_ARM_TARGET_GENERIC_V8,
  KVM_NR_SPSR,
  KVM_REG_ARM64,
  KVM_REG_ARM_CORE,
  KVM_REG_ARM_FW_FEAT_BMAP,
  KVM_REG_SIZE_U128,
  KVM_REG_SIZE_U32,
  KVM_REG_SIZE_U64,
  Kvm,
  arm64CoreReg,
  arm64FwReg,
  arm64SysReg,
  formatRegId,
  type Vcpu,
} from "../../src/index.js";
import { errnoOf } from "../errno-of.js";

/** The model's blessed registers, in the order kvm_arm_copy_reg_indices gives them: core, firmware, timer. */
function blessedRegs(): bigint[] {
  const core: bigint[] = [];
  for (let i = 0; i < 31; i++) core.push(arm64CoreReg(CORE_OFF.regs(i))); // regs.regs[0..30]
  core.push(arm64CoreReg(CORE_OFF.sp), arm64CoreReg(CORE_OFF.pc), arm64CoreReg(CORE_OFF.pstate));
  core.push(arm64CoreReg(CORE_OFF.spEl1), arm64CoreReg(CORE_OFF.elrEl1));
  for (let i = 0; i < KVM_NR_SPSR; i++) core.push(arm64CoreReg(CORE_OFF.spsr(i)));
  return [...core, ...ARM64_FW_REG_IDS, ...ARM64_TIMER_REG_IDS];
}

/** vcpu_config_get_vcpu + finalize_vcpu for the "vregs" config: a plain KVM_ARM_VCPU_INIT. */
function configVcpu(): Vcpu {
  const vcpu = new Kvm({ arch: "arm64" }).createVm().createVcpu(0);
  vcpu.armVcpuInit({ target: KVM_ARM_TARGET_GENERIC_V8 });
  return vcpu;
}

/** vcpu_get_reg_list: KVM_GET_REG_LIST n=0 is E2BIG, then the full list. */
function vcpuGetRegList(vcpu: Vcpu): bigint[] {
  expect(errnoOf(() => vcpu.getRegList(0))).toBe("E2BIG");
  return vcpu.getRegList();
}

describe("get-reg-list (arm64): run_test for the vregs config, restricted to the model's registers", () => {
  test("every blessed register is present, reads, and writes back what it read; nothing missing, nothing new", () => {
    const vcpu = configVcpu();
    const list = vcpuGetRegList(vcpu);
    const blessed = blessedRegs();
    const failedGet: string[] = [];
    const failedSet: string[] = [];
    for (const id of list.filter((r) => blessed.includes(r))) {
      let value: bigint;
      try {
        value = vcpu.getOneReg(id);
      } catch {
        failedGet.push(formatRegId(id));
        continue;
      }
      if (errnoOf(() => { vcpu.setOneReg(id, value); }) !== undefined) failedSet.push(formatRegId(id));
    }
    const newRegs = list.filter((r) => !blessed.includes(r)).map(formatRegId);
    const missing = blessed.filter((r) => !list.includes(r)).map(formatRegId);
    expect({ failedGet, failedSet, newRegs, missing }).toEqual({ failedGet: [], failedSet: [], newRegs: [], missing: [] });
  });

  test("the list is in kvm_arm_copy_reg_indices' order and each id says its size; n equal to the count is enough", () => {
    const vcpu = configVcpu();
    const list = vcpu.getRegList(blessedRegs().length);
    expect(list).toEqual(blessedRegs());
    expect(list).toHaveLength(41 + 8 + 6);
    // The firmware block: PSCI_VERSION, WORKAROUND_1..3, then the four feature bitmaps.
    expect(list.slice(41, 49).map(formatRegId)).toEqual([
      "0x6030000000140000", "0x6030000000140001", "0x6030000000140002", "0x6030000000140003",
      "0x6030000000160000", "0x6030000000160001", "0x6030000000160002", "0x6030000000160003",
    ]);
    // The timers: CTL, CNT, CVAL (CNT and CVAL under each other's encodings), then the physical ones.
    expect(list.slice(49).map(formatRegId)).toEqual([
      "0x603000000013df19", "0x603000000013df1a", "0x603000000013df02",
      "0x603000000013df11", "0x603000000013df01", "0x603000000013df12",
    ]);
    expect(list[0]).toBe(0x6030_0000_0010_0000n); // regs.regs[0]
    expect((list[48]! & 0x0fff_0000n)).toBe(KVM_REG_ARM_FW_FEAT_BMAP);
    expect(errnoOf(() => vcpu.getRegList(blessedRegs().length - 1))).toBe("E2BIG");
  });

  test("registers of upstream's base_regs and vregs_regs the model lacks are ENOENT", () => {
    const vcpu = configVcpu();
    const core = KVM_REG_ARM64 | KVM_REG_ARM_CORE;
    const absent = [
      core | KVM_REG_SIZE_U128 | BigInt(CORE_OFF.vregs(0)), // fp_regs.vregs[0]
      core | KVM_REG_SIZE_U128 | BigInt(CORE_OFF.vregs(31)),
      core | KVM_REG_SIZE_U32 | BigInt(CORE_OFF.fpsr),
      core | KVM_REG_SIZE_U32 | BigInt(CORE_OFF.fpcr),
      arm64SysReg(3, 0, 0, 0, 0), // MIDR_EL1
      arm64SysReg(3, 0, 0, 0, 5), // MPIDR_EL1
      arm64SysReg(3, 0, 1, 0, 0), // SCTLR_EL1
      arm64FwReg(4),
      KVM_REG_ARM64 | KVM_REG_SIZE_U64 | KVM_REG_ARM_FW_FEAT_BMAP | 4n,
    ];
    for (const id of absent) {
      expect([formatRegId(id), errnoOf(() => vcpu.getOneReg(id))]).toEqual([formatRegId(id), "ENOENT"]);
      expect([formatRegId(id), errnoOf(() => { vcpu.setOneReg(id, 0n); })]).toEqual([formatRegId(id), "ENOENT"]);
    }
  });
});
