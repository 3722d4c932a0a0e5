/**
 * -smp resolution (hw/core/machine-smp.c machine_parse_smp_config) against
 * QEMU 11.1.0's own tables (tests/unit/test-smp-parse.c data_generic_valid,
 * "prefer_cores" column, and its invalid cases) and the examples of the
 * -smp documentation (qemu-options.hx), through the command line of each
 * virt machine.
 */

import { describe, expect, test } from "vitest";
import { parseSystemCommandLine } from "./system-command-line.js";
import { QemuOptionError } from "./qemu-error.js";
import { machineParseSmpConfig, type SmpInput } from "./smp-config.js";
import type { SmpConfig } from "../config/machine-config.js";

type Topo = [cpus: number, sockets: number, cores: number, threads: number, maxcpus: number];

function smpConfig(arch: "aarch64" | "riscv64", smp: string): SmpConfig {
  const r = parseSystemCommandLine(arch, ["-M", "virt", "-smp", smp, "--host", "harts=1024"]);
  if (r.kind !== "run") throw new Error(r.kind);
  return r.config.smp;
}

function smpOf(arch: "aarch64" | "riscv64", smp: string): Topo {
  const s = smpConfig(arch, smp);
  return [s.cpus, s.sockets, s.cores, s.threads, s.maxcpus];
}

function smpError(arch: "aarch64" | "riscv64", smp: string): string {
  try {
    parseSystemCommandLine(arch, ["-M", "virt", "-smp", smp, "--host", "harts=1024"]);
  } catch (e) {
    if (e instanceof QemuOptionError) return e.message;
    throw e;
  }
  return "(no error)";
}

describe("test-smp-parse.c data_generic_valid, prefer cores over sockets (machine types since 6.2)", () => {
  test.each<[string, Topo]>([
    ["8", [8, 1, 8, 1, 8]],
    ["sockets=2", [2, 2, 1, 1, 2]],
    ["cores=4", [4, 1, 4, 1, 4]],
    ["threads=2", [2, 1, 1, 2, 2]],
    ["maxcpus=16", [16, 1, 16, 1, 16]],
    ["8,sockets=2", [8, 2, 4, 1, 8]],
    ["8,cores=4", [8, 2, 4, 1, 8]],
    ["8,threads=2", [8, 1, 4, 2, 8]],
    ["8,maxcpus=16", [8, 1, 16, 1, 16]],
    ["sockets=2,cores=4", [8, 2, 4, 1, 8]],
    ["sockets=2,threads=2", [4, 2, 1, 2, 4]],
    ["sockets=2,maxcpus=16", [16, 2, 8, 1, 16]],
    ["cores=4,threads=2", [8, 1, 4, 2, 8]],
    ["cores=4,maxcpus=16", [16, 4, 4, 1, 16]],
    ["threads=2,maxcpus=16", [16, 1, 8, 2, 16]],
    ["8,sockets=2,cores=4", [8, 2, 4, 1, 8]],
    ["8,sockets=2,threads=2", [8, 2, 2, 2, 8]],
    ["8,sockets=2,maxcpus=16", [8, 2, 8, 1, 16]],
    ["8,cores=4,threads=2", [8, 1, 4, 2, 8]],
    ["8,cores=4,maxcpus=16", [8, 4, 4, 1, 16]],
    ["8,threads=2,maxcpus=16", [8, 1, 8, 2, 16]],
    ["sockets=2,cores=4,threads=2", [16, 2, 4, 2, 16]],
    ["sockets=2,cores=4,maxcpus=16", [16, 2, 4, 2, 16]],
    ["sockets=2,threads=2,maxcpus=16", [16, 2, 4, 2, 16]],
    ["cores=4,threads=2,maxcpus=16", [16, 2, 4, 2, 16]],
    ["8,sockets=2,cores=4,threads=1", [8, 2, 4, 1, 8]],
    ["8,sockets=2,cores=4,maxcpus=16", [8, 2, 4, 2, 16]],
    ["8,sockets=2,threads=2,maxcpus=16", [8, 2, 4, 2, 16]],
    ["8,cores=4,threads=2,maxcpus=16", [8, 2, 4, 2, 16]],
    ["sockets=2,cores=4,threads=2,maxcpus=16", [16, 2, 4, 2, 16]],
    ["8,sockets=2,cores=4,threads=2,maxcpus=16", [8, 2, 4, 2, 16]],
    // "Unsupported parameters are always allowed to be set to '1'".
    ["8,drawers=1,books=1,sockets=2,dies=1,clusters=1,modules=1,cores=2,threads=2,maxcpus=8", [8, 2, 2, 2, 8]],
    // qemu-options.hx: "-smp 2" is 1 socket of 2 cores since 6.2; the sockets/cores/threads example.
    ["2", [2, 1, 2, 1, 2]],
    ["8,sockets=2,cores=2,threads=2,maxcpus=8", [8, 2, 2, 2, 8]],
  ])("riscv64 -smp %s", (smp, expected) => {
    expect(smpOf("riscv64", smp)).toEqual(expected);
  });
});

describe("arm virt supports clusters (mc->smp_props.clusters_supported)", () => {
  test("the qemu-options.hx example: 2 sockets, 2 clusters per socket, 2 cores per cluster, 2 threads", () => {
    expect(smpConfig("aarch64", "16,sockets=2,clusters=2,cores=2,threads=2,maxcpus=16")).toEqual({
      cpus: 16, maxcpus: 16, drawers: 1, books: 1, sockets: 2, dies: 1, clusters: 2, modules: 1, cores: 2, threads: 2,
    });
  });

  test("omitted members are derived around the clusters", () => {
    expect(smpConfig("aarch64", "16,clusters=2,threads=2")).toMatchObject({ cpus: 16, sockets: 1, clusters: 2, cores: 4, threads: 2, maxcpus: 16 });
  });

  test("riscv virt does not", () => {
    expect(smpError("riscv64", "4,clusters=2")).toBe("clusters > 1 not supported by this machine's CPU topology");
  });
});

describe("invalid topologies (test-smp-parse.c data_generic_invalid; the messages name the machine's levels)", () => {
  test.each<[string, string]>([
    ["2,modules=2", "modules > 1 not supported by this machine's CPU topology"],
    ["2,dies=2", "dies > 1 not supported by this machine's CPU topology"],
    ["2,books=2", "books > 1 not supported by this machine's CPU topology"],
    ["2,drawers=2", "drawers > 1 not supported by this machine's CPU topology"],
    ["8,sockets=2,cores=4,threads=2,maxcpus=8",
      "Invalid CPU topology: product of the hierarchy must match maxcpus: sockets (2) * clusters (1) * cores (4) * threads (2) != maxcpus (8)"],
    ["18,sockets=2,cores=4,threads=2,maxcpus=16",
      "Invalid CPU topology: maxcpus must be equal to or greater than smp: sockets (2) * clusters (1) * cores (4) * threads (2) == maxcpus (16) < smp_cpus (18)"],
    ["0", "Invalid CPU topology: CPU topology parameters must be greater than zero"],
    ["4,threads=0", "Invalid CPU topology: CPU topology parameters must be greater than zero"],
    ["1024", "Invalid SMP CPUs 1024. The max CPUs supported by machine 'virt-11.1' is 512"],
    // Debian 7.2 prints the same for a negative count: the int64 is truncated to unsigned, then printed with %d.
    ["cpus=-1", "Invalid SMP CPUs -1. The max CPUs supported by machine 'virt-11.1' is 512"],
  ])("aarch64 -smp %s", (smp, message) => {
    expect(smpError("aarch64", smp)).toBe(message);
  });

  test("the min CPUs check (a machine with min_cpus 2, as the unit test tweaks it)", () => {
    const mc = { name: "TEST-SMP", minCpus: 2, maxCpus: 4096, smpProps: { dies: false, clusters: false, modules: false, books: false, drawers: false, preferSockets: false } };
    expect(() => machineParseSmpConfig(mc, { cpus: 1n })).toThrow("Invalid SMP CPUs 1. The min CPUs supported by machine 'TEST-SMP' is 2");
  });

  test("machine types before 6.2 preferred sockets (smp_props.prefer_sockets)", () => {
    const mc = { name: "old", minCpus: 1, maxCpus: 4096, smpProps: { dies: false, clusters: false, modules: false, books: false, drawers: false, preferSockets: true } };
    const input: SmpInput = { cpus: 8n, threads: 2n };
    expect(machineParseSmpConfig(mc, input)).toMatchObject({ cpus: 8, sockets: 4, cores: 1, threads: 2, maxcpus: 8 });
  });
});
