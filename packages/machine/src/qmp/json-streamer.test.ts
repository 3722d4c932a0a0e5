/**
 * QEMU's JSON writer order and escapes (qobject/qdict.c, json-writer.c) and
 * its lexer/streamer/parser behaviour and error texts (json-lexer.c,
 * json-streamer.c, json-parser.c).
 */
import { describe, expect, test } from "vitest";
import { JsonStreamer, type JsonMessage } from "./json-streamer.js";
import { QDict, formatDouble, qdictOrder, quoteString, toQmpJson } from "./qobject.js";

function stream(...chunks: string[]): JsonMessage[] {
  const out: JsonMessage[] = [];
  const s = new JsonStreamer((m) => out.push(m));
  for (const c of chunks) s.feed(c);
  return out;
}

const errors = (ms: JsonMessage[]): (string | undefined)[] => ms.map((m) => m.error);

describe("JSON writer", () => {
  test("QDict order is QEMU's bucket order: the greeting's famous micro/minor/major", () => {
    expect(toQmpJson({ QMP: { version: { qemu: { major: 11, minor: 1, micro: 0 }, package: "" }, capabilities: ["oob"] } })).toBe(
      '{"QMP": {"version": {"qemu": {"micro": 0, "minor": 1, "major": 11}, "package": ""}, "capabilities": ["oob"]}}',
    );
    expect(qdictOrder(["return", "id"])).toEqual(["return", "id"]);
    expect(qdictOrder(["error", "id"])).toEqual(["id", "error"]);
    expect(qdictOrder(["event", "data", "timestamp"])).toEqual(["timestamp", "event", "data"]);
    // Same bucket: the later insertion comes first.
    expect(qdictOrder(["minor", "micro"])).toEqual(["micro", "minor"]);
  });

  test("strings escape as quoted_str, doubles print as %.17g, undefined members are absent", () => {
    expect(quoteString('a"\\\b\f\n\r\t\u0001é€😀/')).toBe('"a\\"\\\\\\b\\f\\n\\r\\t\\u0001\\u00E9\\u20AC\\uD83D\\uDE00/"');
    expect(formatDouble(0.1)).toBe("0.10000000000000001");
    expect(formatDouble(1.5)).toBe("1.5");
    expect(formatDouble(1e20)).toBe("1e+20");
    expect(formatDouble(1.25e-7)).toBe("1.2499999999999999e-07"); // printf("%.17g", 1.25e-7)
    expect(toQmpJson({ a: 1, b: undefined, c: 2.5, d: [true, null], e: 12n })).toBe('{"d": [true, null], "e": 12, "a": 1, "c": 2.5}');
  });
});

describe("JSON streamer and parser", () => {
  test("a message split anywhere, and several in one chunk", () => {
    const whole = '{"execute": "query-status", "id": [1, {"x": -2.5e3}]}';
    for (let cut = 1; cut < whole.length; cut++) {
      const ms = stream(whole.slice(0, cut), whole.slice(cut));
      expect(ms).toHaveLength(1);
      expect(ms[0]!.value).toBeInstanceOf(QDict);
    }
    // A number or keyword ends only when the next character is seen (the lexer's look-ahead).
    const ms = stream('{"a":1}{"b":2}\r\n[3] "s" 4 true');
    expect(ms.map((m) => (m.value instanceof QDict ? m.value.keys() : m.value))).toEqual([["a"], ["b"], [3n], "s", 4n]);
  });

  test("integers are bigint (int64, then uint64, then double), floats numbers", () => {
    const ms = stream("[1, -9223372036854775808, 18446744073709551615, 18446744073709551616, 1.0, 2e2]");
    expect(ms[0]!.value).toEqual([1n, -9223372036854775808n, 18446744073709551615n, 18446744073709551616, 1, 200]);
  });

  test("single quotes, escapes and surrogate pairs are accepted", () => {
    const ms = stream(`['a"b', "\\u00e9\\ud83d\\ude00\\'\\/\\n"]`);
    expect(ms[0]!.value).toEqual(['a"b', "é😀'/\n"]);
  });

  test("QEMU's parse errors", () => {
    expect(errors(stream("{'a': tru}"))).toEqual(["JSON parse error, invalid keyword 'tru'"]);
    expect(errors(stream('{"a" 1}'))).toEqual(["JSON parse error, missing : in object pair"]);
    expect(errors(stream('{"a": 1, "a": 2}'))).toEqual(["JSON parse error, duplicate key"]);
    expect(errors(stream('{"a": 1 "b": 2}'))).toEqual(["JSON parse error, expected separator in dict"]);
    expect(errors(stream("[1 2]"))).toEqual(["JSON parse error, expected separator in list"]);
    expect(errors(stream("{1: 2}"))).toEqual(["JSON parse error, key is not a string in object"]);
    expect(errors(stream('{"a": }'))).toEqual(["JSON parse error, expecting value"]);
    expect(errors(stream("}"))).toEqual(["JSON parse error, expecting value"]);
    expect(errors(stream('"\\x"'))).toEqual(["JSON parse error, stray '\"\\x'"]);
    expect(errors(stream('"\\u12zq"'))).toEqual(["JSON parse error, \\u12zq is not a valid Unicode character"]);
    expect(errors(stream('"\\udc00"'))).toEqual(["JSON parse error, \\udc00 is not a valid Unicode character"]);
  });

  test("a lexical error drops the message; the lexer recovers at the next structural or control character", () => {
    // stray 'X', skip to '}', which alone is another error; the next line parses.
    const ms = stream('{"a": X, "b": 1}\n{"ok": true}');
    expect(errors(ms)).toEqual(["JSON parse error, stray 'X'", "JSON parse error, expecting value", undefined]);
    expect((ms[2]!.value as QDict).get("ok")).toBe(true);
    expect(errors(stream("-x", "\n1\n"))).toEqual(["JSON parse error, stray '-x'", undefined]);
    expect(errors(stream('"a\tb"'))).toEqual(["JSON parse error, stray '\"a\t'"]);
  });

  test("nesting beyond 1024 is refused once; the streamer starts afresh", () => {
    const ms = stream("[".repeat(1025));
    expect(errors(ms)).toEqual(["JSON nesting depth limit exceeded"]);
    expect(stream("[".repeat(1024) + "]".repeat(1024))).toHaveLength(1);
  });

  test("reset drops a partial message", () => {
    const out: JsonMessage[] = [];
    const s = new JsonStreamer((m) => out.push(m));
    s.feed('{"execute": "st');
    s.reset();
    s.feed('{"x": 1}');
    expect(out).toHaveLength(1);
    expect((out[0]!.value as QDict).keys()).toEqual(["x"]);
  });
});
