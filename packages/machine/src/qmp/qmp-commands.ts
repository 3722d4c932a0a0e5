/**
 * The QMP command table of an irqlab machine, and the control and run-state
 * commands (qapi/control.json, qapi/misc.json, qapi/run-state.json,
 * qapi/accelerator.json):
 *
 * - qmp_capabilities (monitor/qmp-cmds-control.c qmp_qmp_capabilities,
 *   qmp_caps_accept): "Capability %s not available" for a capability not
 *   offered; CommandNotFound "Capabilities negotiation is already complete,
 *   command ignored" once negotiated.
 * - query-version (qmp_query_version), query-commands (qmp_query_commands:
 *   the list is built by prepending, so it comes out last-registered first),
 *   query-kvm, query-status (qmp_query_status).
 * - stop (qmp_stop → vm_stop: STOP before the answer; a VM that is not
 *   running is left as it is), cont (qmp_cont:
 *   "Resetting the Virtual Machine is required" after a shutdown, an
 *   internal error or a guest panic; RESUME before the answer).
 * - system_reset, system_powerdown, quit: QEMU only posts a request
 *   (qemu_system_reset_request, qemu_system_powerdown_request,
 *   qemu_system_shutdown_request) that its main loop serves after the
 *   answer has gone out; here too the work happens after the answer. The
 *   reset itself is the machine's requestReset (done as soon as its vCPUs
 *   are out of KVM_RUN, i.e. when virtual time next runs), POWERDOWN is
 *   emitted and a guest that does not handle the power button sees nothing
 *   more, quit emits SHUTDOWN (reason host-qmp-quit) and calls onQuit.
 */

import { runStateIsRunning } from "../core/run-state.js";
import { QmpError, genericError } from "./qmp-args.js";
import { cpuCommands } from "./qmp-commands-cpu.js";
import { irqlabCommands } from "./qmp-commands-irqlab.js";
import { qdevCommands } from "./qmp-commands-qdev.js";
import { qomCommands } from "./qmp-commands-qom.js";
import type { QmpCommand } from "./qmp-dispatch.js";
import { qemuVersionTriple, type QmpCommandEnv } from "./qmp-env.js";
import { hmpCommand } from "./qmp-hmp.js";

/** qapi/control.json QMPCapability. */
export const QMP_CAPABILITIES = ["oob"] as const;

function controlCommands(env: QmpCommandEnv): QmpCommand[] {
  const m = env.machine;
  return [
    {
      name: "qmp_capabilities",
      args: [{ name: "enable", type: { list: { enum: QMP_CAPABILITIES } }, optional: true }],
      negotiation: true,
      run(ctx, args) {
        const state = ctx.session;
        if (state === undefined || state.negotiated) throw new QmpError("CommandNotFound", "Capabilities negotiation is already complete, command ignored");
        const enable = (args.enable ?? []) as readonly string[];
        for (const cap of enable) if (!state.offered.includes(cap)) throw genericError(`Capability ${cap} not available`);
        state.enabled = [...new Set(enable)];
        state.negotiated = true;
        return {};
      },
    },
    {
      name: "query-version",
      args: [],
      run: () => ({ qemu: qemuVersionTriple(), package: env.version.package }),
    },
    {
      name: "query-commands",
      args: [],
      run: () => [...env.commandNames()].reverse().map((name) => ({ name })),
    },
    {
      name: "query-kvm",
      args: [],
      run: () => ({ enabled: true, present: true }),
    },
    {
      name: "query-status",
      args: [],
      run: () => ({ running: runStateIsRunning(m.runState), status: m.runState }),
    },
    {
      name: "stop",
      args: [],
      run() {
        // do_vm_stop() acts only on a live VM (runstate_is_live): in prelaunch or paused nothing changes.
        if (runStateIsRunning(m.runState)) m.stop();
        return {};
      },
    },
    {
      name: "cont",
      args: [],
      run() {
        // runstate_needs_reset(): internal-error, shutdown, guest-panicked.
        const s = m.runState;
        if (s === "internal-error" || s === "shutdown" || s === "guest-panicked") throw genericError("Resetting the Virtual Machine is required");
        m.cont();
        return {};
      },
    },
    {
      name: "system_reset",
      args: [],
      run(ctx) {
        ctx.after(() => {
          m.requestReset("host-qmp-system-reset");
        });
        return {};
      },
    },
    {
      name: "system_powerdown",
      args: [],
      run(ctx) {
        ctx.after(() => {
          m.powerdown();
        });
        return {};
      },
    },
    {
      name: "quit",
      args: [],
      run(ctx) {
        ctx.after(() => {
          m.shutdown("host-qmp-quit");
          env.onQuit();
        });
        return {};
      },
    },
  ];
}

/** Every command of an irqlab QMP monitor, by name, in registration order. */
export function buildQmpCommands(env: QmpCommandEnv): Map<string, QmpCommand> {
  const all = [...controlCommands(env), ...cpuCommands(env), ...qdevCommands(env), ...qomCommands(env), hmpCommand(env), ...irqlabCommands(env)];
  return new Map(all.map((c) => [c.name, c]));
}
