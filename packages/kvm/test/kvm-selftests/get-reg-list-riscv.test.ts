/**
 * Linux's KVM selftest tools/testing/selftests/kvm/riscv/get-reg-list.c (up to
 * its sbi-mpxy, sbi-fwft and Zicbop configs) with the shared driver
 * tools/testing/selftests/kvm/get-reg-list.c, rewritten
 * against irqlab's API: one `test` per vcpu_configs[] entry, named by
 * config_name() ("sbi-base", "aia", "sstc", ...), each running run_test():
 * a fresh VM and vCPU, finalize_vcpu() (disable every ISA and SBI extension
 * that can be, then enable the config's own feature or skip), then
 * KVM_GET_REG_LIST against the blessed sublists — every blessed register
 * present must read back and write back (except skips_set), none may be
 * missing; new registers are reported, filter_reg() ones ignored.
 *
 * Upstream skips a config at run time (__TEST_REQUIRE in finalize_vcpu) when
 * its extension cannot be enabled on the host; so do these tests, with
 * ctx.skip naming the reason. The modelled host (one-reg/riscv-isa.ts,
 * one-reg/riscv-sbi-ext.ts) is RV64IMAC + H with Sstc, Ssaia, Zicntr, Zicsr
 * and the SBI extensions V01, TIME, IPI, RFENCE, SRST, HSM, DBCN,
 * experimental and vendor: the configs sbi-base, sbi-dbcn, aia, sstc,
 * zicntr and zicsr run; every other one skips as on a Linux host without
 * that extension (h skips on every host: H can never be enabled for a guest).
 */
import { describe, expect, test, type TestContext } from "vitest";
import {
  KVM_REG_RISCV,
  KVM_REG_RISCV_CSR,
  KVM_REG_RISCV_ISA_EXT,
  KVM_REG_RISCV_ISA_SINGLE,
  KVM_REG_RISCV_SBI_EXT,
  KVM_REG_RISCV_SBI_SINGLE,
  KVM_REG_SIZE_MASK,
  KVM_REG_ARCH_MASK,
  KVM_RISCV_ISA_EXT_MAX,
  KVM_RISCV_SBI_EXT_DBCN,
  KVM_RISCV_SBI_EXT_FWFT,
  KVM_RISCV_SBI_EXT_MAX,
  KVM_RISCV_SBI_EXT_MPXY,
  KVM_RISCV_SBI_EXT_PMU,
  KVM_RISCV_SBI_EXT_STA,
  KVM_RISCV_SBI_EXT_SUSP,
  KVM_RISCV_SBI_EXT_V01,
  KVM_RISCV_SBI_EXT_TIME,
  KVM_RISCV_SBI_EXT_IPI,
  KVM_RISCV_SBI_EXT_RFENCE,
  KVM_RISCV_SBI_EXT_SRST,
  KVM_RISCV_SBI_EXT_HSM,
  KVM_RISCV_SBI_EXT_EXPERIMENTAL,
  KVM_RISCV_SBI_EXT_VENDOR,
  KVM_REG_RISCV_SBI_STATE,
  KVM_REG_SIZE_U64,
  Kvm,
  KvmError,
  formatRegId,
  riscvAiaCsrReg,
  riscvConfigReg,
  riscvCoreReg,
  riscvCsrReg,
  riscvIsaExtReg,
  riscvSbiExtReg,
  riscvTimerReg,
  RISCV_AIA_CSR_REGS,
  RISCV_CORE_REGS,
  RISCV_CSR_REGS,
  RISCV_TIMER_REGS,
  type Vcpu,
} from "../../src/index.js";

/** enum KVM_RISCV_ISA_EXT_ID, by name (arch/riscv/include/uapi/asm/kvm.h). */
const ISA_EXT: Record<string, number> = Object.fromEntries(
  [
    "A", "C", "D", "F", "H", "I", "M", "SVPBMT", "SSTC", "SVINVAL", "ZIHINTPAUSE", "ZICBOM", "ZICBOZ", "ZBB",
    "SSAIA", "V", "SVNAPOT", "ZBA", "ZBS", "ZICNTR", "ZICSR", "ZIFENCEI", "ZIHPM", "SMSTATEEN", "ZICOND",
    "ZBC", "ZBKB", "ZBKC", "ZBKX", "ZKND", "ZKNE", "ZKNH", "ZKR", "ZKSED", "ZKSH", "ZKT", "ZVBB", "ZVBC",
    "ZVKB", "ZVKG", "ZVKNED", "ZVKNHA", "ZVKNHB", "ZVKSED", "ZVKSH", "ZVKT", "ZFH", "ZFHMIN", "ZIHINTNTL",
    "ZVFH", "ZVFHMIN", "ZFA", "ZTSO", "ZACAS", "SSCOFPMF", "ZIMOP", "ZCA", "ZCB", "ZCD", "ZCF", "ZCMOP",
    "ZAWRS", "SMNPM", "SSNPM", "SVADE", "SVADU", "SVVPTC", "ZABHA", "ZICCRSE", "ZAAMO", "ZALRSC", "ZICBOP",
    "ZFBFMIN", "ZVFBFMIN", "ZVFBFWMA", "ZCLSD", "ZILSD", "ZALASR", "ZICFILP", "ZICFISS",
  ].map((n, i) => [n, i]),
);

const REG_MASK = KVM_REG_ARCH_MASK | KVM_REG_SIZE_MASK;
const VCPU_FEATURE_ISA_EXT = 0;
const VCPU_FEATURE_SBI_EXT = 1;

interface Sublist {
  readonly name: string;
  readonly featureType?: number;
  /** KVM_RISCV_ISA_EXT_* / KVM_RISCV_SBI_EXT_* id; undefined: no feature (base). */
  readonly feature?: number;
  readonly regs: readonly bigint[];
  readonly skipsSet?: readonly bigint[];
  readonly rejectsSet?: readonly bigint[];
}

/** One vCPU's run of the driver: what filter_reg() needs to know from finalize_vcpu(). */
interface RunState {
  readonly isaExtCantDisable: boolean[];
}

/** filter_reg(): ISA_EXT and SBI_EXT single registers vary by host; AIA CSRs are always there when Ssaia cannot be disabled. */
function filterReg(reg: bigint, st: RunState): boolean {
  const r = reg & ~REG_MASK;
  if ((r & ~0xffffn) === (KVM_REG_RISCV_ISA_EXT | KVM_REG_RISCV_ISA_SINGLE) && Number(r & 0xffffn) < Object.keys(ISA_EXT).length) return true;
  const sbiFiltered = [
    KVM_RISCV_SBI_EXT_V01, KVM_RISCV_SBI_EXT_TIME, KVM_RISCV_SBI_EXT_IPI, KVM_RISCV_SBI_EXT_RFENCE, KVM_RISCV_SBI_EXT_SRST,
    KVM_RISCV_SBI_EXT_HSM, KVM_RISCV_SBI_EXT_PMU, KVM_RISCV_SBI_EXT_DBCN, KVM_RISCV_SBI_EXT_SUSP, KVM_RISCV_SBI_EXT_STA,
    KVM_RISCV_SBI_EXT_FWFT, KVM_RISCV_SBI_EXT_MPXY, KVM_RISCV_SBI_EXT_EXPERIMENTAL, KVM_RISCV_SBI_EXT_VENDOR,
  ];
  if (sbiFiltered.some((e) => r === (KVM_REG_RISCV_SBI_EXT | KVM_REG_RISCV_SBI_SINGLE | BigInt(e)))) return true;
  if (RISCV_AIA_CSR_REGS.some((n) => reg === riscvAiaCsrReg(n))) return st.isaExtCantDisable[ISA_EXT.SSAIA!] === true;
  return false;
}

/** check_reject_set(): riscv's rejected sets fail with EINVAL. */
function checkRejectSet(err: unknown): boolean {
  return err instanceof KvmError && err.code === "EINVAL";
}

/** __vcpu_get_reg / __vcpu_set_reg: the errno, or 0. */
function tryGet(vcpu: Vcpu, id: bigint): { rc: string | 0; value: bigint } {
  try {
    return { rc: 0, value: vcpu.getOneReg(id) };
  } catch (e) {
    if (e instanceof KvmError) return { rc: e.code, value: 0n };
    throw e;
  }
}

function trySet(vcpu: Vcpu, id: bigint, value: bigint): string | 0 {
  try {
    vcpu.setOneReg(id, value);
    return 0;
  } catch (e) {
    if (e instanceof KvmError) return e.code;
    throw e;
  }
}

/** __vcpu_has_ext(): the extension's register reads 1. */
function vcpuHasExt(vcpu: Vcpu, reg: bigint): boolean {
  const g = tryGet(vcpu, reg);
  return g.rc === 0 && g.value === 1n;
}

/** finalize_vcpu(): returns the reason to skip, if the config's extension cannot be enabled. */
function finalizeVcpu(vcpu: Vcpu, c: readonly Sublist[], st: RunState): string | undefined {
  const state: bigint[] = [];
  for (let i = 0; i < KVM_RISCV_ISA_EXT_MAX; i++) state[i] = tryGet(vcpu, riscvIsaExtReg(i)).value;
  // Disable all extensions which were enabled by default if they were available in the host.
  for (let i = 0; i < KVM_RISCV_ISA_EXT_MAX; i++) {
    const rc = trySet(vcpu, riscvIsaExtReg(i), 0n);
    if (rc !== 0 && state[i] !== 0n) st.isaExtCantDisable[i] = true;
  }
  for (let i = 0; i < KVM_RISCV_SBI_EXT_MAX; i++) {
    const rc = trySet(vcpu, riscvSbiExtReg(i), 0n);
    expect(rc === 0 || rc === "ENOENT", `Unexpected error ${String(rc)} disabling SBI extension ${i}`).toBe(true);
  }
  for (const s of c) {
    if (s.feature === undefined) continue;
    const feature = s.featureType === VCPU_FEATURE_SBI_EXT ? riscvSbiExtReg(s.feature) : riscvIsaExtReg(s.feature);
    // Try to enable the desired extension, then double check that it was.
    trySet(vcpu, feature, 1n);
    if (!vcpuHasExt(vcpu, feature)) return `${s.name} not available, skipping tests`;
  }
  return undefined;
}

/** run_test(): returns why the config is skipped, or runs its checks. */
function runTest(ctx: TestContext, c: readonly Sublist[]): string | undefined {
  const kvm = new Kvm({ arch: "riscv64" });
  const vm = kvm.createVm();
  const vcpu = vm.createVcpu(0);
  const st: RunState = { isaExtCantDisable: [] };
  const skip = finalizeVcpu(vcpu, c, st);
  if (skip !== undefined) return skip;

  const list = vcpu.getRegList();
  const blessed = c.flatMap((s) => s.regs);
  const failedGet: string[] = [];
  const failedSet: string[] = [];
  const failedReject: string[] = [];
  // Only get/set-test present, blessed registers: write back exactly what was read.
  for (const id of list.filter((r) => blessed.includes(r))) {
    const g = tryGet(vcpu, id);
    if (g.rc !== 0) failedGet.push(`${formatRegId(id)} (${g.rc})`);
    let reject = false;
    let skipReg = false;
    for (const s of c) {
      if (s.rejectsSet?.includes(id) === true) {
        reject = true;
        let err: unknown;
        try {
          vcpu.setOneReg(id, g.value);
        } catch (e) {
          err = e;
        }
        if (!checkRejectSet(err)) failedReject.push(formatRegId(id));
        break;
      }
      if (s.skipsSet?.includes(id) === true) {
        skipReg = true;
        break;
      }
    }
    if (!reject && !skipReg) {
      const rc = trySet(vcpu, id, g.value);
      if (rc !== 0) failedSet.push(`${formatRegId(id)} (${rc})`);
    }
  }
  const newRegs = list.filter((r) => !filterReg(r, st) && !blessed.includes(r));
  const missing = blessed.filter((r) => !list.includes(r));
  // New registers are only reported upstream ("Consider adding them to the blessed reg list").
  if (newRegs.length > 0) void ctx.annotate(`new registers: ${newRegs.map(formatRegId).join(", ")}`);
  expect({ missing: missing.map(formatRegId), failedGet, failedSet, failedReject }).toEqual({ missing: [], failedGet: [], failedSet: [], failedReject: [] });
  return undefined;
}

const ULONG = KVM_REG_RISCV | KVM_REG_SIZE_U64;

/** base_regs: "primed with the output of kernel version v6.5-rc3 and then later updated". */
const baseRegs: bigint[] = [
  riscvConfigReg("isa"),
  riscvConfigReg("mvendorid"),
  riscvConfigReg("marchid"),
  riscvConfigReg("mimpid"),
  riscvConfigReg("satp_mode"),
  ...RISCV_CORE_REGS.map((n) => riscvCoreReg(n)),
  ...RISCV_CSR_REGS.map((n) => riscvCsrReg(n)),
  ...RISCV_TIMER_REGS.map((n) => riscvTimerReg(n)),
];

/** base_skips_set: TIMER state — "set would fail if it was not initialized properly". */
const baseSkipsSet = [riscvTimerReg("state")];

const sbiBaseRegs = [
  KVM_RISCV_SBI_EXT_V01, KVM_RISCV_SBI_EXT_TIME, KVM_RISCV_SBI_EXT_IPI, KVM_RISCV_SBI_EXT_RFENCE, KVM_RISCV_SBI_EXT_SRST,
  KVM_RISCV_SBI_EXT_HSM, KVM_RISCV_SBI_EXT_EXPERIMENTAL, KVM_RISCV_SBI_EXT_VENDOR,
].map(riscvSbiExtReg);

const sbiStaRegs = [
  riscvSbiExtReg(KVM_RISCV_SBI_EXT_STA),
  ULONG | KVM_REG_RISCV_SBI_STATE | 0n, // KVM_REG_RISCV_SBI_STA | KVM_REG_RISCV_SBI_STA_REG(shmem_lo)
  ULONG | KVM_REG_RISCV_SBI_STATE | 1n, // shmem_hi
];

/** sbi_fwft_regs: the extension and its state registers (SBI_STATE subtype FWFT: misaligned_deleg, pointer_masking × enable/flags/value). */
const sbiFwftRegs = [
  riscvSbiExtReg(KVM_RISCV_SBI_EXT_FWFT),
  ...Array.from({ length: 6 }, (_, i) => ULONG | KVM_REG_RISCV_SBI_STATE | 0x1_0000n | BigInt(i)),
];

const aiaRegs = [...RISCV_AIA_CSR_REGS.map((n) => riscvAiaCsrReg(n)), riscvIsaExtReg(ISA_EXT.SSAIA!)];

const SUBLIST_BASE: Sublist = { name: "base", regs: baseRegs, skipsSet: baseSkipsSet };

function isaSublist(name: string, ext: string, regs: readonly bigint[]): Sublist {
  return { name, featureType: VCPU_FEATURE_ISA_EXT, feature: ISA_EXT[ext]!, regs };
}

/** KVM_ISA_EXT_SIMPLE_CONFIG(ext, extu): base + the extension's own ISA_EXT register. */
function isaSimple(ext: string): readonly Sublist[] {
  return [SUBLIST_BASE, isaSublist(ext.toLowerCase(), ext, [riscvIsaExtReg(ISA_EXT[ext]!)])];
}

/** KVM_SBI_EXT_SIMPLE_CONFIG(ext, extu). */
function sbiSimple(name: string, ext: number): readonly Sublist[] {
  return [SUBLIST_BASE, { name: `sbi-${name}`, featureType: VCPU_FEATURE_SBI_EXT, feature: ext, regs: [riscvSbiExtReg(ext)] }];
}

/** The register sublists of extensions the model has no registers for (FP, Smstateen, Zicbo*): their ids for the blessed list. */
const fpFRegs = [...Array.from({ length: 33 }, (_, i) => KVM_REG_RISCV | 0x0020_0000_0000_0000n | 0x0500_0000n | BigInt(i)), riscvIsaExtReg(ISA_EXT.F!)];
const fpDRegs = [
  ...Array.from({ length: 32 }, (_, i) => KVM_REG_RISCV | KVM_REG_SIZE_U64 | 0x0600_0000n | BigInt(i)),
  KVM_REG_RISCV | 0x0020_0000_0000_0000n | 0x0600_0000n | 32n,
  riscvIsaExtReg(ISA_EXT.D!),
];
const smstateenRegs = [ULONG | KVM_REG_RISCV_CSR | 0x2_0000n | 0n, riscvIsaExtReg(ISA_EXT.SMSTATEEN!)];
const zicbomRegs = [riscvConfigReg("zicbom_block_size"), riscvIsaExtReg(ISA_EXT.ZICBOM!)];
const zicbopRegs = [riscvConfigReg("zicbop_block_size"), riscvIsaExtReg(ISA_EXT.ZICBOP!)];
const zicbozRegs = [riscvConfigReg("zicboz_block_size"), riscvIsaExtReg(ISA_EXT.ZICBOZ!)];

/** vcpu_configs[], in upstream's order. */
const VCPU_CONFIGS: readonly (readonly [string, readonly Sublist[]])[] = [
  ["sbi-base", [SUBLIST_BASE, { name: "sbi-base", featureType: VCPU_FEATURE_SBI_EXT, feature: KVM_RISCV_SBI_EXT_V01, regs: sbiBaseRegs }]],
  ["sbi-sta", [SUBLIST_BASE, { name: "sbi-sta", featureType: VCPU_FEATURE_SBI_EXT, feature: KVM_RISCV_SBI_EXT_STA, regs: sbiStaRegs }]],
  ["sbi-pmu", sbiSimple("pmu", KVM_RISCV_SBI_EXT_PMU)],
  ["sbi-dbcn", sbiSimple("dbcn", KVM_RISCV_SBI_EXT_DBCN)],
  ["sbi-susp", sbiSimple("susp", KVM_RISCV_SBI_EXT_SUSP)],
  ["sbi-mpxy", sbiSimple("mpxy", KVM_RISCV_SBI_EXT_MPXY)],
  ["sbi-fwft", [SUBLIST_BASE, { name: "sbi-fwft", featureType: VCPU_FEATURE_SBI_EXT, feature: KVM_RISCV_SBI_EXT_FWFT, regs: sbiFwftRegs }]],
  ["aia", [SUBLIST_BASE, isaSublist("aia", "SSAIA", aiaRegs)]],
  ["fp_f", [SUBLIST_BASE, isaSublist("fp_f", "F", fpFRegs)]],
  ["fp_d", [SUBLIST_BASE, isaSublist("fp_d", "D", fpDRegs)]],
  ["h", isaSimple("H")],
  ["smnpm", isaSimple("SMNPM")],
  ["smstateen", [SUBLIST_BASE, isaSublist("smstateen", "SMSTATEEN", smstateenRegs)]],
  ...["SSCOFPMF", "SSNPM", "SSTC", "SVADE", "SVADU", "SVINVAL", "SVNAPOT", "SVPBMT", "SVVPTC", "ZAAMO", "ZABHA", "ZACAS", "ZALRSC", "ZAWRS", "ZBA", "ZBB", "ZBC", "ZBKB", "ZBKC", "ZBKX", "ZBS", "ZCA", "ZCB", "ZCD", "ZCF", "ZCMOP", "ZFA", "ZFBFMIN", "ZFH", "ZFHMIN"].map(
    (e) => [e.toLowerCase(), isaSimple(e)] as const,
  ),
  ["zicbom", [SUBLIST_BASE, isaSublist("zicbom", "ZICBOM", zicbomRegs)]],
  ["zicbop", [SUBLIST_BASE, isaSublist("zicbop", "ZICBOP", zicbopRegs)]],
  ["zicboz", [SUBLIST_BASE, isaSublist("zicboz", "ZICBOZ", zicbozRegs)]],
  ...["ZICCRSE", "ZICNTR", "ZICOND", "ZICSR", "ZIFENCEI", "ZIHINTNTL", "ZIHINTPAUSE", "ZIHPM", "ZIMOP", "ZKND", "ZKNE", "ZKNH", "ZKR", "ZKSED", "ZKSH", "ZKT", "ZTSO", "ZVBB", "ZVBC", "ZVFBFMIN", "ZVFBFWMA", "ZVFH", "ZVFHMIN", "ZVKB", "ZVKG", "ZVKNED", "ZVKNHA", "ZVKNHB", "ZVKSED", "ZVKSH", "ZVKT"].map(
    (e) => [e.toLowerCase(), isaSimple(e)] as const,
  ),
];

/** The configs the modelled host runs; every other one must skip, as upstream does on a host without the extension. */
const RUNS = new Set(["sbi-base", "sbi-dbcn", "aia", "sstc", "zicntr", "zicsr"]);

describe("get-reg-list (riscv): run_test per vcpu_configs[]", () => {
  for (const [name, c] of VCPU_CONFIGS) {
    test(name, (ctx) => {
      const skip = runTest(ctx, c);
      if (skip !== undefined) {
        expect(RUNS.has(name), `${name} skipped on the modelled host: ${skip}`).toBe(false);
        ctx.skip(`${skip} (the modelled host has no such extension)`);
      }
      expect(RUNS.has(name), `${name} ran although the modelled host lacks its extension`).toBe(true);
    });
  }
});

describe("get-reg-list (riscv): the register list itself", () => {
  test("KVM_GET_REG_LIST is base, AIA CSRs, ISA_EXT and SBI_EXT singles, in kvm_riscv_vcpu_copy_reg_indices' order; E2BIG when n is short", () => {
    const vcpu = new Kvm({ arch: "riscv64" }).createVm().createVcpu(0);
    const list = vcpu.getRegList();
    const isa = ["A", "C", "H", "I", "M", "SSTC", "SSAIA", "ZICNTR", "ZICSR"].map((e) => riscvIsaExtReg(ISA_EXT[e]!));
    const sbi = [...sbiBaseRegs, riscvSbiExtReg(KVM_RISCV_SBI_EXT_DBCN)];
    const csr = RISCV_CSR_REGS.map((n) => riscvCsrReg(n));
    const aia = RISCV_AIA_CSR_REGS.map((n) => riscvAiaCsrReg(n));
    const core = RISCV_CORE_REGS.map((n) => riscvCoreReg(n));
    const config = (["isa", "mvendorid", "marchid", "mimpid", "satp_mode"] as const).map((n) => riscvConfigReg(n));
    expect(list).toEqual([...config, ...core, ...csr, ...aia, ...RISCV_TIMER_REGS.map((n) => riscvTimerReg(n)), ...isa, ...sbi]);
    expect(vcpu.getRegList(list.length)).toEqual(list);
    expect(() => vcpu.getRegList(list.length - 1)).toThrow(expect.objectContaining({ code: "E2BIG" }));
    for (const id of list) expect(() => vcpu.getOneReg(id), formatRegId(id)).not.toThrow();
  });
});
