/**
 * QEMU's machine initialisation phases (include/hw/qdev-core.h
 * MachineInitPhase; hw/core/qdev.c phase_check / phase_advance). A machine
 * advances through them strictly in order; `device_add` of a hot-pluggable
 * device is allowed only at PHASE_MACHINE_READY.
 */

import { ConfigError } from "@irqlab/sim";

/** The phases, in order. */
export const MACHINE_INIT_PHASES = [
  /** No machine object yet. */
  "PHASE_NO_MACHINE",
  /** The machine object exists and its properties are set. */
  "PHASE_MACHINE_CREATED",
  /** The accelerator is initialised: KVM_CREATE_VM has been issued. */
  "PHASE_ACCEL_CREATED",
  /** Late backends (-object ... late ones) are created. */
  "PHASE_LATE_BACKENDS_CREATED",
  /** Board init ran (MachineClass::init) and cold-plugged devices are realized. */
  "PHASE_MACHINE_INITIALIZED",
  /** qdev_machine_creation_done(): machine-init-done notifiers ran; hotplug allowed. */
  "PHASE_MACHINE_READY",
] as const;

/** One of {@link MACHINE_INIT_PHASES}. */
export type MachineInitPhase = (typeof MACHINE_INIT_PHASES)[number];

/** The current phase of one machine. */
export class InitPhaseTracker {
  #index = 0;

  /** The current phase. */
  get phase(): MachineInitPhase {
    return MACHINE_INIT_PHASES[this.#index]!;
  }

  /** phase_check(): whether `p` has been reached. */
  check(p: MachineInitPhase): boolean {
    return this.#index >= MACHINE_INIT_PHASES.indexOf(p);
  }

  /** phase_advance(): moves to `p`, which must be the next phase (QEMU asserts it). */
  advance(p: MachineInitPhase): void {
    const i = MACHINE_INIT_PHASES.indexOf(p);
    if (i !== this.#index + 1) throw new ConfigError(`cannot advance from ${this.phase} to ${p}`);
    this.#index = i;
  }
}
