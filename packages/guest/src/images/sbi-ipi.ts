/**
 * The `sbi-ipi` image: the IPI part of kvm-unit-tests' SBI test
 * (riscv/sbi.c check_ipi, with lib/report.c's output), run on the machine's
 * harts. Under KVM an SBI IPI becomes the receiver's VS-level software
 * interrupt (arch/riscv/kvm/vcpu_sbi_replace.c kvm_sbi_ext_ipi_handler →
 * kvm_riscv_vcpu_set_interrupt(IRQ_VS_SOFT)); the receiver takes cause 1
 * and clears sip.SSIP (ipi_ack).
 *
 * The tests, in check_ipi's order and with its prefixes:
 *
 *     PASS: sbi: ipi: Bad FID: SBI_ERR_NOT_SUPPORTED
 *     PASS: sbi: ipi: random hart: ipi returned success
 *     PASS: sbi: ipi: two in hart_mask: ipi returned success
 *     PASS: sbi: ipi: broadcast: ipi returned success
 *     PASS: sbi: ipi: invalid parameters: no targets, hart_mask_base is 0: SBI_SUCCESS
 *     PASS: sbi: ipi: invalid parameters: no targets, hart_mask_base is 1: SBI_SUCCESS
 *     PASS: sbi: ipi: invalid parameters: hart_mask: SBI_ERR_INVALID_PARAM
 *     PASS: sbi: ipi: invalid parameters: hart_mask_base: SBI_ERR_INVALID_PARAM
 *     SUMMARY: 8 tests
 *
 *     EXIT: STATUS=1
 *
 * then SBI SRST shutdown with reason "system failure" when a test failed
 * (lib/riscv/io.c exit → sbi_shutdown). Each receiver waits in
 * ipi_hart_wait() with software and timer interrupts enabled and a timeout
 * of 200000 µs (SBI_IPI_TIMEOUT's default) on its timer: `stimecmp` when its
 * `riscv,isa` has Sstc (as QEMU's virt CPU under KVM does), else SBI
 * set_timer. The "random" CPU comes from kvm-unit-tests' PRNG seeded with
 * 0xDEADBEEF, so it is the one kvm-unit-tests picks on the same CPU count.
 * Other SBI tests of riscv/sbi.c (base, time, hsm, dbcn, susp, sse, fwft,
 * dbtr) are not part of this image.
 */

import { op } from "@irqlab/sim";
import { allocateBootMemory } from "../boot/boot-memory.js";
import { boot, type BootedGuest } from "../boot/boot.js";
import { halt, panic } from "../boot/panic.js";
import { putLine } from "../console/console.js";
import { cpuRelax } from "../cpu.js";
import type { GuestCode, GuestImage } from "../guest-image.js";
import { sbiCall, sbiProbeExtension, SBI_EXT_BASE, sbiSystemReset, SBI_ERR_INVALID_PARAM, SBI_ERR_NOT_SUPPORTED, SBI_SRST_RESET_TYPE_SHUTDOWN, SBI_SUCCESS, type SbiRet } from "../power/sbi.js";
import { CSR_SIE, CSR_SIP, IE_SSIE, IE_STIE, IRQ_S_SOFT, IRQ_S_TIMER, setThisCpu, thisCpu } from "../riscv/hart-csr.js";
import { KtestPrng } from "../riscv/ktest-prng.js";
import { ABORT_EXIT_STATUS, KtestReport } from "../boot/ktest-report.js";
import { KtestSmp } from "../riscv/ktest-smp.js";
import { KtestTimer } from "../riscv/ktest-timer.js";
import { SBI_EXT_BASE_GET_SPEC_VERSION, SBI_EXT_IPI, SBI_IMPL_OPENSBI, sbiGetImpId, sbiGetImpVersion, sbiImplOpensbiVersion, sbiSendIpi, sbiSendIpiBroadcast } from "../riscv/sbi-ipi-time.js";
import type { ImageOptions } from "./image-common.js";
import { storeWords } from "../store-words.js";

/** SBI_IPI_TIMEOUT's default in riscv/sbi.c, in microseconds. */
export const SBI_IPI_TIMEOUT_US = 200_000;
/** The seed of check_ipi's PRNG. */
export const SBI_IPI_PRNG_SEED = 0xdeadbeef;

/** The per-CPU flags in RAM: received, timed out, done (32-bit words). */
const FLAGS = 12;
const RECEIVED = 0;
const TIMEOUT = 4;
const DONE = 8;

type Handler = (cpu: number) => GuestCode;

interface State {
  readonly sys: BootedGuest;
  readonly smp: KtestSmp;
  readonly flags: number;
  readonly timer: KtestTimer;
  readonly handlers: Map<number, Handler>[];
  readonly hartWait: number;
}

/** Creates the `sbi-ipi` image. */
export function sbiIpiImage(options: ImageOptions = {}): GuestImage {
  let state: State | undefined;

  const flag = (s: State, cpu: number, which: number): number => s.flags + FLAGS * cpu + which;

  /** ipi_hart_wait(), on the receiver. */
  function* ipiHartWait(s: State, me: number, timeoutUs: number): GuestCode {
    s.handlers[me]!.set(IRQ_S_SOFT, function* (cpu) {
      yield op.csrClear(CSR_SIP, IE_SSIE); // ipi_ack
      yield op.write(flag(s, cpu, RECEIVED), 4, 1);
    });
    s.handlers[me]!.set(IRQ_S_TIMER, function* (cpu) {
      yield* s.timer.stop(cpu);
      yield op.write(flag(s, cpu, TIMEOUT), 4, 1);
    });
    yield op.csrSet(CSR_SIE, IE_SSIE); // local_ipi_enable
    yield op.csrSet(CSR_SIE, IE_STIE); // timer_irq_enable
    yield op.unmask(); // local_irq_enable
    yield* s.timer.start(me, timeoutUs);
    for (;;) {
      if ((yield op.read(flag(s, me, RECEIVED), 4)).value !== 0) break;
      if ((yield op.read(flag(s, me, TIMEOUT), 4)).value !== 0) break;
      yield cpuRelax();
    }
    yield op.mask();
    yield* s.timer.stop(me);
    yield op.csrClear(CSR_SIE, IE_SSIE);
    yield op.csrClear(CSR_SIE, IE_STIE);
    s.handlers[me]!.delete(IRQ_S_SOFT);
    s.handlers[me]!.delete(IRQ_S_TIMER);
    yield op.write(flag(s, me, DONE), 4, 1);
  }

  /** cpumask_equal(&ipi_done, receivers). */
  function* doneEquals(s: State, receivers: ReadonlySet<number>): GuestCode<boolean> {
    for (let c = 0; c < s.sys.platform.cpus.length; c++) {
      const done = (yield op.read(flag(s, c, DONE), 4)).value !== 0;
      if (done !== receivers.has(c)) return false;
    }
    return true;
  }

  function* clearDone(s: State): GuestCode {
    for (let c = 0; c < s.sys.platform.cpus.length; c++) yield op.write(flag(s, c, DONE), 4, 0);
  }

  /** ipi_hart_check(). */
  function* ipiHartCheck(s: State, rep: KtestReport, mask: ReadonlySet<number>): GuestCode {
    for (const cpu of [...mask].sort((a, b) => a - b)) {
      if ((yield op.read(flag(s, cpu, TIMEOUT), 4)).value !== 0) {
        const rec = (yield op.read(flag(s, cpu, RECEIVED), 4)).value !== 0 ? "but was still received" : "and has still not been received";
        yield* rep.fail(`ipi timed out on cpu${cpu} ${rec}`);
      }
      yield op.write(flag(s, cpu, TIMEOUT), 4, 0);
      yield op.write(flag(s, cpu, RECEIVED), 4, 0);
    }
  }

  /** One "send, wait for the receivers, check" round. */
  function* round(s: State, rep: KtestReport, receivers: ReadonlySet<number>, send: () => GuestCode<SbiRet>): GuestCode {
    yield* clearDone(s);
    for (const cpu of receivers) {
      const rc = yield* s.smp.onCpuAsync(cpu, s.hartWait, SBI_IPI_TIMEOUT_US);
      if (rc !== 0) return yield* panic(s.sys, `sbi-ipi: cpu${cpu} failed to start (sbiret.error ${rc})`);
    }
    const ret = yield* send();
    yield* rep.report(ret.error === SBI_SUCCESS, "ipi returned success");
    while (!(yield* doneEquals(s, receivers))) yield cpuRelax();
    yield* ipiHartCheck(s, rep, receivers);
  }

  /** sbiret_report_error / sbiret_kfail_error. */
  function* sbiretError(rep: KtestReport, kfail: boolean, ret: SbiRet, expected: number, name: string, msg: string): GuestCode {
    const pass = yield* rep.kfail(kfail, ret.error === expected, `${msg}: ${name}`);
    if (!pass) yield* rep.info(`${msg}: ${name} (${expected}): received error ${ret.error}`);
  }

  /** rand_online_cpu(). */
  function randOnlineCpu(ps: KtestPrng, n: number): number {
    for (;;) {
      const cpu = ps.next32() % n;
      if (cpu !== 0) return cpu;
    }
  }

  /** check_ipi(). */
  function* checkIpi(s: State, rep: KtestReport): GuestCode {
    const cpus = s.sys.platform.cpus;
    const n = cpus.length;
    const ps = new KtestPrng(SBI_IPI_PRNG_SEED);
    rep.push("ipi");
    // sbi_probe() asserts SBI 0.2 or later first.
    yield* sbiCall(SBI_EXT_BASE, SBI_EXT_BASE_GET_SPEC_VERSION);
    if (!(yield* sbiProbeExtension(SBI_EXT_IPI))) {
      yield* rep.skip("ipi extension not available");
      rep.pop();
      return;
    }
    yield* sbiretError(rep, false, yield* sbiCall(SBI_EXT_IPI, 0xbad, [0, 0, 0, 0, 0, 0]), SBI_ERR_NOT_SUPPORTED, "SBI_ERR_NOT_SUPPORTED", "Bad FID");
    if (n < 2) {
      yield* rep.skip("At least 2 cpus required");
      rep.pop();
      return;
    }

    rep.push("random hart");
    const one = randOnlineCpu(ps, n);
    yield* round(s, rep, new Set([one]), () => sbiSendIpi(1, cpus[one]!.hwid));
    rep.pop();

    rep.push("two in hart_mask");
    if (n < 3) yield* rep.skip("3 cpus required");
    else {
      const cpu = randOnlineCpu(ps, n);
      const h1 = cpus[cpu]!.hwid;
      const cpu2 = cpus.findIndex((c, i) => i !== cpu && i !== 0 && Math.abs(c.hwid - h1) < 64);
      if (cpu2 < 0) yield* rep.skip("hartids are too sparse");
      else {
        const h2 = cpus[cpu2]!.hwid;
        yield* round(s, rep, new Set([cpu, cpu2]), () => sbiSendIpi(2 ** Math.abs(h2 - h1) + 1, Math.min(h1, h2)));
      }
    }
    rep.pop();

    rep.push("broadcast");
    yield* round(s, rep, new Set(cpus.map((_, i) => i).filter((i) => i !== 0)), () => sbiSendIpiBroadcast());
    rep.pop();

    rep.push("invalid parameters");
    const maxHartid = Math.max(...cpus.map((c) => c.hwid));
    yield* sbiretError(rep, false, yield* sbiSendIpi(0, 0), SBI_SUCCESS, "SBI_SUCCESS", "no targets, hart_mask_base is 0");
    yield* sbiretError(rep, false, yield* sbiSendIpi(0, 1), SBI_SUCCESS, "SBI_SUCCESS", "no targets, hart_mask_base is 1");
    // OpenSBI before 1.7 accepted these (a known failure there).
    let kfail = (yield* sbiGetImpId()).value === SBI_IMPL_OPENSBI;
    if (kfail) kfail = (yield* sbiGetImpVersion()).value < sbiImplOpensbiVersion(1, 7);
    yield* sbiretError(rep, kfail, yield* sbiSendIpi(2, maxHartid), SBI_ERR_INVALID_PARAM, "SBI_ERR_INVALID_PARAM", "hart_mask");
    yield* sbiretError(rep, kfail, yield* sbiSendIpi(1, maxHartid + 1), SBI_ERR_INVALID_PARAM, "SBI_ERR_INVALID_PARAM", "hart_mask_base");
    rep.pop();

    rep.pop();
  }

  return {
    main: function* (bootRegs) {
      state = undefined;
      const sys = yield* boot(bootRegs, { arch: "riscv64", ...options });
      if (sys.arch !== "riscv64") return yield* panic(sys, "sbi-ipi: this image runs on riscv64 only");
      yield* setThisCpu(0);
      const cpus = sys.platform.cpus;
      const bytes = KtestSmp.bytes(cpus.length) + FLAGS * cpus.length;
      const base = allocateBootMemory(sys.platform, bytes);
      if (base === undefined) return yield* panic(sys, `sbi-ipi: no free RAM for ${bytes} bytes of test data`);
      const smp = new KtestSmp(base, cpus);
      yield* smp.init();
      const flags = base + KtestSmp.bytes(cpus.length);
      yield* storeWords(flags, Math.ceil((FLAGS * cpus.length) / 4), 0);
      const timer = new KtestTimer(cpus, sys.platform.timebaseFrequency ?? 0);
      const st: State = { sys, smp, flags, timer, handlers: cpus.map(() => new Map<number, Handler>()), hartWait: smp.register((cpu, data) => ipiHartWait(st, cpu, data)) };
      state = st;
      const rep = new KtestReport(sys.console);
      rep.push("sbi");
      yield* checkIpi(st, rep);
      const code = yield* rep.summary();
      // exit(code): the EXIT line, then sbi_shutdown(code == 0).
      yield* rep.exitLine(code);
      yield* sbiSystemReset(SBI_SRST_RESET_TYPE_SHUTDOWN, code === 0 ? 0 : 1);
      yield* putLine(sys.console, "SBI shutdown failed!");
      return yield* halt();
    },

    secondary: function* (entry, context) {
      const s = state;
      if (s === undefined) return yield* halt();
      if (!(yield* s.smp.secondaryMain(entry, context))) {
        return yield* panic(s.sys, `sbi-ipi: a hart started at 0x${entry.toString(16)} with 0x${context.toString(16)}, which this image did not ask for`);
      }
    },

    vector: function* (cause) {
      const s = state;
      if (s === undefined) return;
      const cpu = yield* thisCpu();
      const h = s.handlers[cpu]?.get(cause);
      if (h !== undefined) return yield* h(cpu);
      // do_handle_exception() without a handler: show_regs (the lines a JavaScript image has), then abort().
      const hex16 = (hi: number, lo: number): string => hi.toString(16).padStart(8, "0") + lo.toString(16).padStart(8, "0");
      yield* putLine(s.sys.console, `CPU${String(cpu).padStart(3)} : hartid=${s.sys.platform.cpus[cpu]?.hwid.toString(16) ?? "?"}`);
      yield* putLine(s.sys.console, `cause  : ${hex16(0x8000_0000, cause)}`);
      yield* new KtestReport(s.sys.console).exitLine(ABORT_EXIT_STATUS);
      yield* sbiSystemReset(SBI_SRST_RESET_TYPE_SHUTDOWN, 1);
      return yield* halt();
    },
  };
}
