/**
 * arm64 KVM_GET_ONE_REG / KVM_SET_ONE_REG / KVM_GET_REG_LIST: the checks of
 * arch/arm64/kvm/guest.c kvm_arm_get_reg / kvm_arm_set_reg and
 * get_core_reg / set_core_reg, hypercalls.c kvm_arm_get_fw_reg /
 * kvm_arm_set_fw_reg, arch_timer.c kvm_arm_timer_get_reg /
 * kvm_arm_timer_set_reg, and the ioctl's own (arm.c kvm_arch_vcpu_ioctl).
 */
import { op, type GuestOp, type GuestResult } from "@irqlab/sim";
import { describe, expect, test } from "vitest";
import { CNTPCT_EL0, CNTVCT_EL0, counterTicks } from "../arch-counter.js";
import { CNTV_CTL_EL0, CNTV_CVAL_EL0, ARCH_TIMER_CTRL_ENABLE, ARCH_TIMER_CTRL_IT_STAT } from "../arch-timer/timer-uapi.js";
import { Kvm } from "../kvm.js";
import { KVM_EXIT_HYPERCALL, KVM_EXIT_MMIO, KVM_EXIT_SYSTEM_EVENT } from "../uapi/exit-reasons.js";
import { KVM_CAP_ARM_SYSTEM_SUSPEND } from "../uapi/capabilities.js";
import { KVM_SYSTEM_EVENT_SUSPEND } from "../uapi/system-event.js";
import {
  KVM_ARM_TARGET_GENERIC_V8,
  KVM_ARM_VM_SMCCC_CTRL,
  KVM_ARM_VM_SMCCC_FILTER,
  KVM_SMCCC_FILTER_FWD_TO_USER,
} from "../uapi/device-types.js";
import {
  ARM_SMCCC_ARCH_FEATURES_FUNC_ID,
  ARM_SMCCC_ARCH_WORKAROUND_1,
  ARM_SMCCC_ARCH_WORKAROUND_2,
  ARM_SMCCC_ARCH_WORKAROUND_3,
  KVM_ARM_PSCI_LATEST,
  PSCI_0_2_FN_PSCI_VERSION,
  PSCI_1_0_FN64_SYSTEM_SUSPEND,
  PSCI_RET_DENIED,
  PSCI_VERSION_1_0,
  SMCCC_ARCH_WORKAROUND_RET_UNAFFECTED,
  SMCCC_RET_NOT_SUPPORTED,
  SMCCC_RET_SUCCESS,
} from "../uapi/psci.js";
import type { Vcpu } from "../vcpu.js";
import { KVM_REG_ARM64, KVM_REG_RISCV, KVM_REG_SIZE_U128, KVM_REG_SIZE_U32, KVM_REG_SIZE_U64 } from "./one-reg-id.js";
import {
  CORE_OFF,
  KVM_REG_ARM64_SVE,
  KVM_REG_ARM_CORE,
  KVM_REG_ARM_PSCI_VERSION,
  KVM_REG_ARM_PTIMER_CNT,
  KVM_REG_ARM_SMCCC_ARCH_WORKAROUND_1,
  KVM_REG_ARM_SMCCC_ARCH_WORKAROUND_1_NOT_REQUIRED,
  KVM_REG_ARM_SMCCC_ARCH_WORKAROUND_2,
  KVM_REG_ARM_SMCCC_ARCH_WORKAROUND_2_AVAIL,
  KVM_REG_ARM_SMCCC_ARCH_WORKAROUND_2_ENABLED,
  KVM_REG_ARM_SMCCC_ARCH_WORKAROUND_2_NOT_AVAIL,
  KVM_REG_ARM_SMCCC_ARCH_WORKAROUND_2_UNKNOWN,
  KVM_REG_ARM_SMCCC_ARCH_WORKAROUND_3,
  KVM_REG_ARM_SMCCC_ARCH_WORKAROUND_3_AVAIL,
  KVM_REG_ARM_STD_BMAP,
  KVM_REG_ARM_STD_HYP_BMAP,
  KVM_REG_ARM_TIMER_CNT,
  KVM_REG_ARM_TIMER_CTL,
  KVM_REG_ARM_TIMER_CVAL,
  KVM_REG_ARM_VENDOR_HYP_BMAP,
  KVM_REG_ARM_VENDOR_HYP_BMAP_2,
  arm64CoreReg,
  arm64FwReg,
  arm64SysReg,
} from "./arm64-reg-ids.js";
import { VCPU_RESET_PSTATE_EL1 } from "./arm64-core-regs.js";
import { errnoOf } from "../../test/errno-of.js";

const x = (n: number): bigint => arm64CoreReg(CORE_OFF.regs(n));
const PC = arm64CoreReg(CORE_OFF.pc);
const SP = arm64CoreReg(CORE_OFF.sp);
const PSTATE = arm64CoreReg(CORE_OFF.pstate);
const UCALL = 0x2000_0000;

function vcpuWith(main?: () => Generator<GuestOp, void, GuestResult>, nr = 1): { vcpus: Vcpu[]; kvm: Kvm; vm: ReturnType<Kvm["createVm"]> } {
  const kvm = new Kvm({ arch: "arm64" });
  const vm = kvm.createVm();
  const vcpus: Vcpu[] = [];
  for (let i = 0; i < nr; i++) {
    const v = vm.createVcpu(i);
    v.armVcpuInit({ target: KVM_ARM_TARGET_GENERIC_V8 });
    if (main !== undefined) v.loadGuest({ main });
    vcpus.push(v);
  }
  return { vcpus, kvm, vm };
}

describe("the ioctl and kvm_arm_get_reg's checks", () => {
  test("ENOEXEC before KVM_ARM_VCPU_INIT (arm.c: !kvm_vcpu_initialized), for ONE_REG and KVM_GET_REG_LIST", () => {
    const v = new Kvm({ arch: "arm64" }).createVm().createVcpu(0);
    expect(errnoOf(() => v.getOneReg(PC))).toBe("ENOEXEC");
    expect(errnoOf(() => v.setOneReg(PC, 0n))).toBe("ENOEXEC");
    expect(errnoOf(() => v.getRegList())).toBe("ENOEXEC");
  });

  test("EINVAL for an id whose upper 32 bits (size aside) are not KVM_REG_ARM64's", () => {
    const v = vcpuWith().vcpus[0]!;
    expect(errnoOf(() => v.getOneReg(KVM_REG_RISCV | KVM_REG_SIZE_U64))).toBe("EINVAL");
    expect(errnoOf(() => v.getOneReg(PC | (1n << 40n)))).toBe("EINVAL");
    expect(errnoOf(() => v.setOneReg(PC | (1n << 32n), 0n))).toBe("EINVAL");
  });

  test("ENOENT for registers the model does not have: other system registers, SVE, an unknown firmware register", () => {
    const v = vcpuWith().vcpus[0]!;
    expect(errnoOf(() => v.getOneReg(arm64SysReg(3, 0, 0, 0, 5)))).toBe("ENOENT"); // MPIDR_EL1
    expect(errnoOf(() => v.getOneReg(KVM_REG_ARM64 | KVM_REG_SIZE_U64 | KVM_REG_ARM64_SVE | 0xffffn))).toBe("ENOENT"); // SVE_VLS
    expect(errnoOf(() => v.getOneReg(arm64FwReg(4)))).toBe("ENOENT");
    expect(errnoOf(() => v.setOneReg(arm64FwReg(4), 0n))).toBe("ENOENT");
  });

  test("a value wider than the id's size is EINVAL", () => {
    const v = vcpuWith().vcpus[0]!;
    expect(errnoOf(() => v.setOneReg(PC, 1n << 64n))).toBe("EINVAL");
    expect(errnoOf(() => v.setOneReg(PC, -1n))).toBe("EINVAL");
  });
});

describe("core registers (get_core_reg / set_core_reg)", () => {
  test("x0..x30, SP, PC, SP_EL1, ELR_EL1 and SPSR[] hold 64-bit values; PSTATE resets to EL1h with DAIF masked", () => {
    const v = vcpuWith().vcpus[0]!;
    expect(v.getOneReg(PSTATE)).toBe(VCPU_RESET_PSTATE_EL1);
    expect(VCPU_RESET_PSTATE_EL1).toBe(0x3c5n);
    const ids = [...Array.from({ length: 31 }, (_, i) => x(i)), SP, PC, arm64CoreReg(CORE_OFF.spEl1), arm64CoreReg(CORE_OFF.elrEl1)];
    for (let j = 0; j < 5; j++) ids.push(arm64CoreReg(CORE_OFF.spsr(j)));
    ids.forEach((id, i) => { v.setOneReg(id, 0xfedc_ba98_7654_3210n + BigInt(i)); });
    ids.forEach((id, i) => { expect(v.getOneReg(id)).toBe(0xfedc_ba98_7654_3210n + BigInt(i)); });
  });

  test("KVM_ARM_VCPU_INIT resets them (kvm_reset_vcpu): zero, PSTATE 0x3c5", () => {
    const v = vcpuWith().vcpus[0]!;
    v.setOneReg(x(5), 5n);
    v.setOneReg(PC, 0x1000n);
    v.setOneReg(PSTATE, 0x5n);
    v.armVcpuInit({ target: KVM_ARM_TARGET_GENERIC_V8 });
    expect([v.getOneReg(x(5)), v.getOneReg(PC), v.getOneReg(PSTATE)]).toEqual([0n, 0n, 0x3c5n]);
  });

  test("offsets: inside a member or with the wrong size EINVAL, beyond struct kvm_regs ENOENT; FP/SIMD not modelled (ENOENT)", () => {
    const v = vcpuWith().vcpus[0]!;
    const core = KVM_REG_ARM64 | KVM_REG_ARM_CORE;
    expect(errnoOf(() => v.getOneReg(core | KVM_REG_SIZE_U64 | 1n))).toBe("EINVAL"); // the upper half of regs[0]
    expect(errnoOf(() => v.getOneReg(core | KVM_REG_SIZE_U32 | 0n))).toBe("EINVAL"); // regs[0] is 64-bit
    expect(errnoOf(() => v.getOneReg(core | KVM_REG_SIZE_U64 | 82n))).toBe("EINVAL"); // the padding before vregs
    expect(errnoOf(() => v.getOneReg(core | KVM_REG_SIZE_U64 | 216n))).toBe("ENOENT");
    expect(errnoOf(() => v.getOneReg(core | KVM_REG_SIZE_U64 | 215n))).toBe("ENOENT"); // ends beyond the struct
    expect(errnoOf(() => v.getOneReg(core | KVM_REG_SIZE_U128 | BigInt(CORE_OFF.vregs(0))))).toBe("ENOENT");
    expect(errnoOf(() => v.getOneReg(core | KVM_REG_SIZE_U32 | BigInt(CORE_OFF.fpsr)))).toBe("ENOENT");
  });

  test("PSTATE: an AArch32 mode, or no mode at all, is EINVAL (no 32-bit EL0 or EL1 on the model's host)", () => {
    const v = vcpuWith().vcpus[0]!;
    for (const mode of [0x10n, 0x13n, 0x1fn, 0x9n]) expect(errnoOf(() => v.setOneReg(PSTATE, 0x3c0n | mode))).toBe("EINVAL");
    for (const mode of [0x0n, 0x4n, 0x5n]) expect(errnoOf(() => v.setOneReg(PSTATE, 0x3c0n | mode))).toBeUndefined();
  });

  test("an in-kernel SMCCC call leaves its arguments' x4.. and its results' x0..x3 in the registers", () => {
    const { vcpus } = vcpuWith(function* () {
      yield op.hvc([PSCI_0_2_FN_PSCI_VERSION, 11, 22, 33, 44, 55]);
      yield op.write(UCALL, 4, 1);
    });
    const v = vcpus[0]!;
    expect(v.run().reason).toBe(KVM_EXIT_MMIO);
    // smccc_set_retval(vcpu, version, 0, 0, 0); x4, x5 keep the guest's.
    expect([0, 1, 2, 3, 4, 5].map((i) => v.getOneReg(x(i)))).toEqual([BigInt(KVM_ARM_PSCI_LATEST), 0n, 0n, 0n, 44n, 55n]);
  });
});

describe("a forwarded hypercall answered with KVM_SET_ONE_REG of x0..x3, as QEMU does", () => {
  function forwarded() {
    const seen: { regs: number[]; value: number; hi: number }[] = [];
    const { vcpus, vm } = vcpuWith(function* () {
      const r = yield op.hvc([0xc600_0001, 7, 8, 9, 10]);
      seen.push({ regs: [...r.regs], value: r.value, hi: r.hi });
      yield op.write(UCALL, 4, 1);
    });
    vm.setDeviceAttr({ group: KVM_ARM_VM_SMCCC_CTRL, attr: KVM_ARM_VM_SMCCC_FILTER, value: { base: 0xc600_0000, nrFunctions: 16, action: KVM_SMCCC_FILTER_FWD_TO_USER } });
    return { v: vcpus[0]!, seen };
  }

  test("the exit's registers read back as the guest's x0..x4; written ones reach the guest", () => {
    const { v, seen } = forwarded();
    const e = v.run();
    expect(e.reason).toBe(KVM_EXIT_HYPERCALL);
    expect([0, 1, 2, 3, 4].map((i) => v.getOneReg(x(i)))).toEqual([0xc600_0001n, 7n, 8n, 9n, 10n]);
    v.setOneReg(x(0), 0n);
    v.setOneReg(x(1), 0x1234n);
    v.setOneReg(x(2), 0n);
    v.setOneReg(x(3), 0n);
    expect(v.run().reason).toBe(KVM_EXIT_MMIO);
    expect(seen).toEqual([{ regs: [0, 0x1234, 0, 0], value: 0, hi: 0 }]);
  });

  test("kvm_run.hypercall.regs and ONE_REG agree both ways; a 64-bit x0 reaches the guest exactly", () => {
    const { v, seen } = forwarded();
    const e = v.run();
    if (e.reason !== KVM_EXIT_HYPERCALL) throw new Error("expected KVM_EXIT_HYPERCALL");
    e.regs[1] = 5; // through the exit record
    expect(v.getOneReg(x(1))).toBe(5n);
    v.setOneReg(x(2), 6n); // through ONE_REG
    expect(e.regs[2]).toBe(6);
    v.setOneReg(x(0), 0x8000_0000_0000_0005n);
    expect(v.run().reason).toBe(KVM_EXIT_MMIO);
    expect(seen[0]!.value).toBe(5);
    expect(seen[0]!.hi).toBe(0x8000_0000);
    expect(seen[0]!.regs.slice(1)).toEqual([5, 6, 9]);
    expect(v.getOneReg(x(0))).toBe(0x8000_0000_0000_0005n);
  });
});

describe("firmware pseudo-registers (kvm_arm_get_fw_reg / kvm_arm_set_fw_reg)", () => {
  test("KVM_REG_ARM_PSCI_VERSION: the VM's version; 1.0 is what the guest's PSCI_VERSION then answers; 0.1 EINVAL", () => {
    let answered = 0;
    const { vcpus, vm } = vcpuWith(function* () {
      answered = (yield op.hvc([PSCI_0_2_FN_PSCI_VERSION])).regs[0]!;
      yield op.write(UCALL, 4, 1);
    });
    const v = vcpus[0]!;
    expect(v.getOneReg(KVM_REG_ARM_PSCI_VERSION)).toBe(BigInt(KVM_ARM_PSCI_LATEST));
    v.setOneReg(KVM_REG_ARM_PSCI_VERSION, BigInt(PSCI_VERSION_1_0));
    expect(vm.psciVersion).toBe(PSCI_VERSION_1_0);
    expect(errnoOf(() => v.setOneReg(KVM_REG_ARM_PSCI_VERSION, 0n))).toBe("EINVAL"); // KVM_ARM_PSCI_0_1 with PSCI_0_2 wanted
    expect(errnoOf(() => v.setOneReg(KVM_REG_ARM_PSCI_VERSION, 0x1_0009n))).toBe("EINVAL");
    v.run();
    expect(answered).toBe(PSCI_VERSION_1_0);
  });

  test("a firmware id of another size is ENOENT (set: KVM_REG_SIZE != 8; get: no such id)", () => {
    const v = vcpuWith().vcpus[0]!;
    const as32 = (id: bigint): bigint => (id & ~(0xfn << 52n)) | KVM_REG_SIZE_U32;
    expect(errnoOf(() => v.setOneReg(as32(KVM_REG_ARM_PSCI_VERSION), 0n))).toBe("ENOENT");
    expect(errnoOf(() => v.getOneReg(as32(KVM_REG_ARM_PSCI_VERSION)))).toBe("ENOENT");
    expect(errnoOf(() => v.setOneReg(as32(KVM_REG_ARM_STD_BMAP), 0n))).toBe("ENOENT");
  });

  test("the workaround levels are the model host's; a level above it, or stray bits, EINVAL; lower ones accepted", () => {
    const v = vcpuWith().vcpus[0]!;
    expect(v.getOneReg(KVM_REG_ARM_SMCCC_ARCH_WORKAROUND_1)).toBe(BigInt(KVM_REG_ARM_SMCCC_ARCH_WORKAROUND_1_NOT_REQUIRED));
    expect(v.getOneReg(KVM_REG_ARM_SMCCC_ARCH_WORKAROUND_2)).toBe(BigInt(KVM_REG_ARM_SMCCC_ARCH_WORKAROUND_2_NOT_AVAIL));
    expect(v.getOneReg(KVM_REG_ARM_SMCCC_ARCH_WORKAROUND_3)).toBe(BigInt(KVM_REG_ARM_SMCCC_ARCH_WORKAROUND_3_AVAIL));
    // WORKAROUND_1 at NOT_REQUIRED (2): anything up to 2 migrates in, 3 and bits beyond the level do not.
    for (const ok of [0n, 1n, 2n]) expect(errnoOf(() => v.setOneReg(KVM_REG_ARM_SMCCC_ARCH_WORKAROUND_1, ok))).toBeUndefined();
    expect(errnoOf(() => v.setOneReg(KVM_REG_ARM_SMCCC_ARCH_WORKAROUND_1, 3n))).toBe("EINVAL");
    expect(errnoOf(() => v.setOneReg(KVM_REG_ARM_SMCCC_ARCH_WORKAROUND_1, 0x10n))).toBe("EINVAL");
    // WORKAROUND_3 at AVAIL (1).
    expect(errnoOf(() => v.setOneReg(KVM_REG_ARM_SMCCC_ARCH_WORKAROUND_3, 1n))).toBeUndefined();
    expect(errnoOf(() => v.setOneReg(KVM_REG_ARM_SMCCC_ARCH_WORKAROUND_3, 2n))).toBe("EINVAL");
    // WORKAROUND_2 at NOT_AVAIL: NOT_AVAIL and UNKNOWN map to NOT_AVAIL; AVAIL and NOT_REQUIRED would need more.
    expect(errnoOf(() => v.setOneReg(KVM_REG_ARM_SMCCC_ARCH_WORKAROUND_2, BigInt(KVM_REG_ARM_SMCCC_ARCH_WORKAROUND_2_UNKNOWN)))).toBeUndefined();
    expect(errnoOf(() => v.setOneReg(KVM_REG_ARM_SMCCC_ARCH_WORKAROUND_2, BigInt(KVM_REG_ARM_SMCCC_ARCH_WORKAROUND_2_AVAIL)))).toBe("EINVAL");
    expect(errnoOf(() => v.setOneReg(KVM_REG_ARM_SMCCC_ARCH_WORKAROUND_2, 3n))).toBe("EINVAL");
    expect(errnoOf(() => v.setOneReg(KVM_REG_ARM_SMCCC_ARCH_WORKAROUND_2, 4n))).toBe("EINVAL");
    // ENABLED only with AVAIL.
    expect(errnoOf(() => v.setOneReg(KVM_REG_ARM_SMCCC_ARCH_WORKAROUND_2, BigInt(KVM_REG_ARM_SMCCC_ARCH_WORKAROUND_2_ENABLED)))).toBe("EINVAL");
    // The register keeps reporting the host's level.
    expect(v.getOneReg(KVM_REG_ARM_SMCCC_ARCH_WORKAROUND_1)).toBe(2n);
  });

  test("SMCCC_ARCH_FEATURES answers the workarounds from the same host state (kvm_smccc_call_handler)", () => {
    const answers: number[] = [];
    const { vcpus } = vcpuWith(function* () {
      for (const f of [ARM_SMCCC_ARCH_WORKAROUND_1, ARM_SMCCC_ARCH_WORKAROUND_2, ARM_SMCCC_ARCH_WORKAROUND_3, 0x8000_0002]) {
        answers.push((yield op.hvc([ARM_SMCCC_ARCH_FEATURES_FUNC_ID, f])).regs[0]!);
      }
      yield op.write(UCALL, 4, 1);
    });
    vcpus[0]!.run();
    // v2 unaffected → RET_UNAFFECTED (1); v4 mitigated with SSBS → NOT_SUPPORTED; BHB mitigated → SUCCESS.
    expect(answers).toEqual([SMCCC_ARCH_WORKAROUND_RET_UNAFFECTED, SMCCC_RET_NOT_SUPPORTED, SMCCC_RET_SUCCESS, SMCCC_RET_NOT_SUPPORTED]);
  });

  test("feature bitmaps: Linux's defaults, EINVAL for an unsupported bit, EBUSY for a change once the VM has run", () => {
    const { vcpus } = vcpuWith(function* () {
      yield op.write(UCALL, 4, 1);
    });
    const v = vcpus[0]!;
    expect([KVM_REG_ARM_STD_BMAP, KVM_REG_ARM_STD_HYP_BMAP, KVM_REG_ARM_VENDOR_HYP_BMAP, KVM_REG_ARM_VENDOR_HYP_BMAP_2].map((id) => v.getOneReg(id))).toEqual([1n, 1n, 3n, 0n]);
    expect(errnoOf(() => v.setOneReg(KVM_REG_ARM_STD_BMAP, 2n))).toBe("EINVAL");
    expect(errnoOf(() => v.setOneReg(KVM_REG_ARM_VENDOR_HYP_BMAP, 4n))).toBe("EINVAL");
    v.setOneReg(KVM_REG_ARM_VENDOR_HYP_BMAP, 1n);
    v.setOneReg(KVM_REG_ARM_VENDOR_HYP_BMAP_2, 3n);
    v.run();
    expect(errnoOf(() => v.setOneReg(KVM_REG_ARM_VENDOR_HYP_BMAP, 3n))).toBe("EBUSY");
    expect(errnoOf(() => v.setOneReg(KVM_REG_ARM_VENDOR_HYP_BMAP, 1n))).toBeUndefined(); // unchanged: allowed
    expect(errnoOf(() => v.setOneReg(KVM_REG_ARM_STD_BMAP, 2n))).toBe("EINVAL"); // the bit check comes first
    expect(v.getOneReg(KVM_REG_ARM_VENDOR_HYP_BMAP_2)).toBe(3n);
  });
});

describe("timer registers (kvm_arm_timer_get_reg / kvm_arm_timer_set_reg)", () => {
  test("CTL and CVAL are the guest's CNTV_CTL_EL0 / CNTV_CVAL_EL0, both ways; CTL reads ISTATUS", () => {
    const seen: number[] = [];
    const { vcpus } = vcpuWith(function* () {
      yield op.msr(CNTV_CVAL_EL0, 1000);
      yield op.msr(CNTV_CTL_EL0, ARCH_TIMER_CTRL_ENABLE);
      yield op.write(UCALL, 4, 1);
      seen.push((yield op.mrs(CNTV_CVAL_EL0)).value, (yield op.mrs(CNTV_CTL_EL0)).value);
      yield op.write(UCALL, 4, 2);
    });
    const v = vcpus[0]!;
    v.run();
    expect(v.getOneReg(KVM_REG_ARM_TIMER_CVAL)).toBe(1000n);
    expect(v.getOneReg(KVM_REG_ARM_TIMER_CTL)).toBe(BigInt(ARCH_TIMER_CTRL_ENABLE)); // counter still below 1000
    v.setOneReg(KVM_REG_ARM_TIMER_CVAL, 0n);
    expect(v.getOneReg(KVM_REG_ARM_TIMER_CTL)).toBe(BigInt(ARCH_TIMER_CTRL_ENABLE | ARCH_TIMER_CTRL_IT_STAT));
    v.setOneReg(KVM_REG_ARM_TIMER_CVAL, 77n);
    v.run();
    expect(seen[0]).toBe(77);
  });

  test("CNT reads the counter; a write moves it for every vCPU of the VM (timer_set_offset of voffset / poffset)", () => {
    const reads: bigint[] = [];
    const guest = function* (): Generator<GuestOp, void, GuestResult> {
      for (const reg of [CNTVCT_EL0, CNTPCT_EL0]) {
        const r = yield op.mrs(reg);
        reads.push((BigInt(r.hi) << 32n) | BigInt(r.value >>> 0));
      }
      yield op.write(UCALL, 4, 1);
    };
    const { vcpus, kvm } = vcpuWith(guest, 2);
    kvm.queue.runUntil(5_000_000);
    const [a, b] = [vcpus[0]!, vcpus[1]!];
    expect(a.getOneReg(KVM_REG_ARM_TIMER_CNT)).toBe(BigInt(counterTicks(kvm.queue.now - 0, kvm.vms[0]!.counterHz)));
    a.setOneReg(KVM_REG_ARM_TIMER_CNT, 1n << 62n);
    a.setOneReg(KVM_REG_ARM_PTIMER_CNT, 7n);
    expect(b.getOneReg(KVM_REG_ARM_TIMER_CNT)).toBe(1n << 62n);
    expect(b.getOneReg(KVM_REG_ARM_PTIMER_CNT)).toBe(7n);
    b.run();
    expect(reads[0]! - (1n << 62n)).toBeGreaterThanOrEqual(0n);
    expect(reads[0]! - (1n << 62n)).toBeLessThan(1000n);
    expect(reads[1]! - 7n).toBeGreaterThanOrEqual(0n);
    expect(reads[1]! - 7n).toBeLessThan(1000n);
  });

  test("after KVM_ARM_SET_COUNTER_OFFSET a CNT write is accepted and ignored (KVM_ARCH_FLAG_VM_COUNTER_OFFSET)", () => {
    const { vcpus, vm } = vcpuWith();
    const v = vcpus[0]!;
    vm.armSetCounterOffset({ counterOffset: 0n });
    const before = v.getOneReg(KVM_REG_ARM_TIMER_CNT);
    v.setOneReg(KVM_REG_ARM_TIMER_CNT, 1n << 40n);
    v.setOneReg(KVM_REG_ARM_PTIMER_CNT, 1n << 40n);
    expect(v.getOneReg(KVM_REG_ARM_TIMER_CNT)).toBe(before);
    expect(v.getOneReg(KVM_REG_ARM_PTIMER_CNT)).toBe(before);
  });
});

describe("a firing timer on a counter written close to 2^64 (the unsigned comparison, Arm ARM D11.2.4)", () => {
  test("its output falls when the counter wraps to 0, without counting another expiry", () => {
    const { vcpus, kvm } = vcpuWith(function* () {
      for (;;) yield op.wfi();
    });
    const v = vcpus[0]!;
    v.setOneReg(KVM_REG_ARM_TIMER_CVAL, 1n << 63n);
    v.setOneReg(KVM_REG_ARM_TIMER_CTL, BigInt(ARCH_TIMER_CTRL_ENABLE));
    v.setOneReg(KVM_REG_ARM_TIMER_CNT, (1n << 64n) - 25n); // 25 ticks (1 µs at 25 MHz) before the wrap
    const q = kvm.queue;
    const start = q.now;
    // Userspace irqchip: KVM_RUN reports each change of the timer's output in device_irq_level.
    let e = v.run(0, { until: start + 500 });
    expect(e.reason === 10 && e.cause).toBe("device-irq-level");
    expect(v.kvmRun.deviceIrqLevel & 1).toBe(1);
    e = v.run(0, { until: start + 5_000 });
    expect(e.reason === 10 && e.cause).toBe("device-irq-level");
    expect(v.kvmRun.deviceIrqLevel & 1).toBe(0);
    expect(q.now - start).toBeGreaterThanOrEqual(1000);
    expect(v.getOneReg(KVM_REG_ARM_TIMER_CTL)).toBe(BigInt(ARCH_TIMER_CTRL_ENABLE)); // ISTATUS clear again
    expect(kvm.tracer.counters.toJSON()["kvm.timer.vtimer_expired"] ?? 0).toBe(0);
  });
});

describe("an SMCCC call that exits returns x0..x3 as they are at the next KVM_RUN", () => {
  test("SYSTEM_SUSPEND: the VMM refuses with KVM_SET_ONE_REG(x0) = DENIED, as QEMU does; untouched, x0..x2 come back", () => {
    const seen: number[][] = [];
    const { vcpus, vm } = vcpuWith(function* () {
      for (let i = 0; i < 2; i++) seen.push([...(yield op.hvc([PSCI_1_0_FN64_SYSTEM_SUSPEND, 0x8000, 0x1234])).regs]);
      yield op.write(UCALL, 4, 1);
    });
    vm.enableCap(KVM_CAP_ARM_SYSTEM_SUSPEND, [0]);
    const v = vcpus[0]!;
    let e = v.run();
    expect(e.reason === KVM_EXIT_SYSTEM_EVENT && e.type).toBe(KVM_SYSTEM_EVENT_SUSPEND);
    expect([v.getOneReg(x(1)), v.getOneReg(x(2))]).toEqual([0x8000n, 0x1234n]); // entry point and context id
    v.setOneReg(x(0), BigInt.asUintN(64, BigInt(PSCI_RET_DENIED)));
    e = v.run();
    expect(e.reason === KVM_EXIT_SYSTEM_EVENT && e.type).toBe(KVM_SYSTEM_EVENT_SUSPEND);
    expect(v.run().reason).toBe(KVM_EXIT_MMIO);
    expect(seen).toEqual([
      [PSCI_RET_DENIED, 0x8000, 0x1234, 0],
      [PSCI_1_0_FN64_SYSTEM_SUSPEND, 0x8000, 0x1234, 0],
    ]);
  });
});
