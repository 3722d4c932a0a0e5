/**
 * Seed 003: irqfd before the vgic is ready (arm64). Eric Auger's "KVM: arm:
 * add irqfd support" (Nov 2014): QEMU sets up VFIO signalling and KVM_IRQFD
 * in a machine-init-done notifier, before the first KVM_RUN, which was where
 * the vgic got initialised; a passed-through device whose line was left high
 * fires at once. The patch dropped such injections and acknowledged them;
 * Christoffer Dall: "For edge-triggered interrupts ... the guest will never
 * know it hit", and the vgic should latch it pending as hardware does. The
 * outcome was KVM_DEV_ARM_VGIC_CTRL_INIT (QEMU initialises the vgic at
 * machine init) and kvm_arch_intc_initialized() refusing early irqfds.
 * Each remedy runs an edge and a level device (early-irq-run.ts).
 */

import type { RemedyRow, Scenario, ScenarioColumn, ScenarioRemedy, ScenarioRunOptions } from "../scenario.js";
import { ScenarioError } from "../framework/scenario-error.js";
import { IRQFD_RETRY_NS } from "./retrying-vfio-platform.js";
import { interruptPath } from "./interrupt-path.js";
import { earlyIrqCommandLine, runEarlyIrq, type EarlyIrqRemedyConfig, type EarlyIrqResult } from "./early-irq-run.js";

const CONFIG: Readonly<Record<string, EarlyIrqRemedyConfig>> = {
  "lazy-init": { vgicInit: "first-run", kernel: "lazy-init", retryIrqfd: false },
  "ctrl-init": { vgicInit: "board-init", kernel: "explicit", retryIrqfd: false },
  "eagain-retry": { vgicInit: "first-run", kernel: "lazy-init-irqfd-eagain", retryIrqfd: true },
};

const REMEDIES: readonly ScenarioRemedy[] = [
  {
    name: "lazy-init",
    title: "vgic initialised at the first KVM_RUN (2014)",
    description: "The kernel of the patch under review: KVM_IRQFD accepted before the vgic exists, an injection arriving before the first KVM_RUN dropped and, for a level IRQ with a resampler, acknowledged at once (-M virt,x-vgic-init=first-run).",
  },
  {
    name: "ctrl-init",
    title: "KVM_DEV_ARM_VGIC_CTRL_INIT at board init (today)",
    description: "QEMU initialises the vgic explicitly when the GIC is realized, before machine-init-done; KVM_IRQFD then finds it ready and an early injection latches the SPI pending until the guest enables it.",
  },
  {
    name: "eagain-retry",
    title: "KVM_IRQFD refused with EAGAIN until init, the VMM retries",
    description:
      "The kernel keeps the lazy init but refuses KVM_IRQFD with EAGAIN until the vgic is ready (kvm_arch_intc_initialized); the VMM retries every `retry-us` (default 10 us) and sets VFIO's signalling up only once the irqfd is in place, so the early interrupt fires while the guest boots.",
  },
];

const part = (p: "edge" | "level", what: string): string => `${p} ${what}`;

const COLUMNS: readonly ScenarioColumn[] = (["edge", "level"] as const).flatMap((p) => [
  { key: `${p}_seen`, title: part(p, "seen by guest"), description: `The guest's handler took the ${p}-triggered device's SPI at least once.` },
  { key: `${p}_at`, title: part(p, "first taken at"), unit: "us", description: "Virtual time from `cont` (vm_start) to the first time the handler took it; the driver enables the SPI 100 us after boot." },
  { key: `${p}_times`, title: part(p, "times taken"), description: "How often the handler took it during the run (one early assertion, no later ones)." },
  { key: `${p}_dropped`, title: part(p, "dropped before init"), description: "Injections the vgic discarded because it was not initialised (vgic.dropped_before_init)." },
  { key: `${p}_lost`, title: part(p, "lost"), description: "The device raised its interrupt and the guest never took it." },
]);

function values(p: "edge" | "level", r: EarlyIrqResult): Record<string, string | number | boolean | null> {
  return {
    [`${p}_seen`]: r.takenUs.length > 0,
    [`${p}_at`]: r.takenUs[0] ?? null,
    [`${p}_times`]: r.takenUs.length,
    [`${p}_dropped`]: r.dropped,
    [`${p}_lost`]: r.takenUs.length === 0,
  };
}

function verdict(edge: EarlyIrqResult, level: EarlyIrqResult): string {
  const say = (p: string, r: EarlyIrqResult): string =>
    r.takenUs.length === 0 ? `the early ${p} interrupt is lost` : `the ${p} interrupt is taken ${r.takenUs.length === 1 ? "once" : `${r.takenUs.length} times`} at ${r.takenUs[0]!.toFixed(2)} us`;
  return `${say("edge", edge)}; ${say("level", level)}${level.dropped > 0 ? ` (after ${level.dropped} dropped re-fires)` : ""}`;
}

const TIMING = { pausedNs: 50_000, probeAfterNs: 100_000, runNs: 1_000_000 };

function run(remedy: string, o: ScenarioRunOptions): RemedyRow {
  const cfg = CONFIG[remedy];
  if (cfg === undefined) throw new ScenarioError("unknown-remedy", `scenario 'irqfd-before-vgic-init' has no remedy '${remedy}'`);
  const trace = o.trace === true;
  const retryUs = o.sizes?.["retry-us"] ?? IRQFD_RETRY_NS / 1000;
  if (retryUs < 1 || retryUs > 10_000) throw new ScenarioError("bad-size", `size 'retry-us' must be between 1 and 10000, not ${retryUs}`);
  const timing = { ...TIMING, retryNs: retryUs * 1000 };
  const edge = runEarlyIrq(true, cfg, timing, trace, o.loopForm === true);
  const level = runEarlyIrq(false, cfg, timing, trace, o.loopForm === true);
  const notes = [`command line (edge): ${edge.commandLine}`];
  for (const [p, r] of [["edge", edge], ["level", level]] as const) {
    notes.push(`${p}: injection ${r.injection}, ${r.signalled} host interrupts signalled${r.eagains > 0 ? `, KVM_IRQFD refused with EAGAIN ${r.eagains} times` : ""}`);
  }
  return {
    remedy,
    values: { ...values("edge", edge), ...values("level", level) },
    verdict: verdict(edge, level),
    notes,
    ...(trace
      ? {
          traces: { edge: edge.machine.tracer, level: level.machine.tracer },
          schedules: [interruptPath("edge", edge.machine.tracer), interruptPath("level", level.machine.tracer)],
        }
      : {}),
  };
}

/** Seed 003: an interrupt that arrives before the vgic is initialised, under each remedy. */
export const irqfdBeforeVgicInit: Scenario = {
  name: "irqfd-before-vgic-init",
  seed: "003",
  title: "irqfd before the vgic is ready (arm64, vfio-platform)",
  explain: [
    "Thread: \"[PATCH v4 2/3] KVM: arm: add irqfd support\" (Eric Auger, Christoffer Dall, Nov 2014).",
    "A vfio-platform device's host line is already high when QEMU opens it at machine-init-done;",
    "KVM_IRQFD is set up then, before the first KVM_RUN. The machine starts paused (-S), the host",
    "runs 50 us, then `cont`; the guest boots 100 us and its driver enables the SPI (GICD_ISENABLER)",
    "and takes it (ICC_IAR1_EL1, device ACK, ICC_EOIR1_EL1). Each remedy runs an edge-triggered and",
    "a level-triggered device.",
    "",
    "Command line (lazy-init, edge):",
    `  irqlab system-aarch64 ${earlyIrqCommandLine(true, CONFIG["lazy-init"]!).join(" ")}`,
    "",
    "Expected from the thread: under lazy init the early edge is consumed and dropped and the guest",
    "never sees it; a level line is re-fired after each dropped injection and is taken once the vgic",
    "exists; with CTRL_INIT the SPI latches pending and the guest takes it when it enables it.",
    "eagain-retry needs a kernel that refuses KVM_IRQFD before init (the host's vgic in mode",
    "lazy-init-irqfd-eagain) and a VMM that retries, which stock QEMU does not (it falls back to",
    "its userspace path); the scenario's VMM does. Its outcome depends on when the retry succeeds:",
    "the edge then reaches a vgic the guest is configuring. KVM's SPIs start edge-triggered",
    "(kvm_vgic_dist_init leaves irq->config 0, VGIC_CONFIG_EDGE), so an edge before the guest's",
    "gic_dist_init latches; gic_dist_init makes every SPI level-triggered (GICD_ICFGR = 0), and an",
    "edge pulse on a level-configured SPI leaves nothing pending, until the driver's gic_set_type",
    "makes it edge again. With the default 10 us retry the edge lands in that window and is lost;",
    "--size retry-us=1 makes it land before gic_dist_init, and it is kept.",
    "",
    "Sizes: retry-us (the VMM's KVM_IRQFD retry period in eagain-retry).",
  ].join("\n"),
  remedies: REMEDIES,
  columns: COLUMNS,
  sizes: { "retry-us": IRQFD_RETRY_NS / 1000 },
  run,
};
