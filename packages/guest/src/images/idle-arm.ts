/**
 * The `idle` image on arm64: the device interrupt that wakes the idle CPUs
 * is the PL011's SPI, through the GICv3; the IPIs are SGIs.
 *
 * The boot CPU brings the GIC up (distributor, its redistributor and CPU
 * interface), starts every other CPU with PSCI CPU_ON into the idle loop
 * (each runs gic_cpu_init and enables SGI 0, as Linux's ipi_setup does),
 * then takes the console's interrupt from the pl011 node's `interrupts`
 * (GIC_SPI n, trigger type: INTID 32 + n, gic_set_type, gic_unmask_irq;
 * SPIs are routed to the boot CPU by gic_dist_init) and sends one line with
 * interrupt-driven transmission as amba-pl011.c does it (pl011-port.ts):
 * start_tx fills the FIFO and unmasks TXIM, CPU0 idles, the TX interrupt
 * wakes it and pl011_int sends fifosize / 2 bytes per pass until the line
 * is out and TXIM is masked again. QEMU's PL011 keeps TXRIS set until
 * UARTICR clears it, and Linux never clears it there, so the level stays
 * up while TXIM is set and one interrupt sends the rest of the line, pass
 * after pass. Then it wakes each idle CPU with an IPI (IPI_RESCHEDULE,
 * SGI 0, one ICC_SGI1R_EL1 write: smp_send_reschedule) and prints what
 * every CPU counted (-smp 4):
 *
 *     idle: ttyAMA0 SPI 1 (level high) -> INTID 33 on CPU0, 16-byte FIFO
 *     idle: this line was sent by interrupt-driven transmission
 *     idle: start_tx wrote 16 bytes, the TX interrupt 43 in 6 passes
 *     idle: 59 bytes from 1 UART interrupt, 1 wakeup of CPU0 from WFI
 *     CPU1: 1 IPI, 1 wakeup from WFI
 *     ...
 *     reboot: Power down
 *
 * A console that is not a PL011 with a GIC SPI is reported ("idle: the
 * console has no GIC interrupt") and the UART part skipped.
 */

import { panic } from "../boot/panic.js";
import { putLine } from "../console/console.js";
import { Pl011Port } from "../console/pl011-port.js";
import type { GuestImage } from "../guest-image.js";
import { gicIrqVector, gicSendSgi } from "../arm/gicv3-cpu.js";
import { powerOff } from "../power/power.js";
import { gicBoot, secondaryStart, startSecondary, type GicSystem } from "./gic-test-base.js";
import { IdleRecords, IPI_RESCHEDULE, idleForever, idleTxLine, transmitByInterrupts, wakeIdleCpus } from "./idle-common.js";
import { printBanner } from "./image-common.js";

/** The GIC binding's interrupt specifier (include/dt-bindings/interrupt-controller/arm-gic.h). */
const GIC_SPI = 0;
const IRQ_TYPE_EDGE_RISING = 1;
const IRQ_TYPE_LEVEL_HIGH = 4;
const IRQ_TYPE_SENSE_MASK = 0xf;

interface State {
  readonly g: GicSystem;
  readonly rec: IdleRecords;
}

/** Creates the arm64 `idle` image. */
export function idleArmImage(): GuestImage {
  let state: State | undefined;

  return {
    main: function* (bootRegs) {
      state = undefined;
      // The records follow the online words in the shared block.
      const g = yield* gicBoot(bootRegs, "idle", (cpus) => IdleRecords.bytes(cpus));
      const sys = g.sys;
      const n = sys.platform.cpus.length;
      yield* printBanner(sys, "idle");
      const rec = new IdleRecords(g.data, n);
      yield* rec.setOnline(0);
      state = { g, rec };
      g.gic.irqs.register(IPI_RESCHEDULE, (_hwirq, cpu) => rec.countIpi(cpu));
      yield* g.gic.enableIrq(IPI_RESCHEDULE, 0);
      for (let c = 1; c < n; c++) {
        const err = yield* startSecondary(g, c);
        if (err !== undefined) yield* putLine(sys.console, err);
      }

      // The console's interrupt, sent through by interrupt-driven transmission.
      const uart = sys.platform.console;
      const spec = uart?.interrupts[0];
      const gicPath = sys.platform.gic?.path;
      if (uart?.kind === "pl011" && spec !== undefined && spec.controller === gicPath && spec.cells.length === 3 && spec.cells[0] === GIC_SPI) {
        const intid = 32 + spec.cells[1]!;
        const type = spec.cells[2]! & IRQ_TYPE_SENSE_MASK;
        const port = yield* Pl011Port.probe(uart);
        const tx = idleTxLine();
        const rc = yield* g.gic.setType(intid, type === IRQ_TYPE_EDGE_RISING);
        if (rc !== 0) return yield* panic(sys, `idle: ttyAMA0 SPI ${spec.cells[1]}: gic_set_type failed (${rc})`);
        g.gic.irqs.register(intid, function* () {
          tx.irqs++;
          yield* port.handleIrq(tx);
        });
        yield* port.startup();
        yield* g.gic.enableIrq(intid);
        const how = type === IRQ_TYPE_LEVEL_HIGH ? "level high" : type === IRQ_TYPE_EDGE_RISING ? "edge rising" : `type ${type}`;
        yield* putLine(sys.console, `idle: ttyAMA0 SPI ${spec.cells[1]} (${how}) -> INTID ${intid} on CPU0, ${port.fifosize}-byte FIFO`);
        yield* transmitByInterrupts(
          sys.console,
          rec,
          tx,
          () => port.startTx(tx),
          function* () {
            yield* [];
            return tx.sent === tx.bytes.length && !port.transmitting;
          },
          () => [`idle: start_tx wrote ${port.primed} bytes, the TX interrupt ${tx.sent - port.primed} in ${port.txPasses} passes`],
        );
      } else {
        yield* putLine(sys.console, "idle: the console has no GIC interrupt");
      }

      yield* wakeIdleCpus(sys.console, rec, (c) => gicSendSgi(g.gic, IPI_RESCHEDULE, [c]));
      return yield* powerOff(sys);
    },

    secondary: function* (entry, context) {
      const s = state;
      const cpu = yield* secondaryStart(s?.g, entry, context);
      yield* s!.g.gic.enableIrq(IPI_RESCHEDULE, cpu);
      yield* s!.rec.setOnline(cpu);
      yield* idleForever(s!.rec, cpu);
    },

    vector: gicIrqVector(() => state?.g.gic),
  };
}
