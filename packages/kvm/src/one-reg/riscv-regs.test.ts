/**
 * RISC-V KVM_GET/SET_ONE_REG as arch/riscv/kvm/vcpu_onereg.c, vcpu_sbi.c,
 * vcpu_timer.c and aia.c answer them, on the modelled host (RV64IMAC + H,
 * Sstc, Ssaia, Zicntr, Zicsr), and what the registers mean for the running
 * guest: SBI extensions disabled by the VMM, the ecall registers, hart_start's
 * reset registers, CSRs and the Sstc timer.
 */
import { op, type GuestProgram, type GuestResult } from "@irqlab/sim";
import { describe, expect, test } from "vitest";
import {
  CSR_SIE,
  CSR_SSTATUS,
  CSR_STIMECMP,
  CSR_TIME,
  IRQ_S_SOFT,
  IRQ_S_TIMER,
  KVM_EXIT_MMIO,
  KVM_EXIT_RISCV_SBI,
  KVM_MP_STATE_STOPPED,
  KVM_REG_ARM64,
  KVM_REG_RISCV,
  KVM_REG_RISCV_CORE,
  KVM_REG_RISCV_FP_F,
  KVM_REG_RISCV_ISA_EXT,
  KVM_REG_RISCV_ISA_MULTI_DIS,
  KVM_REG_RISCV_ISA_MULTI_EN,
  KVM_REG_RISCV_SBI_EXT,
  KVM_REG_RISCV_SBI_MULTI_DIS,
  KVM_REG_RISCV_SBI_MULTI_EN,
  KVM_REG_RISCV_SBI_STATE,
  KVM_REG_SIZE_U32,
  KVM_REG_SIZE_U64,
  KVM_RISCV_ISA_EXT_A,
  KVM_RISCV_ISA_EXT_C,
  KVM_RISCV_ISA_EXT_H,
  KVM_RISCV_ISA_EXT_I,
  KVM_RISCV_ISA_EXT_M,
  KVM_RISCV_ISA_EXT_SSAIA,
  KVM_RISCV_ISA_EXT_SSTC,
  KVM_RISCV_ISA_EXT_ZBB,
  KVM_RISCV_ISA_EXT_ZICNTR,
  KVM_RISCV_ISA_EXT_ZICSR,
  KVM_RISCV_MODE_S,
  KVM_RISCV_MODE_U,
  KVM_RISCV_SBI_EXT_DBCN,
  KVM_RISCV_SBI_EXT_PMU,
  KVM_RISCV_SBI_EXT_SUSP,
  KVM_RISCV_SBI_EXT_TIME,
  KVM_RISCV_TIMER_STATE_OFF,
  KVM_RISCV_TIMER_STATE_ON,
  Kvm,
  SBI_ERR_NOT_SUPPORTED,
  SBI_EXT_BASE,
  SBI_EXT_BASE_GET_MVENDORID,
  SBI_EXT_BASE_PROBE_EXT,
  SBI_EXT_DBCN,
  SBI_EXT_HSM,
  SBI_EXT_HSM_HART_START,
  SBI_EXT_IPI,
  SBI_EXT_IPI_SEND_IPI,
  SBI_EXT_TIME,
  SBI_EXT_TIME_SET_TIMER,
  riscvAiaCsrReg,
  riscvConfigReg,
  riscvCoreReg,
  riscvCsrReg,
  riscvIsaExtReg,
  riscvSbiExtReg,
  riscvTimerReg,
  type Vcpu,
} from "../index.js";

const MMIO_DONE = 0x1000_0000;

function riscvVcpu(): { kvm: Kvm; vcpu: Vcpu } {
  const kvm = new Kvm({ arch: "riscv64" });
  return { kvm, vcpu: kvm.createVm().createVcpu(0) };
}

function code(f: () => unknown): string | undefined {
  try {
    f();
    return undefined;
  } catch (e) {
    return (e as { code?: string }).code;
  }
}

describe("RISC-V ONE_REG errnos (vcpu_onereg.c)", () => {
  test("a size other than unsigned long's is EINVAL before the register is looked at; unknown registers and types are ENOENT", () => {
    const { vcpu } = riscvVcpu();
    const u32 = (id: bigint): bigint => (id & ~0x00f0_0000_0000_0000n) | KVM_REG_SIZE_U32;
    expect(code(() => vcpu.getOneReg(u32(riscvConfigReg("isa"))))).toBe("EINVAL");
    expect(code(() => vcpu.getOneReg(u32(KVM_REG_RISCV | KVM_REG_RISCV_CORE | 99n)))).toBe("EINVAL");
    expect(code(() => vcpu.getOneReg(KVM_REG_RISCV | KVM_REG_SIZE_U64 | KVM_REG_RISCV_CORE | 33n))).toBe("ENOENT");
    expect(code(() => vcpu.getOneReg(riscvConfigReg("zicbom_block_size")))).toBe("ENOENT");
    expect(code(() => vcpu.setOneReg(riscvConfigReg("zicboz_block_size"), 64n))).toBe("ENOENT");
    expect(code(() => vcpu.getOneReg(KVM_REG_RISCV | KVM_REG_SIZE_U32 | KVM_REG_RISCV_FP_F | 0n))).toBe("ENOENT");
    expect(code(() => vcpu.getOneReg(KVM_REG_RISCV | KVM_REG_SIZE_U64 | KVM_REG_RISCV_SBI_STATE | 0n))).toBe("ENOENT");
    expect(code(() => vcpu.getOneReg(KVM_REG_RISCV | KVM_REG_SIZE_U64 | (0x0bn << 24n)))).toBe("ENOENT");
    // No architecture check: an arm64 id's type field is 0, which no handler claims.
    expect(code(() => vcpu.getOneReg(KVM_REG_ARM64 | KVM_REG_SIZE_U64 | 0x0010_0000n))).toBe("ENOENT");
    // Garbage above the type is part of the register number (reg->id & ~(ARCH | SIZE | TYPE)).
    expect(code(() => vcpu.getOneReg(riscvCoreReg("regs.a0") | (1n << 40n)))).toBe("ENOENT");
  });
});

describe("CONFIG (kvm_riscv_vcpu_get_reg_config / set_reg_config)", () => {
  test("isa is the single-letter bits IMAC; a write is forced to what may change (nothing here), EINVAL past bit 24, EBUSY after the first run", () => {
    const { vcpu } = riscvVcpu();
    const isa = riscvConfigReg("isa");
    const imac = (1n << 0n) | (1n << 2n) | (1n << 8n) | (1n << 12n);
    expect(vcpu.getOneReg(isa)).toBe(imac);
    vcpu.setOneReg(isa, 0n); // A, C, I, M cannot be disabled: forced back on
    expect(vcpu.getOneReg(isa)).toBe(imac);
    vcpu.setOneReg(isa, imac | (1n << 7n)); // H may not be enabled: dropped
    expect(vcpu.getOneReg(isa)).toBe(imac);
    expect(code(() => vcpu.setOneReg(isa, 1n << 25n))).toBe("EINVAL"); // fls(reg_val) >= RISCV_ISA_EXT_BASE
    vcpu.loadGuest({ main: function* () { yield op.read(MMIO_DONE, 4); } });
    vcpu.run();
    vcpu.setOneReg(isa, imac); // the same value is always fine
    expect(code(() => vcpu.setOneReg(isa, 0n))).toBe("EBUSY");
  });

  test("mvendorid/marchid/mimpid are the vCPU's until it runs; satp_mode is the host's Sv57 and only that may be written", () => {
    const { vcpu } = riscvVcpu();
    expect(vcpu.getOneReg(riscvConfigReg("mvendorid"))).toBe(0n);
    vcpu.setOneReg(riscvConfigReg("marchid"), 0x8000_0000_0000_0007n);
    expect(vcpu.getOneReg(riscvConfigReg("marchid"))).toBe(0x8000_0000_0000_0007n);
    expect(vcpu.getOneReg(riscvConfigReg("satp_mode"))).toBe(10n);
    expect(code(() => vcpu.setOneReg(riscvConfigReg("satp_mode"), 9n))).toBe("EINVAL");
    vcpu.setOneReg(riscvConfigReg("mvendorid"), 0x489n);
    const ids: number[] = [];
    vcpu.loadGuest({
      main: function* (): GuestProgram {
        // vcpu_sbi_base.c answers sbi_get_mvendorid/marchid with vcpu->arch's values.
        ids.push((yield op.sbi(SBI_EXT_BASE, SBI_EXT_BASE_GET_MVENDORID)).value);
        ids.push((yield op.sbi(SBI_EXT_BASE, SBI_EXT_BASE_GET_MVENDORID + 2)).value);
        yield op.read(MMIO_DONE, 4);
      },
    });
    vcpu.run();
    expect(ids).toEqual([0x489, 0]);
    vcpu.setOneReg(riscvConfigReg("marchid"), 0x8000_0000_0000_0007n);
    expect(code(() => vcpu.setOneReg(riscvConfigReg("mimpid"), 1n))).toBe("EBUSY");
  });
});

describe("ISA_EXT (riscv_vcpu_get/set_isa_ext_single, _multi; isa.c)", () => {
  const hostExts = [KVM_RISCV_ISA_EXT_A, KVM_RISCV_ISA_EXT_C, KVM_RISCV_ISA_EXT_H, KVM_RISCV_ISA_EXT_I, KVM_RISCV_ISA_EXT_M, KVM_RISCV_ISA_EXT_SSTC, KVM_RISCV_ISA_EXT_SSAIA, KVM_RISCV_ISA_EXT_ZICNTR, KVM_RISCV_ISA_EXT_ZICSR];

  test("the host's extensions read 1 but H (never enabled for a guest); others are ENOENT; nothing can be toggled on this host", () => {
    const { vcpu } = riscvVcpu();
    for (const e of hostExts) expect(vcpu.getOneReg(riscvIsaExtReg(e)), `ext ${e}`).toBe(e === KVM_RISCV_ISA_EXT_H ? 0n : 1n);
    expect(code(() => vcpu.getOneReg(riscvIsaExtReg(KVM_RISCV_ISA_EXT_ZBB)))).toBe("ENOENT");
    expect(code(() => vcpu.setOneReg(riscvIsaExtReg(KVM_RISCV_ISA_EXT_H), 1n))).toBe("EINVAL");
    expect(code(() => vcpu.setOneReg(riscvIsaExtReg(KVM_RISCV_ISA_EXT_A), 0n))).toBe("EINVAL");
    expect(code(() => vcpu.setOneReg(riscvIsaExtReg(KVM_RISCV_ISA_EXT_SSTC), 0n))).toBe("EINVAL");
    // Ssaia could only be disabled through Smstateen, which the host lacks.
    expect(code(() => vcpu.setOneReg(riscvIsaExtReg(KVM_RISCV_ISA_EXT_SSAIA), 0n))).toBe("EINVAL");
    vcpu.setOneReg(riscvIsaExtReg(KVM_RISCV_ISA_EXT_H), 0n);
    vcpu.setOneReg(riscvIsaExtReg(KVM_RISCV_ISA_EXT_M), 1n);
  });

  test("MULTI_EN / MULTI_DIS bitmaps; writes ignore each bit's error; beyond KVM_REG_RISCV_ISA_MULTI_REG_LAST is ENOENT; EBUSY after run only for a change", () => {
    const { vcpu } = riscvVcpu();
    const ulong = KVM_REG_RISCV | KVM_REG_SIZE_U64 | KVM_REG_RISCV_ISA_EXT;
    const en = hostExts.filter((e) => e !== KVM_RISCV_ISA_EXT_H).reduce((m, e) => m | (1n << BigInt(e)), 0n);
    expect(vcpu.getOneReg(ulong | KVM_REG_RISCV_ISA_MULTI_EN | 0n)).toBe(en);
    expect(vcpu.getOneReg(ulong | KVM_REG_RISCV_ISA_MULTI_DIS | 0n)).toBe(~en & 0xffff_ffff_ffff_ffffn);
    expect(vcpu.getOneReg(ulong | KVM_REG_RISCV_ISA_MULTI_EN | 1n)).toBe(0n);
    expect(code(() => vcpu.getOneReg(ulong | KVM_REG_RISCV_ISA_MULTI_EN | 2n))).toBe("ENOENT");
    vcpu.setOneReg(ulong | KVM_REG_RISCV_ISA_MULTI_DIS | 0n, 0xffff_ffff_ffff_ffffn);
    expect(vcpu.getOneReg(ulong | KVM_REG_RISCV_ISA_MULTI_EN | 0n)).toBe(en);
    vcpu.loadGuest({ main: function* () { yield op.read(MMIO_DONE, 4); } });
    vcpu.run();
    vcpu.setOneReg(riscvIsaExtReg(KVM_RISCV_ISA_EXT_H), 0n);
    expect(code(() => vcpu.setOneReg(riscvIsaExtReg(KVM_RISCV_ISA_EXT_H), 1n))).toBe("EBUSY");
  });
});

describe("SBI_EXT (vcpu_sbi.c) and what the guest's ecalls see", () => {
  test("DBCN starts disabled (default_disabled), the rest enabled; PMU and SUSP are unavailable: ENOENT; values other than 0/1 EINVAL; any write after the first run EBUSY", () => {
    const { vcpu } = riscvVcpu();
    expect(vcpu.getOneReg(riscvSbiExtReg(KVM_RISCV_SBI_EXT_DBCN))).toBe(0n);
    expect(vcpu.getOneReg(riscvSbiExtReg(KVM_RISCV_SBI_EXT_TIME))).toBe(1n);
    expect(code(() => vcpu.getOneReg(riscvSbiExtReg(KVM_RISCV_SBI_EXT_PMU)))).toBe("ENOENT");
    expect(code(() => vcpu.setOneReg(riscvSbiExtReg(KVM_RISCV_SBI_EXT_SUSP), 1n))).toBe("ENOENT");
    expect(code(() => vcpu.setOneReg(riscvSbiExtReg(KVM_RISCV_SBI_EXT_DBCN), 2n))).toBe("EINVAL");
    const multi = KVM_REG_RISCV | KVM_REG_SIZE_U64 | KVM_REG_RISCV_SBI_EXT;
    expect(vcpu.getOneReg(multi | KVM_REG_RISCV_SBI_MULTI_EN | 0n)).toBe(0b1_1011_1111n); // V01..HSM, EXPERIMENTAL, VENDOR
    vcpu.setOneReg(multi | KVM_REG_RISCV_SBI_MULTI_EN | 0n, 1n << BigInt(KVM_RISCV_SBI_EXT_DBCN));
    expect(vcpu.getOneReg(multi | KVM_REG_RISCV_SBI_MULTI_DIS | 0n)).toBe(~0b11_1011_1111n & 0xffff_ffff_ffff_ffffn);
    expect(code(() => vcpu.getOneReg(multi | KVM_REG_RISCV_SBI_MULTI_EN | 1n))).toBe("ENOENT");
    vcpu.loadGuest({ main: function* () { yield op.read(MMIO_DONE, 4); } });
    vcpu.run();
    expect(code(() => vcpu.setOneReg(riscvSbiExtReg(KVM_RISCV_SBI_EXT_DBCN), 1n))).toBe("EBUSY");
  });

  test("a disabled extension answers SBI_ERR_NOT_SUPPORTED without an exit and probes 0; enabled DBCN is forwarded to userspace", () => {
    for (const enableDbcn of [false, true]) {
      const { vcpu } = riscvVcpu();
      if (enableDbcn) vcpu.setOneReg(riscvSbiExtReg(KVM_RISCV_SBI_EXT_DBCN), 1n);
      vcpu.setOneReg(riscvSbiExtReg(KVM_RISCV_SBI_EXT_TIME), 0n);
      const seen: number[] = [];
      vcpu.loadGuest({
        main: function* (): GuestProgram {
          seen.push((yield op.sbi(SBI_EXT_BASE, SBI_EXT_BASE_PROBE_EXT, [SBI_EXT_DBCN])).value);
          seen.push((yield op.sbi(SBI_EXT_BASE, SBI_EXT_BASE_PROBE_EXT, [SBI_EXT_TIME])).value);
          seen.push((yield op.sbi(SBI_EXT_TIME, SBI_EXT_TIME_SET_TIMER, [100])).error);
          seen.push((yield op.sbi(SBI_EXT_DBCN, 2, [0x41])).error);
          yield op.read(MMIO_DONE, 4);
        },
      });
      const e = vcpu.run();
      if (enableDbcn) {
        expect(e.reason).toBe(KVM_EXIT_RISCV_SBI);
        expect(seen).toEqual([1, 0, SBI_ERR_NOT_SUPPORTED]);
      } else {
        expect(e.reason).toBe(KVM_EXIT_MMIO);
        expect(seen).toEqual([0, 0, SBI_ERR_NOT_SUPPORTED, SBI_ERR_NOT_SUPPORTED]);
      }
    }
  });

  test("during a forwarded call a0..a5 are its arguments, a6 the function, a7 the extension; at the next KVM_RUN ret[] becomes a0/a1 over a ONE_REG write (kvm_riscv_vcpu_sbi_return)", () => {
    const { vcpu } = riscvVcpu();
    vcpu.setOneReg(riscvSbiExtReg(KVM_RISCV_SBI_EXT_DBCN), 1n);
    let got: GuestResult | undefined;
    vcpu.loadGuest({
      main: function* (): GuestProgram {
        const r = yield op.sbi(SBI_EXT_DBCN, 0, [5, 0x8000_1000, 0, 3, 4, -1]);
        got = { ...r };
        yield op.read(MMIO_DONE, 4);
      },
    });
    const e = vcpu.run();
    expect(e.reason).toBe(KVM_EXIT_RISCV_SBI);
    const a = (i: number): bigint => vcpu.getOneReg(riscvCoreReg(`regs.a${i}` as "regs.a0"));
    expect([a(0), a(1), a(2), a(3), a(4), a(5), a(6), a(7)]).toEqual([5n, 0x8000_1000n, 0n, 3n, 4n, 0xffff_ffff_ffff_ffffn, 0n, BigInt(SBI_EXT_DBCN)]);
    if (e.reason !== KVM_EXIT_RISCV_SBI) return;
    e.ret[0] = 0;
    e.ret[1] = 5;
    vcpu.setOneReg(riscvCoreReg("regs.a0"), 0x77n);
    expect(vcpu.run().reason).toBe(KVM_EXIT_MMIO);
    expect(got?.error).toBe(0);
    expect(got?.value).toBe(5);
    expect([a(0), a(1)]).toEqual([0n, 5n]);
  });

  test("an in-kernel call leaves a0 = sbiret.error, a1 = sbiret.value", () => {
    const { vcpu } = riscvVcpu();
    vcpu.loadGuest({
      main: function* (): GuestProgram {
        yield op.sbi(SBI_EXT_BASE, SBI_EXT_BASE_PROBE_EXT, [SBI_EXT_HSM]);
        yield op.read(MMIO_DONE, 4);
      },
    });
    vcpu.run();
    expect(vcpu.getOneReg(riscvCoreReg("regs.a0"))).toBe(0n);
    expect(vcpu.getOneReg(riscvCoreReg("regs.a1"))).toBe(1n);
    expect(vcpu.getOneReg(riscvCoreReg("regs.a7"))).toBe(BigInt(SBI_EXT_BASE));
  });
});

describe("CORE: pc and mode", () => {
  test("hart_start: the target's pc = start_addr, a0 = its hart id, a1 = opaque (kvm_riscv_vcpu_sbi_load_reset_state)", () => {
    const kvm = new Kvm({ arch: "riscv64" });
    const vm = kvm.createVm();
    const boot = vm.createVcpu(0);
    const second = vm.createVcpu(1);
    second.setMpState(KVM_MP_STATE_STOPPED);
    boot.loadGuest({
      main: function* (): GuestProgram {
        yield op.sbi(SBI_EXT_HSM, SBI_EXT_HSM_HART_START, [1, 0x8020_0000, 0xabcd]);
        yield op.read(MMIO_DONE, 4);
      },
    });
    second.loadGuest({ main: function* () { yield op.read(MMIO_DONE, 4); }, secondary: function* () { yield op.read(MMIO_DONE + 4, 4); } });
    boot.run();
    expect(second.run().reason).toBe(KVM_EXIT_MMIO);
    expect(second.getOneReg(riscvCoreReg("regs.pc"))).toBe(0x8020_0000n);
    expect(second.getOneReg(riscvCoreReg("regs.a0"))).toBe(1n);
    expect(second.getOneReg(riscvCoreReg("regs.a1"))).toBe(0xabcdn);
  });

  test("loadGuest's boot registers are a0, a1.. as the VMM's KVM_SET_ONE_REG would leave them (a0 = hart id, a1 = device tree)", () => {
    const { vcpu } = riscvVcpu();
    vcpu.loadGuest({ main: function* () { yield op.read(MMIO_DONE, 4); } }, [3, 0x8220_0000]);
    expect(vcpu.getOneReg(riscvCoreReg("regs.a0"))).toBe(3n);
    expect(vcpu.getOneReg(riscvCoreReg("regs.a1"))).toBe(0x8220_0000n);
  });

  test("mode reads KVM_RISCV_MODE_S (the guest runs in VS-mode); a write of anything but S is U; other GPRs hold what the VMM wrote", () => {
    const { vcpu } = riscvVcpu();
    expect(vcpu.getOneReg(riscvCoreReg("mode"))).toBe(KVM_RISCV_MODE_S);
    vcpu.setOneReg(riscvCoreReg("mode"), 7n);
    expect(vcpu.getOneReg(riscvCoreReg("mode"))).toBe(KVM_RISCV_MODE_U);
    vcpu.setOneReg(riscvCoreReg("regs.t6"), 0xdead_beef_0000_0001n);
    expect(vcpu.getOneReg(riscvCoreReg("regs.t6"))).toBe(0xdead_beef_0000_0001n);
  });
});

describe("CSR general and AIA (kvm_riscv_vcpu_general_get_csr, kvm_riscv_vcpu_aia_get_csr)", () => {
  test("sstatus.SIE is the guest's interrupt mask; sie is the irqchip's; plain CSRs are what the guest reads with csrr", () => {
    const { vcpu } = riscvVcpu();
    const seen: number[] = [];
    vcpu.loadGuest({
      main: function* (): GuestProgram {
        yield op.csrWrite(CSR_SIE, 1 << IRQ_S_SOFT);
        yield op.csrWrite(0x140, 0x1234); // sscratch
        yield op.read(MMIO_DONE, 4);
        seen.push((yield op.csrRead(0x105)).value); // stvec, written by the VMM
        seen.push((yield op.csrRead(CSR_SSTATUS)).value & 2);
        yield op.read(MMIO_DONE, 4);
      },
    });
    vcpu.run();
    expect(vcpu.getOneReg(riscvCsrReg("sie"))).toBe(BigInt(1 << IRQ_S_SOFT));
    expect(vcpu.getOneReg(riscvCsrReg("sscratch"))).toBe(0x1234n);
    expect(vcpu.getOneReg(riscvCsrReg("sstatus")) & 2n).toBe(0n);
    vcpu.setOneReg(riscvCsrReg("stvec"), 0x8000_0100n);
    vcpu.setOneReg(riscvCsrReg("sstatus"), 2n);
    vcpu.run();
    expect(seen).toEqual([0x8000_0100, 2]);
  });

  test("sip shows what KVM injects (SSIP from an IPI; never STIP under Sstc); a write sets SSIP/SEIP lines and STIP, but clearing STIP leaves vstimecmp's", () => {
    const { vcpu } = riscvVcpu();
    vcpu.loadGuest({
      main: function* (): GuestProgram {
        yield op.sbi(SBI_EXT_IPI, SBI_EXT_IPI_SEND_IPI, [1, 0]);
        yield op.csrWrite(CSR_STIMECMP, 0);
        yield op.compute(1000);
        yield op.read(MMIO_DONE, 4);
      },
    });
    vcpu.run();
    expect(vcpu.getOneReg(riscvCsrReg("sip"))).toBe(BigInt(1 << IRQ_S_SOFT));
    vcpu.setOneReg(riscvCsrReg("sip"), 0n);
    expect(vcpu.getOneReg(riscvCsrReg("sip"))).toBe(0n);
    // The guest's stimecmp = 0 made the timer pending: not in sip, and a write of sip does not clear it.
    expect(vcpu.irqChip.csr("csrrs", 0x144, 0, 0, { hi: 0 })).toBe(1 << IRQ_S_TIMER);
    vcpu.setOneReg(riscvCsrReg("sip"), BigInt((1 << 9) | (1 << 5)));
    expect(vcpu.getOneReg(riscvCsrReg("sip"))).toBe(BigInt(1 << 9));
  });

  test("AIA CSRs exist with Ssaia: siselect is the guest's, iprio1..iprio2h are kept; other numbers ENOENT", () => {
    const { vcpu } = riscvVcpu();
    vcpu.setOneReg(riscvAiaCsrReg("siselect"), 0x70n);
    vcpu.setOneReg(riscvAiaCsrReg("iprio2h"), 0x55n);
    expect(vcpu.getOneReg(riscvAiaCsrReg("siselect"))).toBe(0x70n);
    expect(vcpu.getOneReg(riscvAiaCsrReg("iprio2h"))).toBe(0x55n);
    expect(vcpu.getOneReg(riscvAiaCsrReg("iprio1"))).toBe(0n);
    expect(code(() => vcpu.getOneReg(riscvAiaCsrReg("siselect") + 7n))).toBe("ENOENT");
    expect(code(() => vcpu.getOneReg(riscvCsrReg("senvcfg") + 1n))).toBe("ENOENT");
  });
});

describe("TIMER (vcpu_timer.c, Sstc host)", () => {
  test("frequency is riscv_timebase and only that may be written; time is the guest's rdtime and a write moves it for the VM", () => {
    const { kvm, vcpu } = riscvVcpu();
    const hz = BigInt(vcpu.vm.timebaseHz);
    expect(vcpu.getOneReg(riscvTimerReg("frequency"))).toBe(hz);
    expect(code(() => vcpu.setOneReg(riscvTimerReg("frequency"), hz + 1n))).toBe("EINVAL");
    kvm.queue.runUntil(1_000_000);
    expect(vcpu.getOneReg(riscvTimerReg("time"))).toBe(hz / 1000n);
    vcpu.setOneReg(riscvTimerReg("time"), 5_000_000n);
    const seen: number[] = [];
    vcpu.loadGuest({ main: function* (): GuestProgram { seen.push((yield op.csrRead(CSR_TIME)).value); yield op.read(MMIO_DONE, 4); } });
    vcpu.run();
    expect(seen[0]).toBeGreaterThanOrEqual(5_000_000);
    expect(seen[0]).toBeLessThan(5_000_100);
  });

  test("moving time re-evaluates an armed compare at once (vstimecmp against the new time)", () => {
    const { vcpu } = riscvVcpu();
    const line = (): number => vcpu.irqChip.csr("csrrs", 0x144, 0, 0, { hi: 0 }) & (1 << IRQ_S_TIMER);
    vcpu.setOneReg(riscvTimerReg("compare"), 1_000_000n);
    vcpu.vm.queue.runUntil(vcpu.vm.queue.now + 1000);
    expect(line()).toBe(0);
    vcpu.setOneReg(riscvTimerReg("time"), 2_000_000n);
    vcpu.vm.queue.runUntil(vcpu.vm.queue.now + 1);
    expect(line()).toBe(1 << IRQ_S_TIMER);
    vcpu.setOneReg(riscvTimerReg("time"), 0n);
    expect(line()).toBe(0);
  });

  test("compare is vstimecmp: all ones after reset, then what stimecmp or SBI set_timer wrote; writing it arms the timer; state reads OFF and only ON may be written", () => {
    const { kvm, vcpu } = riscvVcpu();
    expect(vcpu.getOneReg(riscvTimerReg("compare"))).toBe(0xffff_ffff_ffff_ffffn);
    vcpu.loadGuest({
      main: function* (): GuestProgram {
        yield op.sbi(SBI_EXT_TIME, SBI_EXT_TIME_SET_TIMER, [1_000_000]);
        yield op.read(MMIO_DONE, 4);
        yield op.csrWrite(CSR_STIMECMP, 0x10, 0x2);
        yield op.read(MMIO_DONE, 4);
      },
    });
    vcpu.run();
    expect(vcpu.getOneReg(riscvTimerReg("compare"))).toBe(1_000_000n);
    vcpu.run();
    expect(vcpu.getOneReg(riscvTimerReg("compare"))).toBe(0x2_0000_0010n);
    expect(vcpu.getOneReg(riscvTimerReg("state"))).toBe(KVM_RISCV_TIMER_STATE_OFF);
    expect(code(() => vcpu.setOneReg(riscvTimerReg("state"), KVM_RISCV_TIMER_STATE_OFF))).toBe("EINVAL");
    vcpu.setOneReg(riscvTimerReg("state"), KVM_RISCV_TIMER_STATE_ON);
    const now = vcpu.getOneReg(riscvTimerReg("time"));
    vcpu.setOneReg(riscvTimerReg("compare"), now + 10n);
    const line = (): number => vcpu.irqChip.csr("csrrs", 0x144, 0, 0, { hi: 0 }) & (1 << IRQ_S_TIMER);
    expect(line()).toBe(0);
    kvm.queue.runUntil(kvm.queue.now + 2_000);
    expect(line()).toBe(1 << IRQ_S_TIMER);
  });
});
