/**
 * Linux's KVM selftest tools/testing/selftests/kvm/riscv/ebreak_test.c,
 * rewritten against irqlab's API, plus the neighbouring cases of the code it
 * exercises (arch/riscv/kvm/vcpu.c kvm_arch_vcpu_ioctl_set_guest_debug:
 * KVM_GUESTDBG_ENABLE takes EXC_BREAKPOINT out of hedeleg; vcpu_exit.c:
 * EXC_BREAKPOINT → KVM_EXIT_DEBUG).
 *
 * The guest's EBREAKs are `op.ebreak(pc)` at the addresses of upstream's
 * labels sw_bp_1 / sw_bp_2. Its guest_breakpoint_handler (installed for
 * EXC_BREAKPOINT) records regs->epc: here, an EBREAK the guest takes itself
 * returns scause (EXC_BREAKPOINT) and the handler reads sepc with csrr;
 * the model's guest then goes on after the instruction (the handler's
 * epc += 4). GUEST_DONE / GUEST_ASSERT are the selftests' RISC-V ucall: an
 * SBI ecall to KVM_RISCV_SELFTESTS_SBI_EXT (the last experimental
 * extension id, forwarded as KVM_EXIT_RISCV_SBI) with the ucall command in
 * a0 (upstream passes the address of a struct ucall holding it).
 */
import { op, type GuestProgram } from "@irqlab/sim";
import { describe, expect, test } from "vitest";
import {
  EXC_BREAKPOINT,
  KVM_CAP_SET_GUEST_DEBUG,
  KVM_EXIT_DEBUG,
  KVM_EXIT_RISCV_SBI,
  KVM_GUESTDBG_ENABLE,
  KVM_GUESTDBG_USE_SW_BP,
  Kvm,
  SBI_EXT_EXPERIMENTAL_END,
  riscvCoreReg,
  riscvCsrReg,
  type Vcpu,
  type VcpuExit,
} from "../../src/index.js";

/** Guest addresses of the labels sw_bp_1 and sw_bp_2 (.option norvc: 4-byte EBREAKs). */
const SW_BP_1 = 0x8020_0100;
const SW_BP_2 = SW_BP_1 + 4;
/** KVM_RISCV_SELFTESTS_SBI_EXT (tools/testing/selftests/kvm/include/riscv/processor.h). */
const KVM_RISCV_SELFTESTS_SBI_EXT = SBI_EXT_EXPERIMENTAL_END;
const KVM_RISCV_SELFTESTS_SBI_UCALL = 0;
const UCALL_ABORT = 2;
const UCALL_DONE = 4;
/** CSR number of sepc. */
const CSR_SEPC = 0x141;
const PC = riscvCoreReg("regs.pc");

function* ucall(cmd: number): GuestProgram {
  yield op.sbi(KVM_RISCV_SELFTESTS_SBI_EXT, KVM_RISCV_SELFTESTS_SBI_UCALL, [cmd]);
}

/** Where the guest's handler saw each breakpoint it took (its sw_bp_addr writes), for the neighbouring cases. */
interface GuestLog {
  handled: number[];
}

/** guest_code: sw_bp_1: ebreak; sw_bp_2: ebreak; GUEST_ASSERT_EQ(sw_bp_addr, sw_bp_2); GUEST_DONE(). */
function* guestCode(log: GuestLog): GuestProgram {
  let swBpAddr = 0;
  for (const pc of [SW_BP_1, SW_BP_2]) {
    const cause = (yield op.ebreak(pc)).value;
    if (cause === EXC_BREAKPOINT) {
      // guest_breakpoint_handler: WRITE_ONCE(sw_bp_addr, regs->epc).
      const epc = yield op.csrRead(CSR_SEPC);
      swBpAddr = epc.hi * 2 ** 32 + epc.value;
      log.handled.push(swBpAddr);
    }
  }
  yield* ucall(swBpAddr === SW_BP_2 ? UCALL_DONE : UCALL_ABORT);
}

function setup(): { vcpu: Vcpu; log: GuestLog; kvm: Kvm } {
  const kvm = new Kvm({ arch: "riscv64" });
  const vm = kvm.createVm();
  const vcpu = vm.createVcpu(0);
  const log: GuestLog = { handled: [] };
  vcpu.loadGuest({ main: () => guestCode(log) });
  return { vcpu, log, kvm };
}

/** get_ucall(): the command of a selftests ucall exit, or 0 (UCALL_NONE). */
function getUcall(e: VcpuExit): number {
  if (e.reason !== KVM_EXIT_RISCV_SBI || e.extensionId !== KVM_RISCV_SELFTESTS_SBI_EXT) return 0;
  return e.functionId === KVM_RISCV_SELFTESTS_SBI_UCALL ? (e.args[0] ?? 0) : 0;
}

describe("ebreak_test", () => {
  test("main: with KVM_GUESTDBG_ENABLE the EBREAK exits KVM_EXIT_DEBUG at sw_bp_1; PC + 4 and debugging off, the guest handles sw_bp_2 itself", () => {
    const { vcpu, log, kvm } = setup();
    // TEST_REQUIRE(kvm_has_cap(KVM_CAP_SET_GUEST_DEBUG)).
    expect(kvm.checkExtension(KVM_CAP_SET_GUEST_DEBUG)).toBe(1);

    // Enable the guest debug: ebreak should exit to the VMM with KVM_EXIT_DEBUG.
    vcpu.setGuestDebug(KVM_GUESTDBG_ENABLE);
    expect(vcpu.run().reason).toBe(KVM_EXIT_DEBUG);
    const pc = vcpu.getOneReg(PC);
    expect(pc).toBe(BigInt(SW_BP_1));

    // Skip sw_bp_1.
    vcpu.setOneReg(PC, pc + 4n);

    // Disable all debug controls: the guest handles the ebreak without exiting to the VMM.
    vcpu.setGuestDebug(0);
    expect(getUcall(vcpu.run())).toBe(UCALL_DONE);
    expect(log.handled).toEqual([SW_BP_2]);
  });

  test("kvm_arch_vcpu_ioctl_set_guest_debug: KVM_GUESTDBG_ENABLE alone stops the vCPU (no KVM_GUESTDBG_USE_SW_BP needed on RISC-V), and the guest never sees the breakpoint", () => {
    const { vcpu, log } = setup();
    vcpu.setGuestDebug(KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_USE_SW_BP);
    expect(vcpu.run().reason).toBe(KVM_EXIT_DEBUG);
    expect(vcpu.getOneReg(PC)).toBe(BigInt(SW_BP_1));
    vcpu.setOneReg(PC, BigInt(SW_BP_1 + 4));
    expect(vcpu.run().reason).toBe(KVM_EXIT_DEBUG);
    expect(vcpu.getOneReg(PC)).toBe(BigInt(SW_BP_2));
    vcpu.setOneReg(PC, BigInt(SW_BP_2 + 4));
    // Both stepped over: the handler never ran, so sw_bp_addr is still 0 and GUEST_ASSERT_EQ fails.
    expect(getUcall(vcpu.run())).toBe(UCALL_ABORT);
    expect(log.handled).toEqual([]);
  });

  test("resuming with PC still at the EBREAK executes it again: another KVM_EXIT_DEBUG, or the guest's own trap once debugging is off", () => {
    const { vcpu, log } = setup();
    vcpu.setGuestDebug(KVM_GUESTDBG_ENABLE);
    expect(vcpu.run().reason).toBe(KVM_EXIT_DEBUG);
    expect(vcpu.run().reason).toBe(KVM_EXIT_DEBUG);
    expect(vcpu.getOneReg(PC)).toBe(BigInt(SW_BP_1));
    vcpu.setGuestDebug(0);
    expect(getUcall(vcpu.run())).toBe(UCALL_DONE);
    expect(log.handled).toEqual([SW_BP_1, SW_BP_2]);
  });

  test("debugging off: EXC_BREAKPOINT is delegated — scause 3, sepc = the EBREAK's address, no exit", () => {
    const { vcpu, log } = setup();
    expect(getUcall(vcpu.run())).toBe(UCALL_DONE);
    expect(log.handled).toEqual([SW_BP_1, SW_BP_2]);
    expect(vcpu.getOneReg(riscvCsrReg("scause"))).toBe(BigInt(EXC_BREAKPOINT));
    expect(vcpu.getOneReg(riscvCsrReg("sepc"))).toBe(BigInt(SW_BP_2));
  });
});
