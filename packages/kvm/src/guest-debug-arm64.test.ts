/**
 * arm64 guest debugging: KVM_SET_GUEST_DEBUG (arch/arm64/kvm/guest.c
 * kvm_arch_vcpu_ioctl_set_guest_debug), a BRK taken to the host while it is
 * on (debug.c kvm_arm_setup_mdcr_el2 → MDCR_EL2.TDE; handle_exit.c
 * kvm_handle_guest_debug → KVM_EXIT_DEBUG with the ESR in debug.arch.hsr),
 * and resuming at or past the breakpoint through PC
 * (Documentation/virt/kvm/api.rst KVM_SET_GUEST_DEBUG, KVM_EXIT_DEBUG).
 */
import { op, type GuestOp, type GuestResult } from "@irqlab/sim";
import { describe, expect, test } from "vitest";
import { Kvm } from "./kvm.js";
import { KVM_DEBUG_ARCH_HSR_HIGH_VALID } from "./kvm-run.js";
import { CORE_OFF, arm64CoreReg } from "./one-reg/arm64-reg-ids.js";
import { KVM_ARM_TARGET_GENERIC_V8 } from "./uapi/device-types.js";
import { KVM_EXIT_DEBUG, KVM_EXIT_MMIO } from "./uapi/exit-reasons.js";
import {
  ESR_ELx_EC_BRK64,
  ESR_ELx_EC_SHIFT,
  ESR_ELx_IL,
  KVM_GUESTDBG_ENABLE,
  KVM_GUESTDBG_SINGLESTEP,
  KVM_GUESTDBG_USE_HW,
  KVM_GUESTDBG_USE_SW_BP,
  brkEsr,
} from "./uapi/guest-debug.js";
import type { Vcpu } from "./vcpu.js";
import { errnoOf } from "../test/errno-of.js";

const PC = arm64CoreReg(CORE_OFF.pc);
const BP_ADDR = 0x4000_1000;
const UCALL = 0x2000_0000;

/** A guest that stores 1, hits BRK #imm at BP_ADDR, then stores 2; `seen` gets the BRK's result value. */
function breakpointGuest(imm: number): { vcpu: Vcpu; seen: number[] } {
  const seen: number[] = [];
  const vcpu = new Kvm({ arch: "arm64" }).createVm().createVcpu(0);
  vcpu.armVcpuInit({ target: KVM_ARM_TARGET_GENERIC_V8 });
  vcpu.loadGuest({
    main: function* (): Generator<GuestOp, void, GuestResult> {
      yield op.write(UCALL, 4, 1);
      seen.push((yield op.brk(imm, BP_ADDR)).value);
      yield op.write(UCALL, 4, 2);
    },
  });
  return { vcpu, seen };
}

/** The value of the next ucall store, failing on any other exit. */
function ucall(vcpu: Vcpu): number {
  const e = vcpu.run();
  if (e.reason !== KVM_EXIT_MMIO) throw new Error(`expected KVM_EXIT_MMIO, got ${e.reason}`);
  return e.value;
}

describe("KVM_SET_GUEST_DEBUG (kvm_arch_vcpu_ioctl_set_guest_debug)", () => {
  test("a control bit outside KVM_GUESTDBG_VALID_MASK is EINVAL; the four valid ones are accepted", () => {
    const { vcpu } = breakpointGuest(0);
    expect(errnoOf(() => { vcpu.setGuestDebug(KVM_GUESTDBG_ENABLE | 0x4); })).toBe("EINVAL");
    expect(errnoOf(() => { vcpu.setGuestDebug(1 << 18); })).toBe("EINVAL");
    expect(errnoOf(() => { vcpu.setGuestDebug(KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_SINGLESTEP | KVM_GUESTDBG_USE_SW_BP | KVM_GUESTDBG_USE_HW); })).toBeUndefined();
  });

  test("the BRK syndrome: EC_BRK64 (0x3c) << 26 | IL | imm16", () => {
    expect(brkEsr(0x1234)).toBe(((ESR_ELx_EC_BRK64 << ESR_ELx_EC_SHIFT) | ESR_ELx_IL | 0x1234) >>> 0);
    expect(brkEsr(0x1234)).toBe(0xf200_1234);
  });
});

describe("BRK with guest debugging on: KVM_EXIT_DEBUG (kvm_handle_guest_debug)", () => {
  test("exits with hsr = the BRK's ESR, hsr_high valid and 0, PC = the breakpoint's address", () => {
    const { vcpu, seen } = breakpointGuest(0x7);
    vcpu.setGuestDebug(KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_USE_SW_BP);
    expect(ucall(vcpu)).toBe(1);
    const e = vcpu.run();
    expect(e.reason).toBe(KVM_EXIT_DEBUG);
    if (e.reason !== KVM_EXIT_DEBUG) return;
    expect([e.hsr, e.hsrHigh, e.far, e.flags]).toEqual([brkEsr(7), 0, 0, KVM_DEBUG_ARCH_HSR_HIGH_VALID]);
    expect(e.hsr >>> ESR_ELx_EC_SHIFT).toBe(ESR_ELx_EC_BRK64);
    expect(vcpu.getOneReg(PC)).toBe(BigInt(BP_ADDR));
    expect(seen).toEqual([]);
  });

  test("resuming with PC unchanged executes the BRK again; PC + 4 goes on after it, unseen by the guest", () => {
    const { vcpu, seen } = breakpointGuest(0x7);
    vcpu.setGuestDebug(KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_USE_SW_BP);
    expect(ucall(vcpu)).toBe(1);
    expect(vcpu.run().reason).toBe(KVM_EXIT_DEBUG);
    expect(vcpu.run().reason).toBe(KVM_EXIT_DEBUG); // the same breakpoint again
    expect(vcpu.getOneReg(PC)).toBe(BigInt(BP_ADDR));
    vcpu.setOneReg(PC, BigInt(BP_ADDR + 4));
    expect(ucall(vcpu)).toBe(2);
    expect(seen).toEqual([0]);
    expect(vcpu.getOneReg(PC)).toBe(BigInt(BP_ADDR + 4));
  });

  test("ENABLE alone routes the BRK to the host too: MDCR_EL2.TDE follows vcpu->guest_debug, not USE_SW_BP", () => {
    const { vcpu } = breakpointGuest(0);
    vcpu.setGuestDebug(KVM_GUESTDBG_ENABLE);
    expect(ucall(vcpu)).toBe(1);
    expect(vcpu.run().reason).toBe(KVM_EXIT_DEBUG);
  });

  test("turning debugging off while stopped: the BRK is re-executed and now the guest takes it", () => {
    const { vcpu, seen } = breakpointGuest(0x42);
    vcpu.setGuestDebug(KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_USE_SW_BP);
    expect(ucall(vcpu)).toBe(1);
    expect(vcpu.run().reason).toBe(KVM_EXIT_DEBUG);
    vcpu.setGuestDebug(0);
    expect(ucall(vcpu)).toBe(2);
    expect(seen).toEqual([brkEsr(0x42)]);
  });
});

describe("BRK without guest debugging: the guest's own debug exception", () => {
  test.each([
    ["off", 0],
    ["USE_SW_BP without ENABLE (guest_debug cleared)", KVM_GUESTDBG_USE_SW_BP],
  ])("%s: no exit; the op returns the ESR the guest's handler reads", (_name, control) => {
    const { vcpu, seen } = breakpointGuest(0x99);
    vcpu.setGuestDebug(control);
    expect(ucall(vcpu)).toBe(1);
    expect(ucall(vcpu)).toBe(2);
    expect(seen).toEqual([brkEsr(0x99)]);
  });
});
