/**
 * What a machine tells the outside world, as QEMU's QMP events (qapi/run-state.json,
 * qapi/qdev.json): the management layer hears STOP, RESUME, RESET,
 * SHUTDOWN, POWERDOWN, GUEST_PANICKED and DEVICE_DELETED, with the virtual
 * time at which they happened.
 */

import type { Nanoseconds } from "@irqlab/sim";

/** qapi ShutdownCause. */
export type ShutdownCause =
  | "none"
  | "host-error"
  | "host-qmp-quit"
  | "host-qmp-system-reset"
  | "host-signal"
  | "host-ui"
  | "guest-shutdown"
  | "guest-reset"
  | "guest-panic"
  | "subsystem-reset"
  | "snapshot-load";

/** One event, with the QMP name and `data` member. */
export type MachineEvent =
  | { readonly event: "STOP"; readonly data: Record<string, never> }
  | { readonly event: "RESUME"; readonly data: Record<string, never> }
  | { readonly event: "RESET"; readonly data: { readonly guest: boolean; readonly reason: ShutdownCause } }
  | { readonly event: "SHUTDOWN"; readonly data: { readonly guest: boolean; readonly reason: ShutdownCause } }
  | { readonly event: "POWERDOWN"; readonly data: Record<string, never> }
  | { readonly event: "GUEST_PANICKED"; readonly data: { readonly action: "pause" | "poweroff" | "run"; readonly info?: Record<string, unknown> } }
  | { readonly event: "DEVICE_DELETED"; readonly data: { readonly device?: string; readonly path: string } };

/** A listener of a machine's events; `at` is the virtual time. */
export type MachineEventListener = (e: MachineEvent, at: Nanoseconds) => void;
