/**
 * RISC-V SBI extension ids, function ids and error codes (RISC-V SBI
 * specification v2.0, "Binary Encoding" and the per-extension chapters; as
 * Linux spells them in arch/riscv/include/asm/sbi.h).
 */

/** Legacy extension: set_timer. */
export const SBI_EXT_0_1_SET_TIMER = 0x00;
/** Legacy extension: console_putchar (KVM forwards it to userspace). */
export const SBI_EXT_0_1_CONSOLE_PUTCHAR = 0x01;
/** Legacy extension: console_getchar (KVM forwards it to userspace). */
export const SBI_EXT_0_1_CONSOLE_GETCHAR = 0x02;
/** Base extension. */
export const SBI_EXT_BASE = 0x10;
/** Timer extension ("TIME"). */
export const SBI_EXT_TIME = 0x5449_4d45;
/** IPI extension ("sPI"). */
export const SBI_EXT_IPI = 0x73_5049;
/** Remote fence extension ("RFNC"). */
export const SBI_EXT_RFENCE = 0x5246_4e43;
/** Hart state management ("HSM"). */
export const SBI_EXT_HSM = 0x48_534d;
/** System reset ("SRST"). */
export const SBI_EXT_SRST = 0x5352_5354;
/** PMU extension ("PMU"). */
export const SBI_EXT_PMU = 0x50_4d55;
/** Debug console ("DBCN"); KVM forwards it to userspace. */
export const SBI_EXT_DBCN = 0x4442_434e;
/** First experimental extension id; the range is forwarded to userspace. */
export const SBI_EXT_EXPERIMENTAL_START = 0x0800_0000;
/** Last experimental extension id. */
export const SBI_EXT_EXPERIMENTAL_END = 0x08ff_ffff;
/** First vendor extension id; the range is forwarded to userspace. */
export const SBI_EXT_VENDOR_START = 0x0900_0000;
/** Last vendor extension id. */
export const SBI_EXT_VENDOR_END = 0x09ff_ffff;

/** BASE: sbi_get_spec_version. */
export const SBI_EXT_BASE_GET_SPEC_VERSION = 0;
/** BASE: sbi_get_impl_id. */
export const SBI_EXT_BASE_GET_IMP_ID = 1;
/** BASE: sbi_get_impl_version. */
export const SBI_EXT_BASE_GET_IMP_VERSION = 2;
/** BASE: sbi_probe_extension. */
export const SBI_EXT_BASE_PROBE_EXT = 3;
/** BASE: sbi_get_mvendorid. */
export const SBI_EXT_BASE_GET_MVENDORID = 4;
/** BASE: sbi_get_marchid. */
export const SBI_EXT_BASE_GET_MARCHID = 5;
/** BASE: sbi_get_mimpid. */
export const SBI_EXT_BASE_GET_MIMPID = 6;
/** TIME: sbi_set_timer. */
export const SBI_EXT_TIME_SET_TIMER = 0;
/** IPI: sbi_send_ipi. */
export const SBI_EXT_IPI_SEND_IPI = 0;
/** HSM: hart_start. */
export const SBI_EXT_HSM_HART_START = 0;
/** HSM: hart_stop. */
export const SBI_EXT_HSM_HART_STOP = 1;
/** HSM: hart_get_status. */
export const SBI_EXT_HSM_HART_STATUS = 2;
/** HSM: hart_suspend. */
export const SBI_EXT_HSM_HART_SUSPEND = 3;
/** SRST: sbi_system_reset. */
export const SBI_EXT_SRST_RESET = 0;
/** SRST reset type: shutdown. */
export const SBI_SRST_RESET_TYPE_SHUTDOWN = 0;
/** SRST reset type: cold reboot. */
export const SBI_SRST_RESET_TYPE_COLD_REBOOT = 1;
/** SRST reset type: warm reboot. */
export const SBI_SRST_RESET_TYPE_WARM_REBOOT = 2;

/** HSM hart state: started. */
export const SBI_HSM_STATE_STARTED = 0;
/** HSM hart state: stopped. */
export const SBI_HSM_STATE_STOPPED = 1;
/** HSM hart state: start pending. */
export const SBI_HSM_STATE_START_PENDING = 2;

/** sbiret.error: success. */
export const SBI_SUCCESS = 0;
/** sbiret.error: failed. */
export const SBI_ERR_FAILURE = -1;
/** sbiret.error: not supported. */
export const SBI_ERR_NOT_SUPPORTED = -2;
/** sbiret.error: invalid parameter. */
export const SBI_ERR_INVALID_PARAM = -3;
/** sbiret.error: denied. */
export const SBI_ERR_DENIED = -4;
/** sbiret.error: invalid address. */
export const SBI_ERR_INVALID_ADDRESS = -5;
/** sbiret.error: already available. */
export const SBI_ERR_ALREADY_AVAILABLE = -6;
/** sbiret.error: already started. */
export const SBI_ERR_ALREADY_STARTED = -7;
/** sbiret.error: already stopped. */
export const SBI_ERR_ALREADY_STOPPED = -8;

/** The SBI implementation id KVM reports (sbi_get_impl_id). */
export const KVM_SBI_IMPID = 3;
/** The SBI specification version KVM reports: 2.0, as (major << 24) | minor. */
export const KVM_SBI_SPEC_VERSION = 2 << 24;

/** RISC-V interrupt cause: supervisor software interrupt (guest view of VSSIP). */
export const IRQ_S_SOFT = 1;
/** RISC-V interrupt cause: supervisor timer interrupt (guest view of VSTIP). */
export const IRQ_S_TIMER = 5;
/** RISC-V interrupt cause: supervisor external interrupt (guest view of VSEIP). */
export const IRQ_S_EXT = 9;
/** CSR number of `seed` (Zkr), which KVM forwards with KVM_EXIT_RISCV_CSR. */
export const CSR_SEED = 0x015;
/** CSR number of `sstatus`. */
export const CSR_SSTATUS = 0x100;
/** CSR number of `sie`. */
export const CSR_SIE = 0x104;
/** CSR number of `scause`. */
export const CSR_SCAUSE = 0x142;
/** CSR number of `sepc`. */
export const CSR_SEPC = 0x141;
/** CSR number of `stval`. */
export const CSR_STVAL = 0x143;
/** CSR number of `sip`. */
export const CSR_SIP = 0x144;
/** sstatus.SIE, the supervisor interrupt enable bit. */
export const SR_SIE = 1 << 1;
