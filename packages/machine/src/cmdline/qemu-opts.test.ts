/**
 * util/qemu-option.c as QEMU 11.1 behaves: implied first values, ",,",
 * flags and their deprecation warning, ids, merge_lists, help, and the
 * typed values' messages (checked by hand against Debian's QEMU 7.2 where
 * noted).
 */

import { describe, expect, test } from "vitest";
import { QemuOptsList, qemuOptsParseNoisily, type QemuOptsListDef } from "./qemu-opts.js";
import { QapiError, QemuReporter } from "./qemu-error.js";
import { MEMORY_OPTS } from "./memory-config.js";
import { DEVICE_OPTS } from "./device-options.js";

const NAME: QemuOptsListDef = {
  name: "name", impliedOptName: "guest", mergeLists: true,
  desc: [{ name: "guest", type: "str" }, { name: "process", type: "str" }, { name: "debug-threads", type: "bool" }],
};

function parse(def: QemuOptsListDef, ...params: string[]): { list: QemuOptsList; reporter: QemuReporter } {
  const list = new QemuOptsList(def);
  const reporter = new QemuReporter();
  for (const p of params) qemuOptsParseNoisily(list, p, true, reporter);
  return { list, reporter };
}

function error(def: QemuOptsListDef, ...params: string[]): [string, string | undefined] {
  try {
    parse(def, ...params);
  } catch (e) {
    if (e instanceof QapiError) return [e.message, e.hint];
    throw e;
  }
  return ["(no error)", undefined];
}

describe("opts_do_parse", () => {
  test("an implied first value takes ',,' escapes; later items are name=value", () => {
    const { list } = parse(NAME, "a,,b,process=p,,q");
    expect(list.groups[0]!.get("guest")).toBe("a,b");
    expect(list.groups[0]!.get("process")).toBe("p,q");
  });

  test("merge_lists: every occurrence lands in one group, the last value wins", () => {
    const { list } = parse(MEMORY_OPTS, "1G", "size=2G,slots=2");
    expect(list.groups).toHaveLength(1);
    expect(list.groups[0]!.get("size")).toBe("2G");
    expect(list.groups[0]!.value("size")).toBe(2n << 30n);
    expect(list.groups[0]!.value("slots")).toBe(2n);
  });

  test("a bare item is a flag, with QEMU's deprecation warning (Debian 7.2 prints the same)", () => {
    const { list, reporter } = parse(NAME, "x,debug-threads,noprocess");
    expect(list.groups[0]!.value("debug-threads")).toBe(true);
    expect(list.groups[0]!.get("process")).toBe("off");
    expect(reporter.diagnostics.map((d) => [d.kind, d.text, d.hint])).toEqual([
      ["warning", "short-form boolean option 'debug-threads' deprecated", "Please use debug-threads=on instead\n"],
      ["warning", "short-form boolean option 'noprocess' deprecated", "Please use process=off instead\n"],
    ]);
  });

  test("ids: well-formed and unique, and refused by a merged list", () => {
    const { list } = parse(DEVICE_OPTS, "virtio-net-pci,id=n0", "virtio-net-pci,id=n1");
    expect(list.groups.map((g) => g.id)).toEqual(["n0", "n1"]);
    expect(error(DEVICE_OPTS, "a,id=1x")).toEqual([
      "Parameter 'id' expects an identifier",
      "Identifiers consist of letters, digits, '-', '.', '_', starting with a letter.\n",
    ]);
    expect(error(DEVICE_OPTS, "a,id=x", "b,id=x")[0]).toBe("Duplicate ID 'x' for device");
    expect(error(NAME, "a,id=x")[0]).toBe("Invalid parameter 'id'");
  });

  test("typed values (parse_option_size, parse_option_number, qapi_bool_parse)", () => {
    expect(error(MEMORY_OPTS, "1X")).toEqual([
      "Parameter 'size' expects a non-negative number below 2^64",
      "Optional suffix k, M, G, T, P or E means kilo-, mega-, giga-, tera-, peta-\nand exabytes, respectively.\n",
    ]);
    expect(error(MEMORY_OPTS, "20E")[0]).toBe("Value '20E' is out of range for parameter 'size'");
    expect(error(MEMORY_OPTS, "1G,slots=x")[0]).toBe("Parameter 'slots' expects a number");
    expect(error(MEMORY_OPTS, "1G,slots=18446744073709551616")[0]).toBe("Value '18446744073709551616' is too large for parameter 'slots'");
    expect(error(NAME, "a,debug-threads=maybe")[0]).toBe("Parameter 'debug-threads' expects 'on' or 'off'");
    expect(error(MEMORY_OPTS, "foo=1")[0]).toBe("Invalid parameter 'foo'");
  });

  test("help: the list's options, sorted; but only a flag where any option is accepted", () => {
    const list = new QemuOptsList(MEMORY_OPTS);
    expect(qemuOptsParseNoisily(list, "1G,help", true, new QemuReporter())).toBe("help");
    expect(list.helpText()).toBe("memory options:\n  maxmem=<size>\n  size=<size>\n  slots=<num>\n");
    // "-m help" is size=help (the implied value), a bad size, as Debian's 7.2 says too.
    expect(() => qemuOptsParseNoisily(list, "help", true, new QemuReporter())).toThrow("Parameter 'size' expects a non-negative number below 2^64");
    const dev = new QemuOptsList(DEVICE_OPTS);
    const opts = qemuOptsParseNoisily(dev, "virtio-net-pci,help", true, new QemuReporter());
    expect(opts !== "help" && opts.hasHelpOpt()).toBe(true);
  });
});
