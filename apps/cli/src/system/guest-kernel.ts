/**
 * `-kernel`: what the vCPUs run. QEMU loads a kernel image file during board
 * init (hw/arm/boot.c arm_setup_direct_kernel_boot, hw/riscv/boot.c
 * riscv_load_kernel) and exits with "could not load kernel 'FILE'" when it
 * cannot. irqlab's guests are programs, not images, so `-kernel` names one
 * of two things:
 *
 * - `irqlab:NAME`: an image of the guest registry (@irqlab/guest's
 *   `guestImages`: hello, smp-hello, panic-test), for the architectures its
 *   entry lists;
 * - a path (relative to the working directory, as QEMU's): an ES module whose
 *   default export, or else its export named `image`, is a guest image — an
 *   object with a `main` generator function and optionally `vector` and
 *   `secondary` — or a function of no arguments that returns one (or a
 *   promise of one).
 *
 * Every failure is QEMU's "could not load kernel 'SPEC'"; irqlab adds a hint
 * line saying why, except for a file that does not exist, where QEMU's line
 * says it all.
 */

import { existsSync, statSync } from "node:fs";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import type { GuestImage } from "@irqlab/kvm";
import type { MachineArch } from "@irqlab/machine";

/** One entry of the guest registry (@irqlab/guest's `guestImages`). */
export interface GuestImageEntry {
  /** One line saying what the image does. */
  readonly description: string;
  /** The architectures it runs on. */
  readonly arch: readonly MachineArch[];
  /** A fresh image (its programs keep no state between machines). */
  create(): GuestImage;
}

/** The guest registry, by the NAME of `-kernel irqlab:NAME`. */
export type GuestImageRegistry = Readonly<Record<string, GuestImageEntry>>;

/** `-kernel irqlab:NAME` names a registry image. */
export const REGISTRY_PREFIX = "irqlab:";

/** Why `-kernel` could not be loaded: QEMU's line and irqlab's hint (lines ending in "\n"). */
export class KernelLoadError extends Error {
  readonly hint: string | undefined;

  constructor(spec: string, hint?: string) {
    super(`could not load kernel '${spec}'`);
    this.name = "KernelLoadError";
    this.hint = hint;
  }
}

const MODULE_SHAPE_HINT =
  "irqlab: a -kernel module exports a guest image as its default export or as 'image': an object\n" +
  "{ main, vector?, secondary? } of generator functions, or a function of no arguments returning one.\n";

/** Loads the guest image `-kernel SPEC` names, for `arch`. */
export async function loadKernel(spec: string, arch: MachineArch, registry: GuestImageRegistry, cwd: string): Promise<GuestImage> {
  if (spec.startsWith(REGISTRY_PREFIX)) return fromRegistry(spec, spec.slice(REGISTRY_PREFIX.length), arch, registry);
  return fromModule(spec, resolve(cwd, spec));
}

/** The registry's images as hint lines: name, architectures, description. */
export function registryListing(registry: GuestImageRegistry): string {
  const names = Object.keys(registry).sort();
  const width = Math.max(0, ...names.map((n) => n.length));
  return names.map((n) => `  ${REGISTRY_PREFIX}${n.padEnd(width)}  ${registry[n]!.description} (${registry[n]!.arch.join(", ")})\n`).join("");
}

function fromRegistry(spec: string, name: string, arch: MachineArch, registry: GuestImageRegistry): GuestImage {
  const entry = Object.hasOwn(registry, name) ? registry[name] : undefined;
  if (entry === undefined) {
    const what = name === "" ? "irqlab: -kernel irqlab:NAME needs the name of a guest image." : `irqlab has no guest image '${name}'.`;
    return fail(spec, `${what} The images are:\n${registryListing(registry)}`);
  }
  if (!entry.arch.includes(arch)) {
    const other = entry.arch.map((a) => `irqlab-system-${a}`).join(" or ");
    return fail(spec, `irqlab: the guest image '${name}' runs on ${entry.arch.join(", ")}, not ${arch}; use ${other}.\n`);
  }
  const image = entry.create();
  if (!isGuestImage(image)) return fail(spec, `irqlab: the registry entry '${name}' did not create a guest image.\n`);
  return image;
}

async function fromModule(spec: string, file: string): Promise<GuestImage> {
  if (!existsSync(file) || statSync(file).isDirectory()) return fail(spec);
  let mod: Record<string, unknown>;
  try {
    mod = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  } catch (e) {
    return fail(spec, `irqlab: importing it as an ES module failed: ${firstLine(e)}\n`);
  }
  let value = mod.default !== undefined ? mod.default : mod.image;
  if (typeof value === "function") {
    const factory = value as () => unknown;
    if (factory.length !== 0) return fail(spec, MODULE_SHAPE_HINT);
    try {
      value = await factory();
    } catch (e) {
      return fail(spec, `irqlab: its image function threw: ${firstLine(e)}\n`);
    }
  }
  if (!isGuestImage(value)) return fail(spec, MODULE_SHAPE_HINT);
  return value;
}

/** An object with a `main` function and, if present, `vector` and `secondary` functions. */
export function isGuestImage(v: unknown): v is GuestImage {
  if (typeof v !== "object" || v === null) return false;
  const o = v as Record<string, unknown>;
  const optionalFn = (k: string) => o[k] === undefined || typeof o[k] === "function";
  return typeof o.main === "function" && optionalFn("vector") && optionalFn("secondary");
}

function fail(spec: string, hint?: string): never {
  throw new KernelLoadError(spec, hint);
}

function firstLine(e: unknown): string {
  const text = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
  return text.split("\n")[0]!;
}
