/**
 * The whole its-trigger process, as a user runs it: `irqlab-system-aarch64
 * -M virt -accel kvm -smp 4 -nographic -kernel irqlab:its-trigger` — Node's
 * start, loading the command, building the machine (4 vCPUs, the in-kernel
 * vgic-v3 and vITS), kvm-unit-tests' its-trigger guest (the ITS set-up,
 * MAPD/MAPC/MAPTI, INT, INV, INVALL, MAPD V=0, its checks and delays) and
 * power-off. The command is built from the sources as tsup ships it: the
 * bin (a small CommonJS script) and the CommonJS bundle it loads with V8's
 * code cache (src/launch), with the packages it uses, without comments and
 * whitespace (its-trigger-command.ts). Each call runs it in a child process,
 * with a code cache the first run wrote, as a user's every run after the
 * first; the call checks that the guest printed its SUMMARY and EXIT lines.
 * `meta.noCodeCacheNs` is the same process without the cache (a first run,
 * or IRQLAB_CODE_CACHE=off).
 *
 * `meta.nodeStartNs` is `node -e 0` measured in the same run: the part no
 * change to irqlab can remove. `meta.nodeExtraCaCertsNs` is what of it Node
 * spends reading the certificates NODE_EXTRA_CA_CERTS names, when the
 * environment sets it (0 otherwise): Node reads them at start, before any
 * script. `meta.processWithoutExtraCaCertsNs` is then the whole process
 * again with NODE_EXTRA_CA_CERTS left out of its environment, as a user
 * whose environment does not set it runs the command (absent when it is not
 * set: the process figure is that one then). `meta.simulationNs` is the command's own
 * accounting of the rest: the median wall time of a run of the same machine
 * inside this process (after a warm-up run), boot to power-off.
 *
 * `meta.processMinorFaults` and `meta.nodeStartMinorFaults` are the minor
 * page faults the whole process and `node -e 0` take (medians; absent
 * without /proc), and `meta.minorFaultNs` what one costs on this machine,
 * measured here on fresh memory: their product is the share of the process
 * spent having the kernel (and, in a virtual machine, its host) supply pages.
 */
import { itsTriggerImage } from "@irqlab/guest";
import { Machine, parseSystemCommandLine } from "@irqlab/machine";
import { bench, describe } from "vitest";
import { median } from "../../../scripts/micro-bench-process.mjs";
import { ITS_TRIGGER_ARGV, runItsTrigger, runNode, shipItsTrigger } from "./its-trigger-command.js";
import { childFaultsOf, minorFaultNs } from "./page-faults.js";

const cmd = await shipItsTrigger("its-trigger-code-cache");

/** Wall ns of `f`, median of `runs` after one warm-up call. */
function timeIt(f: () => void, runs: number): number {
  f();
  const ns: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = process.hrtime.bigint();
    f();
    ns.push(Number(process.hrtime.bigint() - t0));
  }
  return median(ns);
}

/** The median minor faults of `runs` calls of `f`, or undefined where children's faults cannot be read. */
function faultsOf(f: () => void, runs: number): number | undefined {
  const faults: number[] = [];
  for (let i = 0; i < runs; i++) {
    const n = childFaultsOf(f);
    if (n === undefined) return undefined;
    faults.push(n);
  }
  return median(faults);
}

// The first run writes the code cache the bench's runs start from.
runItsTrigger(cmd);
const nodeStartNs = timeIt(() => void runNode(["-e", "0"], cmd.codeCache), 9);
// Node reads the certificates NODE_EXTRA_CA_CERTS names as it starts, before any script: where the
// environment sets it, that part of nodeStartNs is the environment's, measured here apart.
const { NODE_EXTRA_CA_CERTS: extraCaCerts, ...withoutExtraCaCerts } = process.env;
const nodeExtraCaCertsNs = extraCaCerts === undefined ? 0 : nodeStartNs - timeIt(() => void runNode(["-e", "0"], cmd.codeCache, withoutExtraCaCerts), 9);
const processWithoutExtraCaCertsNs = extraCaCerts === undefined ? undefined : timeIt(() => runItsTrigger(cmd, cmd.codeCache, withoutExtraCaCerts), 9);
const noCodeCacheNs = timeIt(() => runItsTrigger(cmd, "off"), 9);
const processMinorFaults = faultsOf(() => runItsTrigger(cmd), 5);
const nodeStartMinorFaults = faultsOf(() => void runNode(["-e", "0"], cmd.codeCache), 5);
const faultNs = minorFaultNs();
const parsed = parseSystemCommandLine("aarch64", ITS_TRIGGER_ARGV.slice(0, -2));
if (parsed.kind !== "run") throw new Error(`command line: ${parsed.kind}`);
const config = parsed.config;
const simulationNs = timeIt(() => {
  const m = Machine.create({ config, kernel: itsTriggerImage(), console: () => undefined });
  if (m.run(600_000_000_000) !== "shutdown") throw new Error("its-trigger did not power off");
}, 9);

describe("irqlab-system-aarch64 -M virt -accel kvm -smp 4 -kernel irqlab:its-trigger", () => {
  bench("the whole process: node, the command, the machine, the guest, power-off", () => runItsTrigger(cmd), {
    meta: { nodeStartNs, nodeExtraCaCertsNs, processWithoutExtraCaCertsNs, noCodeCacheNs, simulationNs, processMinorFaults, nodeStartMinorFaults, minorFaultNs: faultNs },
  } as object);
});
