/**
 * util/keyval.c and qobject/qdict.c as QEMU 11.1 behaves (the cases of
 * tests/unit/test-keyval.c that the command line reaches), and the two
 * iteration orders QEMU's messages depend on.
 */

import { describe, expect, test } from "vitest";
import { keyvalMerge, keyvalParse } from "./keyval.js";
import { GHashKeyOrder, QDict, QList, type QObject } from "./qdict.js";
import { QapiError } from "./qemu-error.js";

/** A QDict as a plain object (lists as arrays). */
function plain(v: QObject): unknown {
  if (typeof v === "string") return v;
  if (v instanceof QList) return v.items.map(plain);
  return Object.fromEntries(v.entries().map(([k, x]) => [k, plain(x)]));
}

function parse(params: string, implied?: string): unknown {
  return plain(keyvalParse(params, implied, true).dict);
}

function err(params: string, implied?: string): string {
  try {
    keyvalParse(params, implied, false);
  } catch (e) {
    if (e instanceof QapiError) return e.message;
    throw e;
  }
  return "(no error)";
}

describe("keyval_parse (test_keyval_parse)", () => {
  test("keys, values, ',,' escapes and a trailing comma", () => {
    expect(parse("")).toEqual({});
    expect(parse("a=1,b=x,,y,")).toEqual({ a: "1", b: "x,y" });
    expect(parse("a=1,a=2")).toEqual({ a: "2" });
    expect(parse("a.b.c=1,a.b.d=2")).toEqual({ a: { b: { c: "1", d: "2" } } });
    expect(parse("a=")).toEqual({ a: "" });
  });

  test("an implied key: a bare first value, up to ',' or '=', without ',,' escapes", () => {
    expect(parse("virt,its=off", "type")).toEqual({ type: "virt", its: "off" });
    expect(parse("4", "cpus")).toEqual({ cpus: "4" });
    expect(parse("type=virt", "type")).toEqual({ type: "virt" });
    expect(parse("virt=x", "type")).toEqual({ virt: "x" });
    expect(err("virt,,foo", "type")).toBe("Invalid parameter ''");
  });

  test("lists from numeric fragments (keyval_listify)", () => {
    expect(parse("a.0=x,a.1=y")).toEqual({ a: ["x", "y"] });
    expect(err("a.0=1,a.2=2")).toBe("Parameter 'a.1' missing");
    expect(err("a.0=1,a.b=2")).toBe("Parameters 'a.*' used inconsistently");
  });

  test("errors", () => {
    expect(err("a.b=1,a=2")).toBe("Parameters 'a.*' used inconsistently");
    expect(err("a=1,a.b=2")).toBe("Parameters 'a.*' used inconsistently");
    expect(err("a..b=1")).toBe("Invalid parameter 'a..b'");
    expect(err("1a=1")).toBe("Invalid parameter '1a'");
    expect(err("a,b=1")).toBe("Expected '=' after parameter 'a'");
    expect(err(`${"k".repeat(128)}=1`)).toBe(`Parameter '${"k".repeat(128)}' is too long`);
    expect(err(`a.${"k".repeat(128)}=1`)).toBe(`Parameter fragment '${"k".repeat(128)}' is too long`);
  });

  test("help: a bare 'help' or '?' anywhere; refused where help is not available", () => {
    expect(keyvalParse("virt,help", "type", true).help).toBe(true);
    expect(keyvalParse("?", "type", true).help).toBe(true);
    expect(keyvalParse("help=1", "type", true).help).toBe(false);
    expect(keyvalParse("helpme", "type", true).help).toBe(false);
    expect(err("none,help", "type")).toBe("Help is not available for this option");
  });
});

describe("keyval_merge", () => {
  test("dictionaries merge recursively, strings are replaced", () => {
    const dest = keyvalParse("smp.cpus=2,kernel=a", undefined, false).dict;
    keyvalMerge(dest, keyvalParse("smp.sockets=2,kernel=b", undefined, false).dict);
    expect(plain(dest)).toEqual({ smp: { cpus: "2", sockets: "2" }, kernel: "b" });
  });

  test("a string and a dictionary under one key conflict", () => {
    const dest = keyvalParse("memory=1G", undefined, false).dict;
    expect(() => {
      keyvalMerge(dest, keyvalParse("memory.size=2G", undefined, false).dict);
    }).toThrow("Parameter 'memory' used inconsistently");
  });
});

describe("QDict order (qdict_first/qdict_next over tdb_hash buckets)", () => {
  test("is not insertion order, and keeps a replaced key in place", () => {
    const d = new QDict();
    for (const k of ["cpus", "foo", "bar"]) d.put(k, "1");
    expect(d.keys()).toEqual(["cpus", "bar", "foo"]);
    d.put("foo", "2");
    expect(d.keys()).toEqual(["cpus", "bar", "foo"]);
  });
});

describe("GHashTable order (glib 2.74), as qobject_input_check_struct reports unexpected keys", () => {
  /** The unexpected key QEMU reports for -smp KEYS: the first left after "cpus" is visited. */
  function firstUnexpected(keys: readonly string[]): string | undefined {
    const d = new QDict();
    for (const k of keys) d.put(k, "1");
    const h = new GHashKeyOrder();
    for (const k of d.keys()) h.insert(k);
    h.remove("cpus");
    return h.keys()[0];
  }

  // Checked against Debian's QEMU 7.2 (same glib algorithm): qemu-system-aarch64 -M virt -smp 2,...
  test.each<[string, string]>([
    ["foo,bar", "bar"],
    ["zz,aa", "aa"],
    ["a,b,c", "b"],
    ["x1,x2,x3", "x1"],
    ["q,w,e,r", "e"],
    ["aa,bb,cc,dd,ee", "aa"],
  ])("-smp 2,%s reports %s", (extra, expected) => {
    expect(firstUnexpected(["cpus", ...extra.split(",")])).toBe(expected);
  });

  test("resizes when it fills up, and stays consistent after removals", () => {
    const h = new GHashKeyOrder();
    const keys = Array.from({ length: 40 }, (_, i) => `key${String(i)}`);
    for (const k of keys) h.insert(k);
    expect(new Set(h.keys())).toEqual(new Set(keys));
    for (const k of keys.slice(0, 35)) h.remove(k);
    expect(new Set(h.keys())).toEqual(new Set(keys.slice(35)));
  });
});
