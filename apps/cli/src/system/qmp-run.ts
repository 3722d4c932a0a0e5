/**
 * A run with QMP monitors, in QEMU's order: the monitors' chardevs are
 * created before the machine (system/vl.c qemu_create_early_backends: a
 * server with wait=on reports "QEMU waiting for connection on: …" and blocks
 * until a client connects), the monitors are attached once the machine
 * exists (qemu_create_late_backends: each connected client gets its
 * greeting then), the machine runs in the live loop (live-run.ts), and at
 * the end every connection is flushed and closed and the Unix socket files
 * are removed.
 *
 * Each -qmp is a monitor of its own (monitor_init_qmp); it offers the "oob"
 * capability on a socket and not on stdio, as QEMU does (use_io_thread).
 * While the machine runs, SIGINT, SIGTERM and SIGHUP shut it down as
 * system/runstate.c qemu_system_killed() does: "terminating on signal N",
 * a SHUTDOWN event with reason "host-signal", and the normal exit.
 */

const SHUTDOWN_SIGNALS = ["SIGINT", "SIGTERM", "SIGHUP"] as const;

import { constants } from "node:os";
import { QmpMonitor, type Machine, type MachineRunEnd } from "@irqlab/machine";
import type { QmpChardev } from "./qmp-chardev.js";
import { ChardevOpenError, QmpChardevEndpoint, type QmpInput } from "./qmp-server.js";
import { LiveLoop, type LiveRunFlags } from "./live-run.js";

/** Where the monitors read and write, and how their messages are printed. */
export interface QmpRunIo {
  /** The input of `-qmp stdio` (called only when a monitor is on stdio). */
  readonly stdin: () => QmpInput;
  readonly stdout: (text: string) => void;
  /** QEMU's stderr line for one message: "PROG: LOCATION: [info: ]TEXT\n" (+ hint lines). */
  readonly report: (location: string | undefined, text: string, hint?: string, info?: boolean) => void;
}

/** The monitors of one run: their chardevs and the loop they wake. */
export class QmpRun {
  readonly loop = new LiveLoop();
  readonly endpoints: QmpChardevEndpoint[];
  readonly monitors: QmpMonitor[] = [];
  /** How many of the machine's internal-error entries the live loop has printed. */
  errorsPrinted = 0;
  readonly #io: QmpRunIo;

  constructor(chardevs: readonly QmpChardev[], io: QmpRunIo) {
    this.endpoints = chardevs.map((dev) => new QmpChardevEndpoint(dev, { stdin: io.stdin, stdout: io.stdout, wake: this.loop.wake }));
    this.#io = io;
  }

  /**
   * chardev_init_func() for each chardev in order: open it and, for a server
   * with wait=on, wait for its first client. Returns false (after reporting
   * and closing what was opened) when one cannot be created: QEMU exits 1.
   */
  async open(): Promise<boolean> {
    for (const ep of this.endpoints) {
      try {
        await ep.open();
      } catch (e) {
        if (!(e instanceof ChardevOpenError)) throw e;
        this.#io.report(ep.dev.location, e.message, e.hint);
        await this.close();
        return false;
      }
      if (ep.waits) {
        // tcp_chr_accept_server_sync(): info_report() at the option, then block.
        this.#io.report(ep.dev.location, `QEMU waiting for connection on: ${ep.disconnectedFilename}`, undefined, true);
        await ep.waitConnected();
      }
    }
    return true;
  }

  /** monitor_init_qmp() for each chardev: connected clients get their greeting now. */
  attach(machine: Machine): void {
    for (const ep of this.endpoints) {
      const monitor = new QmpMonitor(machine, {
        oob: ep.dev.backend === "socket",
        onQuit: () => {
          this.loop.requestQuit();
        },
      });
      this.monitors.push(monitor);
      ep.attach(monitor);
    }
  }

  /**
   * The live loop, until the machine shuts down (QMP `quit` shuts it down
   * too) or the `untilNs` limit. A vCPU's internal-error dump goes to `err`
   * when it happens (kvm_cpu_exec); the VM then stays stopped for the
   * monitors, as in QEMU.
   */
  async run(machine: Machine, flags: LiveRunFlags, untilNs: number | undefined, err: (text: string) => void): Promise<MachineRunEnd> {
    this.errorsPrinted = machine.errors.length;
    const onSignal = (sig: NodeJS.Signals): void => {
      // qemu_kill_report(): Node does not tell the sender's pid, the form for an unknown sender.
      this.#io.report(undefined, `terminating on signal ${String(constants.signals[sig])}`);
      machine.shutdown("host-signal");
      this.loop.wake();
    };
    for (const sig of SHUTDOWN_SIGNALS) process.on(sig, onSignal);
    let end;
    try {
      end = await this.loop.run(machine, {
        sliceNs: flags.sliceNs,
        ...(flags.pace === undefined ? {} : { pace: flags.pace }),
        ...(untilNs === undefined ? {} : { untilNs }),
        afterSlice: () => {
          while (this.errorsPrinted < machine.errors.length) {
            const entry = machine.errors[this.errorsPrinted++]!;
            err(entry.endsWith("\n") ? entry : `${entry}\n`);
          }
        },
        reachable: () => this.endpoints.some((ep) => ep.reachable),
      });
    } finally {
      for (const sig of SHUTDOWN_SIGNALS) process.removeListener(sig, onSignal);
    }
    return end === "quit" ? "shutdown" : end;
  }

  /** Flushes and closes every connection and listener (qemu_chr_cleanup). */
  async close(): Promise<void> {
    await Promise.all(this.endpoints.map((ep) => ep.close()));
  }
}
