/**
 * QEMU's number parsers against QEMU's own unit tests
 * (tests/unit/test-cutils.c of QEMU 11.1.0, the cases that pass no end
 * pointer, as every command-line caller does).
 */

import { describe, expect, test } from "vitest";
import {
  EINVAL, ERANGE, parseQapiName, parseUintFull, qapiBoolParse, qemuStrtoi64, qemuStrtosz, qemuStrtou64, idWellformed,
} from "./cutils.js";

const KiB = 1024n;
const MiB = KiB * KiB;
const GiB = MiB * KiB;
const TiB = GiB * KiB;
const PiB = TiB * KiB;
const EiB = PiB * KiB;

describe("qemu_strtosz (test_qemu_strtosz_*)", () => {
  const z350 = "0".repeat(350);
  test.each<[string, number, bigint]>([
    // test_qemu_strtosz_simple
    ["0", 0, 0n],
    ["08", 0, 8n],
    [" +12345", 0, 12345n],
    ["9007199254740993", 0, 0x20000000000001n],
    ["18446744073709551615", 0, 0xffffffffffffffffn],
    // test_qemu_strtosz_hex
    ["0x0", 0, 0n],
    ["0xab", 0, 171n],
    [" +0xae", 0, 174n],
    // test_qemu_strtosz_units
    ["1", 0, 1n],
    ["1B", 0, 1n],
    ["1K", 0, KiB],
    ["1k", 0, KiB],
    ["1M", 0, MiB],
    ["1G", 0, GiB],
    ["1T", 0, TiB],
    ["1P", 0, PiB],
    ["1E", 0, EiB],
    // test_qemu_strtosz_float
    ["0.5E", 0, EiB / 2n],
    ["1.0B", 0, 1n],
    ["1.k", 0, 1024n],
    [" .5k", 0, 512n],
    ["12.345M", 0, BigInt(Math.trunc(12.345 * 1048576 + 0.5))],
    ["1.9999k", 0, 2048n],
    ["1.9999999999999999999999999999999999999999999999999999k", 0, 2048n],
    [`1.${z350}1k`, 0, 1024n],
    // test_qemu_strtosz_invalid
    ["", -EINVAL, 0n],
    [" \t ", -EINVAL, 0n],
    [".", -EINVAL, 0n],
    [" .", -EINVAL, 0n],
    [" .k", -EINVAL, 0n],
    ["inf", -EINVAL, 0n],
    ["NaN", -EINVAL, 0n],
    ["k", -EINVAL, 0n],
    [" M", -EINVAL, 0n],
    ["1.1B", -EINVAL, 0n],
    ["1.1", -EINVAL, 0n],
    ["1.00001B", -EINVAL, 0n],
    ["1.00000000000000000001B", -EINVAL, 0n],
    [`1.${z350}1B`, -EINVAL, 0n],
    ["0x1.8k", -EINVAL, 0n],
    ["0x1.k", -EINVAL, 0n],
    ["0x18M", -EINVAL, 0n],
    ["0x1p1", -EINVAL, 0n],
    ["1.1.k", -EINVAL, 0n],
    ["1.1.", -EINVAL, 0n],
    // test_qemu_strtosz_trailing, without an end pointer
    ["1k ", -EINVAL, 0n],
    ["123xxx", -EINVAL, 0n],
    ["1kiB", -EINVAL, 0n],
    ["0x", -EINVAL, 0n],
    ["00x1", -EINVAL, 0n],
    ["0b1000", -EINVAL, 0n],
    ["0.NaN", -EINVAL, 0n],
    ["123-45", -EINVAL, 0n],
    [" 123 - 45", -EINVAL, 0n],
    ["1.5e1k", -EINVAL, 0n],
    ["1.5E+0k", -EINVAL, 0n],
    ["1.5E999", -EINVAL, 0n],
    // test_qemu_strtosz_erange
    [" -0", -ERANGE, 0n],
    ["-1", -ERANGE, 0n],
    ["-2M", -EINVAL, 0n],
    [" -.0", -ERANGE, 0n],
    ["-.1k", -EINVAL, 0n],
    [`-.${z350}1M`, -EINVAL, 0n],
    ["18446744073709551616", -ERANGE, 0n],
    ["20E", -ERANGE, 0n],
    ["15.9999999999999999999999999999999999999999999999999999E", -ERANGE, 0n],
    ["100000Pjunk", -EINVAL, 0n],
  ])("%j", (s, ret, value) => {
    const r = qemuStrtosz(s);
    expect(r.ret).toBe(ret);
    expect(r.value).toBe(value);
  });
});

describe("qemu_strtoi64 / qemu_strtou64 / parse_uint_full, base 0", () => {
  test.each<[string, number, bigint]>([
    ["42", 0, 42n],
    ["0x10", 0, 16n],
    ["010", 0, 8n],
    [" -7", 0, -7n],
    ["9223372036854775807", 0, 9223372036854775807n],
    ["9223372036854775808", -ERANGE, 9223372036854775807n],
    ["", -EINVAL, 0n],
    ["4x", -EINVAL, 4n],
    ["0x", -EINVAL, 0n],
  ])("strtoi64 %j", (s, ret, value) => {
    const r = qemuStrtoi64(s, 0);
    expect([r.ret, r.value]).toEqual([ret, value]);
  });

  test("strtou64 wraps a negative number, as strtoull does", () => {
    expect(qemuStrtou64("-1", 0)).toMatchObject({ ret: 0, value: 0xffffffffffffffffn });
    expect(qemuStrtou64("18446744073709551616", 0).ret).toBe(-ERANGE);
  });

  test("parse_uint_full refuses a negative number", () => {
    expect(parseUintFull("-1", 0).ret).toBe(-ERANGE);
    expect(parseUintFull("0x10", 0)).toMatchObject({ ret: 0, value: 16n });
    expect(parseUintFull("12a", 0).ret).toBe(-EINVAL);
  });
});

describe("qapi-util.c", () => {
  test("qapi_bool_parse takes on/yes/true/y and off/no/false/n", () => {
    for (const s of ["on", "yes", "true", "y"]) expect(qapiBoolParse(s)).toBe(true);
    for (const s of ["off", "no", "false", "n"]) expect(qapiBoolParse(s)).toBe(false);
    for (const s of ["On", "1", "", "enabled"]) expect(qapiBoolParse(s)).toBeUndefined();
  });

  test("parse_qapi_name", () => {
    expect(parseQapiName("gic-version=3", false)).toBe(11);
    expect(parseQapiName("a_b.c", false)).toBe(3);
    expect(parseQapiName("9x", false)).toBe(-1);
    expect(parseQapiName("__com.redhat_x", false)).toBe(14);
    expect(parseQapiName("", false)).toBe(-1);
    expect(parseQapiName("ab=", true)).toBe(-1);
  });

  test("id_wellformed", () => {
    expect(idWellformed("net0")).toBe(true);
    expect(idWellformed("a-b.c_d")).toBe(true);
    expect(idWellformed("1x")).toBe(false);
    expect(idWellformed("a,b")).toBe(false);
  });
});
