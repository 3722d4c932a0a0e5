/**
 * QEMU's JSON parser (qobject/json-parser.c, json_parser_parse): one
 * message's tokens, as the streamer collected them, into a QObject, with
 * QEMU's error texts ("JSON parse error, expecting value", "... missing : in
 * object pair", "... duplicate key", ...). The first error wins
 * (parse_error() ignores later ones). Extensions QEMU accepts are accepted:
 * single-quoted strings and the `\'` escape.
 */

import type { JsonMessage } from "./json-streamer.js";
import { QDict, type QObject } from "./qobject.js";

/** A token of json-lexer.c (JSON_LCURLY ... JSON_STRING), with its text. */
export interface JsonToken {
  readonly type: "{" | "}" | "[" | "]" | ":" | "," | "string" | "integer" | "float" | "keyword";
  readonly text: string;
}

const INT64_MIN = -(2n ** 63n);
const UINT64_MAX = 2n ** 64n - 1n;

class ParseError extends Error {}

class Parser {
  #pos = 0;
  constructor(readonly tokens: readonly JsonToken[]) {}

  peek(): JsonToken | undefined {
    return this.tokens[this.#pos];
  }
  pop(): JsonToken | undefined {
    return this.tokens[this.#pos++];
  }

  fail(msg: string): never {
    throw new ParseError(`JSON parse error, ${msg}`);
  }

  value(): QObject {
    const t = this.peek();
    if (t === undefined) this.fail("premature EOI");
    switch (t.type) {
      case "{":
        return this.object();
      case "[":
        return this.array();
      case "string":
        this.pop();
        return this.string(t.text);
      case "integer":
      case "float":
        this.pop();
        return literalNumber(t);
      case "keyword":
        this.pop();
        if (t.text === "true") return true;
        if (t.text === "false") return false;
        if (t.text === "null") return null;
        return this.fail(`invalid keyword '${t.text}'`);
      case "}":
      case "]":
      case ":":
      case ",":
        return this.fail("expecting value");
    }
  }

  object(): QDict {
    this.pop();
    const dict = new QDict();
    const peek = this.peek();
    if (peek === undefined) this.fail("premature EOI");
    if (peek.type === "}") {
      this.pop();
      return dict;
    }
    this.pair(dict);
    let t = this.pop();
    if (t === undefined) this.fail("premature EOI");
    while (t.type !== "}") {
      if (t.type !== ",") this.fail("expected separator in dict");
      this.pair(dict);
      t = this.pop();
      if (t === undefined) this.fail("premature EOI");
    }
    return dict;
  }

  pair(dict: QDict): void {
    if (this.peek() === undefined) this.fail("premature EOI");
    const key = this.value();
    if (typeof key !== "string") this.fail("key is not a string in object");
    const colon = this.pop();
    if (colon === undefined) this.fail("premature EOI");
    if (colon.type !== ":") this.fail("missing : in object pair");
    const value = this.value();
    if (dict.has(key)) this.fail("duplicate key");
    dict.set(key, value);
  }

  array(): QObject[] {
    this.pop();
    const list: QObject[] = [];
    const peek = this.peek();
    if (peek === undefined) this.fail("premature EOI");
    if (peek.type === "]") {
      this.pop();
      return list;
    }
    list.push(this.value());
    let t = this.pop();
    if (t === undefined) this.fail("premature EOI");
    while (t.type !== "]") {
      if (t.type !== ",") this.fail("expected separator in list");
      list.push(this.value());
      t = this.pop();
      if (t === undefined) this.fail("premature EOI");
    }
    return list;
  }

  /** parse_string(): escapes, \uXXXX with surrogate pairs. */
  string(text: string): string {
    const quote = text[0]!;
    let out = "";
    let i = 1;
    while (text[i] !== quote) {
      const c = text[i]!;
      if (c !== "\\") {
        out += c;
        i++;
        continue;
      }
      const begin = i;
      const e = text[i + 1]!;
      i += 2;
      switch (e) {
        case '"':
        case "'":
        case "\\":
        case "/":
          out += e;
          break;
        case "b":
          out += "\b";
          break;
        case "f":
          out += "\f";
          break;
        case "n":
          out += "\n";
          break;
        case "r":
          out += "\r";
          break;
        case "t":
          out += "\t";
          break;
        case "u": {
          let cp = hex4(text, i);
          i += 4;
          if (cp >= 0xd800 && cp <= 0xdbff && text[i] === "\\" && text[i + 1] === "u") {
            const trailing = hex4(text, i + 2);
            if (trailing >= 0xdc00 && trailing <= 0xdfff) {
              cp = 0x10000 + ((cp & 0x3ff) << 10) + (trailing & 0x3ff);
              i += 6;
            } else cp = -1;
          }
          // mod_utf8_encode() refuses what is not a Unicode scalar value.
          if (cp < 0 || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) this.fail(`${text.slice(begin, i)} is not a valid Unicode character`);
          out += String.fromCodePoint(cp);
          break;
        }
        default:
          this.fail("invalid escape sequence in string");
      }
    }
    return out;
  }
}

/** cvt4hex(): four hex digits, or -1. */
function hex4(s: string, at: number): number {
  const h = s.slice(at, at + 4);
  return /^[0-9a-fA-F]{4}$/.test(h) ? parseInt(h, 16) : -1;
}

/** parse_literal(): an integer as int64 if it fits, else uint64, else a double; a float as a double. */
function literalNumber(t: JsonToken): QObject {
  if (t.type === "integer") {
    const v = BigInt(t.text);
    if (v >= INT64_MIN && v <= UINT64_MAX) return v;
  }
  return Number(t.text);
}

/** json_parser_parse() of one message's tokens. */
export function parseJsonMessage(tokens: readonly JsonToken[]): JsonMessage {
  try {
    return { value: new Parser(tokens).value() };
  } catch (e) {
    if (e instanceof ParseError) return { error: e.message };
    throw e;
  }
}
