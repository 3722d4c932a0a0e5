/**
 * RISC-V ONE_REG register ids (arch/riscv/include/uapi/asm/kvm.h): a type in
 * bits 24-31 (CONFIG, CORE, CSR, TIMER, ...), for some types a subtype in
 * bits 16-23, and the register's index in its UAPI struct (offsetof / size)
 * below. On riscv64 every `unsigned long` register is KVM_REG_SIZE_U64, as
 * are the timer's `__u64` ones. The builders below spell the selftests'
 * RISCV_CONFIG_REG(), RISCV_CORE_REG(), RISCV_CSR_REG(), ... macros.
 */

import { KVM_REG_RISCV, KVM_REG_SIZE_U64 } from "./one-reg-id.js";

/** Bits holding a RISC-V register's type. */
export const KVM_REG_RISCV_TYPE_MASK = 0xff00_0000n;
/** Bits holding a RISC-V register's subtype (CSR, ISA_EXT, SBI_EXT, SBI_STATE). */
export const KVM_REG_RISCV_SUBTYPE_MASK = 0x00ff_0000n;

/** Type 1: struct kvm_riscv_config. */
export const KVM_REG_RISCV_CONFIG = 0x01n << 24n;
/** Type 2: struct kvm_riscv_core (regs.pc, ra..t6, mode). */
export const KVM_REG_RISCV_CORE = 0x02n << 24n;
/** Type 3: CSRs, by subtype. */
export const KVM_REG_RISCV_CSR = 0x03n << 24n;
/** Type 4: struct kvm_riscv_timer (always __u64). */
export const KVM_REG_RISCV_TIMER = 0x04n << 24n;
/** Type 5: F extension registers. */
export const KVM_REG_RISCV_FP_F = 0x05n << 24n;
/** Type 6: D extension registers. */
export const KVM_REG_RISCV_FP_D = 0x06n << 24n;
/** Type 7: ISA extension enable/disable registers. */
export const KVM_REG_RISCV_ISA_EXT = 0x07n << 24n;
/** Type 8: SBI extension enable/disable registers. */
export const KVM_REG_RISCV_SBI_EXT = 0x08n << 24n;
/** Type 9: V extension registers. */
export const KVM_REG_RISCV_VECTOR = 0x09n << 24n;
/** Type 10: SBI extension state (STA, FWFT). */
export const KVM_REG_RISCV_SBI_STATE = 0x0an << 24n;

/** CSR subtype 0: struct kvm_riscv_csr. */
export const KVM_REG_RISCV_CSR_GENERAL = 0x0n << 16n;
/** CSR subtype 1: struct kvm_riscv_aia_csr (Ssaia). */
export const KVM_REG_RISCV_CSR_AIA = 0x1n << 16n;
/** CSR subtype 2: struct kvm_riscv_smstateen_csr (Smstateen). */
export const KVM_REG_RISCV_CSR_SMSTATEEN = 0x2n << 16n;

/** ISA_EXT / SBI_EXT subtype 0: one extension per register (value 0 or 1). */
export const KVM_REG_RISCV_ISA_SINGLE = 0x0n << 16n;
/** ISA_EXT subtype 1: a bitmap of BITS_PER_LONG extensions; set bits are enabled. */
export const KVM_REG_RISCV_ISA_MULTI_EN = 0x1n << 16n;
/** ISA_EXT subtype 2: as MULTI_EN, set bits are disabled. */
export const KVM_REG_RISCV_ISA_MULTI_DIS = 0x2n << 16n;
/** SBI_EXT subtype 0: one extension per register. */
export const KVM_REG_RISCV_SBI_SINGLE = 0x0n << 16n;
/** SBI_EXT subtype 1: bitmap, set bits enabled. */
export const KVM_REG_RISCV_SBI_MULTI_EN = 0x1n << 16n;
/** SBI_EXT subtype 2: bitmap, set bits disabled. */
export const KVM_REG_RISCV_SBI_MULTI_DIS = 0x2n << 16n;

/** kvm_riscv_core.mode: the guest trapped from S-mode (guest_context.sstatus.SPP set). */
export const KVM_RISCV_MODE_S = 1n;
/** kvm_riscv_core.mode: the guest trapped from U-mode. */
export const KVM_RISCV_MODE_U = 0n;

/** kvm_riscv_timer.state: no timer event pending in KVM. */
export const KVM_RISCV_TIMER_STATE_OFF = 0n;
/** kvm_riscv_timer.state: KVM's timer event is armed. */
export const KVM_RISCV_TIMER_STATE_ON = 1n;

/** Fields of struct kvm_riscv_config, in order (their index is the register number). */
export const RISCV_CONFIG_REGS = ["isa", "zicbom_block_size", "mvendorid", "marchid", "mimpid", "zicboz_block_size", "satp_mode", "zicbop_block_size"] as const;
/** A struct kvm_riscv_config field. */
export type RiscvConfigReg = (typeof RISCV_CONFIG_REGS)[number];

/** Fields of struct kvm_riscv_core: user_regs_struct (pc, then x1..x31 by ABI name) and mode. */
export const RISCV_CORE_REGS = [
  "regs.pc", "regs.ra", "regs.sp", "regs.gp", "regs.tp", "regs.t0", "regs.t1", "regs.t2",
  "regs.s0", "regs.s1", "regs.a0", "regs.a1", "regs.a2", "regs.a3", "regs.a4", "regs.a5",
  "regs.a6", "regs.a7", "regs.s2", "regs.s3", "regs.s4", "regs.s5", "regs.s6", "regs.s7",
  "regs.s8", "regs.s9", "regs.s10", "regs.s11", "regs.t3", "regs.t4", "regs.t5", "regs.t6", "mode",
] as const;
/** A struct kvm_riscv_core field. */
export type RiscvCoreReg = (typeof RISCV_CORE_REGS)[number];

/** Fields of struct kvm_riscv_csr, in order. */
export const RISCV_CSR_REGS = ["sstatus", "sie", "stvec", "sscratch", "sepc", "scause", "stval", "sip", "satp", "scounteren", "senvcfg"] as const;
/** A struct kvm_riscv_csr field. */
export type RiscvCsrReg = (typeof RISCV_CSR_REGS)[number];

/** Fields of struct kvm_riscv_aia_csr, in order (all seven exist on riscv64 too). */
export const RISCV_AIA_CSR_REGS = ["siselect", "iprio1", "iprio2", "sieh", "siph", "iprio1h", "iprio2h"] as const;
/** A struct kvm_riscv_aia_csr field. */
export type RiscvAiaCsrReg = (typeof RISCV_AIA_CSR_REGS)[number];

/** Fields of struct kvm_riscv_timer, in order. */
export const RISCV_TIMER_REGS = ["frequency", "time", "compare", "state"] as const;
/** A struct kvm_riscv_timer field. */
export type RiscvTimerReg = (typeof RISCV_TIMER_REGS)[number];

/** enum KVM_RISCV_ISA_EXT_ID: single-letter extensions. */
export const KVM_RISCV_ISA_EXT_A = 0;
/** C. */
export const KVM_RISCV_ISA_EXT_C = 1;
/** D. */
export const KVM_RISCV_ISA_EXT_D = 2;
/** F. */
export const KVM_RISCV_ISA_EXT_F = 3;
/** H. */
export const KVM_RISCV_ISA_EXT_H = 4;
/** I. */
export const KVM_RISCV_ISA_EXT_I = 5;
/** M. */
export const KVM_RISCV_ISA_EXT_M = 6;
/** Svpbmt. */
export const KVM_RISCV_ISA_EXT_SVPBMT = 7;
/** Sstc. */
export const KVM_RISCV_ISA_EXT_SSTC = 8;
/** Svinval. */
export const KVM_RISCV_ISA_EXT_SVINVAL = 9;
/** Zihintpause. */
export const KVM_RISCV_ISA_EXT_ZIHINTPAUSE = 10;
/** Zicbom. */
export const KVM_RISCV_ISA_EXT_ZICBOM = 11;
/** Zicboz. */
export const KVM_RISCV_ISA_EXT_ZICBOZ = 12;
/** Zbb. */
export const KVM_RISCV_ISA_EXT_ZBB = 13;
/** Ssaia. */
export const KVM_RISCV_ISA_EXT_SSAIA = 14;
/** V. */
export const KVM_RISCV_ISA_EXT_V = 15;
/** Svnapot. */
export const KVM_RISCV_ISA_EXT_SVNAPOT = 16;
/** Zba. */
export const KVM_RISCV_ISA_EXT_ZBA = 17;
/** Zbs. */
export const KVM_RISCV_ISA_EXT_ZBS = 18;
/** Zicntr. */
export const KVM_RISCV_ISA_EXT_ZICNTR = 19;
/** Zicsr. */
export const KVM_RISCV_ISA_EXT_ZICSR = 20;
/** Zifencei. */
export const KVM_RISCV_ISA_EXT_ZIFENCEI = 21;
/** Zihpm. */
export const KVM_RISCV_ISA_EXT_ZIHPM = 22;
/** Smstateen. */
export const KVM_RISCV_ISA_EXT_SMSTATEEN = 23;
/**
 * KVM_RISCV_ISA_EXT_MAX (the enum ends … ZICFILP 78, ZICFISS 79). Every id
 * the modelled host lacks is ENOENT whatever this bound, so its exact value
 * shows only as KVM_REG_RISCV_ISA_MULTI_REG_LAST (1 either way).
 */
export const KVM_RISCV_ISA_EXT_MAX = 80;

/** enum KVM_RISCV_SBI_EXT_ID: the legacy (v0.1) extensions. */
export const KVM_RISCV_SBI_EXT_V01 = 0;
/** TIME. */
export const KVM_RISCV_SBI_EXT_TIME = 1;
/** IPI. */
export const KVM_RISCV_SBI_EXT_IPI = 2;
/** RFENCE. */
export const KVM_RISCV_SBI_EXT_RFENCE = 3;
/** SRST. */
export const KVM_RISCV_SBI_EXT_SRST = 4;
/** HSM. */
export const KVM_RISCV_SBI_EXT_HSM = 5;
/** PMU. */
export const KVM_RISCV_SBI_EXT_PMU = 6;
/** The experimental extension range (forwarded to userspace). */
export const KVM_RISCV_SBI_EXT_EXPERIMENTAL = 7;
/** The vendor extension range (forwarded to userspace). */
export const KVM_RISCV_SBI_EXT_VENDOR = 8;
/** DBCN (forwarded to userspace; disabled until the VMM enables it). */
export const KVM_RISCV_SBI_EXT_DBCN = 9;
/** STA (steal-time accounting). */
export const KVM_RISCV_SBI_EXT_STA = 10;
/** SUSP (system suspend). */
export const KVM_RISCV_SBI_EXT_SUSP = 11;
/** FWFT (firmware features). */
export const KVM_RISCV_SBI_EXT_FWFT = 12;
/** MPXY (message proxy). */
export const KVM_RISCV_SBI_EXT_MPXY = 13;
/** KVM_RISCV_SBI_EXT_MAX. */
export const KVM_RISCV_SBI_EXT_MAX = 14;

const ULONG = KVM_REG_RISCV | KVM_REG_SIZE_U64;

/** KVM_REG_RISCV | KVM_REG_SIZE_ULONG | KVM_REG_RISCV_CONFIG | KVM_REG_RISCV_CONFIG_REG(name). */
export function riscvConfigReg(name: RiscvConfigReg): bigint {
  return ULONG | KVM_REG_RISCV_CONFIG | BigInt(RISCV_CONFIG_REGS.indexOf(name));
}

/** The selftests' RISCV_CORE_REG(name). */
export function riscvCoreReg(name: RiscvCoreReg): bigint {
  return ULONG | KVM_REG_RISCV_CORE | BigInt(RISCV_CORE_REGS.indexOf(name));
}

/** The selftests' RISCV_CSR_REG(name): a general CSR. */
export function riscvCsrReg(name: RiscvCsrReg): bigint {
  return ULONG | KVM_REG_RISCV_CSR | KVM_REG_RISCV_CSR_GENERAL | BigInt(RISCV_CSR_REGS.indexOf(name));
}

/** KVM_REG_RISCV_CSR | KVM_REG_RISCV_CSR_AIA | KVM_REG_RISCV_CSR_AIA_REG(name). */
export function riscvAiaCsrReg(name: RiscvAiaCsrReg): bigint {
  return ULONG | KVM_REG_RISCV_CSR | KVM_REG_RISCV_CSR_AIA | BigInt(RISCV_AIA_CSR_REGS.indexOf(name));
}

/** The selftests' RISCV_TIMER_REG(name). */
export function riscvTimerReg(name: RiscvTimerReg): bigint {
  return KVM_REG_RISCV | KVM_REG_SIZE_U64 | KVM_REG_RISCV_TIMER | BigInt(RISCV_TIMER_REGS.indexOf(name));
}

/** The selftests' RISCV_ISA_EXT_REG(ext): the single register of KVM_RISCV_ISA_EXT_`ext`. */
export function riscvIsaExtReg(ext: number): bigint {
  return ULONG | KVM_REG_RISCV_ISA_EXT | KVM_REG_RISCV_ISA_SINGLE | BigInt(ext);
}

/** The selftests' RISCV_SBI_EXT_REG(ext): the single register of KVM_RISCV_SBI_EXT_`ext`. */
export function riscvSbiExtReg(ext: number): bigint {
  return ULONG | KVM_REG_RISCV_SBI_EXT | KVM_REG_RISCV_SBI_SINGLE | BigInt(ext);
}
