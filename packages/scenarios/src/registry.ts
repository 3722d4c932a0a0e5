/**
 * The registered scenarios, ordered by seed number, and lookup by name or
 * seed ("000", "0", "vsfile-exhaustion").
 */

import type { Scenario } from "./scenario.js";
import { vsFileExhaustion } from "./seed-000/vsfile-exhaustion.js";
import { sharedVlpiScenario } from "./seed-001/scenario.js";
import { armVcpuHotplug } from "./seed-002/vcpu-hotplug.js";
import { irqfdBeforeVgicInit } from "./seed-003/irqfd-before-vgic-init.js";
import { wakeupExplorerScenario } from "./seed-004/explorer-scenario.js";
import { runnableScenario } from "./seed-004/scenario.js";

/** Every registered scenario, ordered by seed (scenarios without a seed last). */
export const scenarios: readonly Scenario[] = [
  vsFileExhaustion,
  sharedVlpiScenario,
  armVcpuHotplug,
  irqfdBeforeVgicInit,
  runnableScenario,
  wakeupExplorerScenario,
];

/**
 * Finds a scenario by its name or its seed number ("003" or "3").
 * Returns undefined when nothing matches.
 */
export function findScenario(nameOrSeed: string): Scenario | undefined {
  const key = nameOrSeed.trim();
  const byName = scenarios.find((s) => s.name === key);
  if (byName !== undefined) return byName;
  if (/^\d{1,3}$/.test(key)) {
    const seed = key.padStart(3, "0");
    return scenarios.find((s) => s.seed === seed);
  }
  return undefined;
}
