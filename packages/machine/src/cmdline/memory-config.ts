/**
 * -m as QEMU 11.1 resolves it, in three steps:
 *
 * 1. the option loop parses each -m into the "memory" QemuOpts group
 *    (system/vl.c qemu_mem_opts: implied "size", merge_lists; size and
 *    maxmem are sizes, slots a number), so "-m 512" is first checked as 512
 *    bytes and "-m 1.5" is refused by qemu_strtosz;
 * 2. parse_memory_options() turns the group into the machine's "memory"
 *    dictionary: a size of 0 is dropped (the default applies), a size
 *    ending in a digit gets "M" appended (the legacy MiB default), maxmem
 *    becomes max-size;
 * 3. the machine's "memory" property (hw/core/machine.c machine_set_mem)
 *    visits that dictionary: the size defaults to mc->default_ram_size and
 *    is rounded up to 8 KiB; maxmem and slots are checked.
 *
 * irqlab models no memory hotplug: a maxmem above the size, or slots, are
 * refused after QEMU's own checks.
 */

import { QapiError } from "./qemu-error.js";
import { QDict } from "./qdict.js";
import type { KeyvalVisitor } from "./keyval-visitor.js";
import type { QemuOptsListDef, QemuOptsList } from "./qemu-opts.js";

/** system/vl.c qemu_mem_opts. */
export const MEMORY_OPTS: QemuOptsListDef = {
  name: "memory",
  impliedOptName: "size",
  mergeLists: true,
  desc: [
    { name: "size", type: "size" },
    { name: "slots", type: "num" },
    { name: "maxmem", type: "size" },
  ],
};

/** The machine's memory after machine_set_mem: RAM, maximum RAM and hotplug slots, in bytes. */
export interface MemoryState {
  ramSize: bigint;
  maxramSize: bigint;
  ramSlots: bigint;
}

/**
 * vl.c parse_memory_options(): the "memory" dictionary merged into the
 * machine options, and the location of the -m it came from (the group's
 * saved location), if any.
 */
export function memoryOptionsDict(list: QemuOptsList): { dict: QDict; location: string | undefined } {
  const opts = list.groups[0];
  const prop = new QDict();
  const size = opts?.value("size");
  const sizeStr = opts?.get("size");
  if (typeof size === "bigint" && size !== 0n && sizeStr !== undefined) {
    // Fix up the legacy suffix-less format: "-m 512" means 512 MiB.
    prop.put("size", /[0-9]$/.test(sizeStr) ? `${sizeStr}M` : sizeStr);
  }
  const maxmem = opts?.get("maxmem");
  if (maxmem !== undefined) prop.put("max-size", maxmem);
  const slots = opts?.get("slots");
  if (slots !== undefined) prop.put("slots", slots);
  const dict = new QDict();
  dict.put("memory", prop);
  return { dict, location: opts?.location };
}

const hex = (v: bigint): string => `0x${v.toString(16)}`;

/** hw/core/machine.c machine_set_mem(): visits "memory" and checks it. */
export function setMachineMemory(v: KeyvalVisitor, name: string, defaultRamSize: bigint, out: MemoryState): void {
  v.startStruct(name);
  let size = v.optional("size") ? v.size("size") : undefined;
  const maxSize = v.optional("max-size") ? v.size("max-size") : undefined;
  const slots = v.optional("slots") ? v.uint64("slots") : undefined;
  v.checkStruct();
  v.endStruct();

  size ??= defaultRamSize;
  // QEMU_ALIGN_UP(size, 8192) in uint64_t arithmetic.
  size = (BigInt.asUintN(64, size + 8191n) / 8192n) * 8192n;
  if (maxSize !== undefined) {
    if (maxSize < size) {
      throw new QapiError(
        `invalid value of maxmem: maximum memory size (${hex(maxSize)}) must be at least the initial memory size (${hex(size)})`,
      );
    }
    if (slots !== undefined && slots !== 0n && maxSize === size) {
      throw new QapiError(
        "invalid value of maxmem: memory slots were specified but maximum memory size " +
          `(${hex(maxSize)}) is equal to the initial memory size (${hex(size)})`,
      );
    }
    out.maxramSize = maxSize;
  } else {
    if (slots !== undefined) throw new QapiError("slots specified but no max-size");
    out.maxramSize = size;
  }
  out.ramSize = size;
  out.ramSlots = slots ?? 0n;
}

/** irqlab's limits on the memory QEMU accepted: no hotplug, RAM a safe JS integer. */
export function checkMemoryModelled(m: MemoryState): number {
  if (m.ramSlots !== 0n || m.maxramSize !== m.ramSize) {
    throw new QapiError(
      "irqlab does not model memory hotplug: -m slots= and maxmem= above the RAM size are not supported",
      "Give only the RAM size, e.g. -m 2G.\n",
    );
  }
  if (m.ramSize > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new QapiError(`irqlab models RAM sizes up to 2^53 - 1 bytes, not ${m.ramSize.toString()}`);
  }
  return Number(m.ramSize);
}
