/**
 * -smp as QEMU 11.1 resolves it: the SMPConfiguration visit of the machine's
 * "smp" property (hw/core/machine.c machine_set_smp, qapi/machine.json) and
 * hw/core/machine-smp.c machine_parse_smp_config():
 *
 * - every given parameter must be > 0;
 * - a level the machine does not support may only be 1 (arm virt supports
 *   clusters; riscv virt supports none of dies/clusters/modules/books/drawers);
 * - with neither cpus nor maxcpus, omitted sockets/cores/threads are 1;
 *   otherwise maxcpus defaults to cpus and, preferring cores over sockets
 *   (machine types since 6.2), the first omitted of cores, sockets, threads
 *   is maxcpus divided by the product of the others (the rest default to 1);
 * - maxcpus defaults to the product, cpus to maxcpus; the product must equal
 *   maxcpus, maxcpus must be >= cpus, and cpus/maxcpus must lie within the
 *   machine's min_cpus/max_cpus.
 *
 * The arithmetic is C's: QAPI ints truncated to `unsigned`, unsigned
 * products and divisions, `%d` printing of unsigned values.
 */

import type { SmpConfig } from "../config/machine-config.js";
import { QapiError } from "./qemu-error.js";
import type { KeyvalVisitor } from "./keyval-visitor.js";

/** The SMPConfiguration members, in qapi/machine.json order (the visit order). */
export const SMP_MEMBERS = ["cpus", "drawers", "books", "sockets", "dies", "clusters", "modules", "cores", "threads", "maxcpus"] as const;

/** One SMPConfiguration member. */
export type SmpMember = (typeof SMP_MEMBERS)[number];

/** A visited SMPConfiguration: the members given, as the int64 QAPI parsed. */
export type SmpInput = Partial<Record<SmpMember, bigint>>;

/** MachineClass::smp_props: the topology levels a machine supports. */
export interface SmpProps {
  readonly dies: boolean;
  readonly clusters: boolean;
  readonly modules: boolean;
  readonly books: boolean;
  readonly drawers: boolean;
  /** Prefer sockets over cores when deriving (machine types before 6.2). */
  readonly preferSockets: boolean;
}

/** What machine_parse_smp_config needs of the machine class. */
export interface SmpMachineClass {
  /** mc->name, as the min/max messages print it ("virt-11.1"). */
  readonly name: string;
  readonly minCpus: number;
  readonly maxCpus: number;
  readonly smpProps: SmpProps;
}

/** The topology of a machine without -smp (machine_initfn: mc->default_cpus = 1, every level 1). */
export const DEFAULT_SMP: SmpConfig = {
  cpus: 1, maxcpus: 1, drawers: 1, books: 1, sockets: 1, dies: 1, clusters: 1, modules: 1, cores: 1, threads: 1,
};

/** visit_type_SMPConfiguration(v, "smp"): the members in order, then the unexpected-member check. */
export function visitSmpConfiguration(v: KeyvalVisitor, name: string): SmpInput {
  v.startStruct(name);
  const out: SmpInput = {};
  for (const m of SMP_MEMBERS) {
    if (v.optional(m)) out[m] = v.int64(m);
  }
  v.checkStruct();
  v.endStruct();
  return out;
}

const u32 = (x: bigint | undefined): number => (x === undefined ? 0 : Number(BigInt.asUintN(32, x)));
const mul = (...xs: number[]): number => xs.reduce((a, b) => Math.imul(a, b) >>> 0, 1);
const int = (x: number): number => x | 0;

function div(a: number, b: number): number {
  if (b === 0) {
    // QEMU divides by this unsigned product; when it wraps to 0 QEMU dies of SIGFPE.
    throw new QapiError("irqlab: the -smp topology product overflows 32 bits (QEMU would crash dividing by it)");
  }
  return Math.floor(a / b);
}

/** machine-smp.c cpu_hierarchy_to_string(): the supported levels, largest first. */
export function cpuHierarchyToString(props: SmpProps, smp: SmpConfig): string {
  let s = "";
  if (props.drawers) s += `drawers (${String(smp.drawers)}) * `;
  if (props.books) s += `books (${String(smp.books)}) * `;
  s += `sockets (${String(smp.sockets)})`;
  if (props.dies) s += ` * dies (${String(smp.dies)})`;
  if (props.clusters) s += ` * clusters (${String(smp.clusters)})`;
  if (props.modules) s += ` * modules (${String(smp.modules)})`;
  s += ` * cores (${String(smp.cores)})`;
  s += ` * threads (${String(smp.threads)})`;
  return s;
}

/** hw/core/machine-smp.c machine_parse_smp_config(): the resolved topology, or the QEMU error. */
export function machineParseSmpConfig(mc: SmpMachineClass, config: SmpInput): SmpConfig {
  const props = mc.smpProps;
  if (SMP_MEMBERS.some((m) => config[m] === 0n)) {
    throw new QapiError("Invalid CPU topology: CPU topology parameters must be greater than zero");
  }
  let cpus = u32(config.cpus);
  let sockets = u32(config.sockets);
  let cores = u32(config.cores);
  let threads = u32(config.threads);
  let maxcpus = u32(config.maxcpus);

  // A level the machine lacks may be given, but only as 1 (modules, clusters, dies, books, drawers, in QEMU's order).
  const level = (m: "modules" | "clusters" | "dies" | "books" | "drawers", supported: boolean): number => {
    const given = config[m];
    if (!supported && given !== undefined && given > 1n) {
      throw new QapiError(`${m} > 1 not supported by this machine's CPU topology`);
    }
    const x = u32(given);
    return x > 0 ? x : 1;
  };
  const modules = level("modules", props.modules);
  const clusters = level("clusters", props.clusters);
  const dies = level("dies", props.dies);
  const books = level("books", props.books);
  const drawers = level("drawers", props.drawers);

  if (cpus === 0 && maxcpus === 0) {
    sockets = sockets > 0 ? sockets : 1;
    cores = cores > 0 ? cores : 1;
    threads = threads > 0 ? threads : 1;
  } else {
    maxcpus = maxcpus > 0 ? maxcpus : cpus;
    if (props.preferSockets) {
      if (sockets === 0) {
        cores = cores > 0 ? cores : 1;
        threads = threads > 0 ? threads : 1;
        sockets = div(maxcpus, mul(drawers, books, dies, clusters, modules, cores, threads));
      } else if (cores === 0) {
        threads = threads > 0 ? threads : 1;
        cores = div(maxcpus, mul(drawers, books, sockets, dies, clusters, modules, threads));
      }
    } else if (cores === 0) {
      sockets = sockets > 0 ? sockets : 1;
      threads = threads > 0 ? threads : 1;
      cores = div(maxcpus, mul(drawers, books, sockets, dies, clusters, modules, threads));
    } else if (sockets === 0) {
      threads = threads > 0 ? threads : 1;
      sockets = div(maxcpus, mul(drawers, books, dies, clusters, modules, cores, threads));
    }
    if (threads === 0) {
      threads = div(maxcpus, mul(drawers, books, sockets, dies, clusters, modules, cores));
    }
  }

  const totalCpus = mul(drawers, books, sockets, dies, clusters, modules, cores, threads);
  maxcpus = maxcpus > 0 ? maxcpus : totalCpus;
  cpus = cpus > 0 ? cpus : maxcpus;
  const smp: SmpConfig = { cpus, maxcpus, drawers, books, sockets, dies, clusters, modules, cores, threads };

  if (totalCpus !== maxcpus) {
    throw new QapiError(
      "Invalid CPU topology: product of the hierarchy must match maxcpus: " +
        `${cpuHierarchyToString(props, smp)} != maxcpus (${String(maxcpus)})`,
    );
  }
  if (maxcpus < cpus) {
    throw new QapiError(
      "Invalid CPU topology: maxcpus must be equal to or greater than smp: " +
        `${cpuHierarchyToString(props, smp)} == maxcpus (${String(maxcpus)}) < smp_cpus (${String(cpus)})`,
    );
  }
  if (cpus < mc.minCpus) {
    throw new QapiError(`Invalid SMP CPUs ${String(int(cpus))}. The min CPUs supported by machine '${mc.name}' is ${String(mc.minCpus)}`);
  }
  if (maxcpus > mc.maxCpus) {
    throw new QapiError(`Invalid SMP CPUs ${String(int(maxcpus))}. The max CPUs supported by machine '${mc.name}' is ${String(mc.maxCpus)}`);
  }
  return smp;
}
