/**
 * QEMU's RunState (qapi/run-state.json) for the states a KVM machine of
 * irqlab reaches, and the transitions between them that QEMU allows
 * (system/runstate.c runstate_transitions_def). A transition QEMU would
 * abort on ("invalid runstate transition") is a ConfigError here: it is a
 * bug in whoever drives the machine, never guest behaviour.
 */

import { ConfigError } from "@irqlab/sim";

/** The modelled members of QEMU's RunState enum, spelled as QMP spells them. */
export type RunState = "prelaunch" | "running" | "paused" | "internal-error" | "shutdown" | "guest-panicked";

/** runstate_transitions_def, restricted to the modelled states. */
const TRANSITIONS: Readonly<Record<RunState, readonly RunState[]>> = {
  prelaunch: ["running", "paused", "internal-error", "shutdown", "guest-panicked"],
  running: ["paused", "internal-error", "shutdown", "guest-panicked"],
  paused: ["running", "prelaunch", "shutdown", "internal-error", "guest-panicked"],
  "internal-error": ["paused", "running", "prelaunch", "shutdown"],
  shutdown: ["paused", "running", "prelaunch"],
  "guest-panicked": ["paused", "running", "prelaunch", "shutdown"],
};

/** Whether QEMU allows `from` → `to` (runstate_set). */
export function runStateTransitionAllowed(from: RunState, to: RunState): boolean {
  return from === to || TRANSITIONS[from].includes(to);
}

/** Throws the error QEMU aborts with for a transition it does not allow. */
export function checkRunStateTransition(from: RunState, to: RunState): void {
  if (!runStateTransitionAllowed(from, to)) throw new ConfigError(`invalid runstate transition: '${from}' -> '${to}'`);
}

/** runstate_is_running(): the vCPUs may execute. */
export function runStateIsRunning(s: RunState): boolean {
  return s === "running";
}
