/**
 * What a machine tells the outside world, as QEMU's QMP events (qapi/run-state.json,
 * qapi/qdev.json, qapi/acpi.json): the management layer hears STOP, RESUME,
 * RESET, SHUTDOWN, POWERDOWN, GUEST_PANICKED, DEVICE_DELETED and
 * ACPI_DEVICE_OST (a guest's _OST report of a CPU hotplug), with the virtual
 * time at which they happened.
 */

import type { Nanoseconds } from "@irqlab/sim";
import type { AcpiOstInfo } from "../devices/cpu-hotplug.js";

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
  | { readonly event: "DEVICE_DELETED"; readonly data: { readonly device?: string; readonly path: string } }
  | { readonly event: "ACPI_DEVICE_OST"; readonly data: { readonly info: AcpiOstInfo } };

/** A listener of a machine's events; `at` is the virtual time. */
export type MachineEventListener = (e: MachineEvent, at: Nanoseconds) => void;
