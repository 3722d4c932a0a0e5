/**
 * The `storm` image on riscv64: the MSIs go to the per-hart IMSIC files, as
 * Linux's irq-riscv-imsic-platform.c composes them (imsic_irq_compose_msi_msg:
 * the address is the target hart's S-level interrupt file page, the data its
 * identity). Vector v of a function gets an identity on CPU v mod N
 * (imsic_vector_alloc with that CPU as the affinity), its handler in the
 * IrqTable, and is unmasked (imsic_vector_unmask). The enable of an identity
 * on another CPU is written by that CPU (imsic_local_sync); Linux arms a
 * timer on it (__imsic_remote_sync, add_timer_on), whose kick wakes the idle
 * CPU with an IPI; here the boot CPU sends that IPI itself. Each hart claims
 * with the `csrrw stopei` loop. QEMU sends each message with KVM_SIGNAL_MSI
 * without a devid (msi_send_message; the in-kernel AIA finds the hart by the
 * address). Secondary harts idle in WFI and take their share. With `-smp 2`
 * and two 8-vector functions it prints:
 *
 *     storm: 2 functions, 16 vectors, 4 rounds: 64 MSIs
 *     storm: 64 interrupts taken (CPU0 32, CPU1 32), 0 missing, in 173 us
 */

import { op } from "@irqlab/sim";
import { allocateBootMemory } from "../boot/boot-memory.js";
import { boot, type BootedGuest } from "../boot/boot.js";
import { hex } from "../boot/dt-read.js";
import { IRQ_S_EXT } from "../boot/dt-irqchips.js";
import { halt, panic } from "../boot/panic.js";
import type { GuestCode, GuestImage } from "../guest-image.js";
import { IrqTable } from "../irq/irq-table.js";
import { powerOff } from "../power/power.js";
import { sbiHartStart } from "../power/sbi.js";
import { rdtime, setThisCpu, thisCpu } from "../riscv/hart-csr.js";
import { ImsicDriver } from "../riscv/imsic-driver.js";
import { printBanner, waitForWord } from "./image-common.js";
import { runStorm, setupStormDevices, type StormDevice } from "./storm-common.js";

interface StormState {
  readonly sys: BootedGuest;
  readonly imsic: ImsicDriver;
  /** The online words, one per CPU; also the secondary entry point. */
  readonly base: number;
  /** Interrupts taken per logical CPU (kernel data). */
  readonly taken: number[];
}

function* noWork(): GuestCode {
  // The handler's work is the count its caller keeps.
}

/** The functions, with one IMSIC identity per vector. */
function* setup(s: StormState): GuestCode<StormDevice[] | string> {
  const { sys, imsic } = s;
  const host = sys.platform.pcie[0];
  if (host === undefined) return "no PCIe host bridge";
  const ncpu = sys.platform.cpus.length;
  const devs = yield* setupStormDevices(host, function* (fn, _target, n) {
    const messages = [];
    for (let v = 0; v < n; v++) {
      const cpu = v % ncpu;
      const vec = imsic.allocVector([cpu]);
      const pa = imsic.msiAddress(cpu);
      if (vec === undefined || pa === undefined) return `${fn.name}: no free IMSIC identity on CPU${cpu}`;
      imsic.table.register(vec.irq, (_irq, on) => {
        s.taken[on] = (s.taken[on] ?? 0) + 1;
        return noWork();
      });
      yield* imsic.unmask(vec, 0);
      messages.push({ addressLo: pa % 2 ** 32, addressHi: Math.floor(pa / 2 ** 32), data: vec.localId });
    }
    return messages;
  });
  // The kick of __imsic_remote_sync: each other CPU writes its new enables at its IMSIC interrupt.
  for (let c = 1; c < ncpu; c++) yield* imsic.sendIpi(c);
  return devs;
}

/** Creates the riscv64 `storm` image. */
export function stormImsicImage(): GuestImage {
  let state: StormState | undefined;
  return {
    main: function* (bootRegs) {
      state = undefined;
      const sys = yield* boot(bootRegs, { arch: "riscv64" });
      yield* setThisCpu(0);
      yield* printBanner(sys, "storm");
      const hz = sys.platform.timebaseFrequency;
      if (hz === undefined) return yield* panic(sys, "RISC-V system with no 'timebase-frequency' in DTS");
      const setupImsic = ImsicDriver.setup(sys.platform, new IrqTable());
      if (!setupImsic.ok) return yield* panic(sys, `storm: ${setupImsic.message}`);
      const imsic = setupImsic.driver;
      const cpus = sys.platform.cpus;
      const base = allocateBootMemory(sys.platform, 4 * cpus.length);
      if (base === undefined) return yield* panic(sys, `storm: no free RAM for ${4 * cpus.length} bytes`);
      for (const cpu of cpus) yield op.write(base + 4 * cpu.logical, 4, 0);
      const s: StormState = { sys, imsic, base, taken: cpus.map(() => 0) };
      state = s;
      yield* imsic.startingCpu(0);
      for (const cpu of cpus.slice(1)) {
        const rc = yield* sbiHartStart(cpu.hwid, base, base + 4 * cpu.logical);
        if (rc !== 0) return yield* panic(sys, `CPU${cpu.logical}: failed to boot: ${rc}`);
        if (!(yield* waitForWord(base + 4 * cpu.logical))) return yield* panic(sys, `CPU${cpu.logical}: failed to come online`);
      }
      const devs = yield* setup(s);
      if (typeof devs === "string") return yield* panic(sys, `storm: ${devs}`);
      yield op.unmask();
      yield* runStorm(sys.console, devs, s.taken, { hz, now: rdtime });
      yield op.mask();
      return yield* powerOff(sys);
    },
    vector: function* (cause) {
      const s = state;
      if (s !== undefined && cause === IRQ_S_EXT) yield* s.imsic.handleIrq(yield* thisCpu());
    },
    secondary: function* (entry, context) {
      const s = state;
      if (s === undefined) return yield* halt();
      const cpu = (context - s.base) / 4;
      if (entry !== s.base || !Number.isInteger(cpu) || cpu <= 0 || cpu >= s.sys.platform.cpus.length) {
        return yield* panic(s.sys, `storm: a hart started at ${hex(entry)} with ${hex(context)}, which this image did not ask for`);
      }
      yield* setThisCpu(cpu);
      yield* s.imsic.startingCpu(cpu);
      yield op.write(context, 4, 1);
      yield op.unmask();
      const wfi = op.wfi();
      for (;;) yield wfi;
    },
  };
}
