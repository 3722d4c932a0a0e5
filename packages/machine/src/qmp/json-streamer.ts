/**
 * QEMU's JSON lexer and message streamer (qobject/json-lexer.c,
 * qobject/json-streamer.c): text arrives in chunks of any size; tokens are
 * collected until the braces and brackets balance (or a closing one comes
 * first), and that message goes to the parser. The lexer keeps its state
 * between chunks, so a message may be split anywhere and several may share
 * a chunk.
 *
 * Lexical rules as json-lexer.c: whitespace is space, tab, CR, LF; strings
 * in double or single quotes (control characters inside are an error);
 * numbers as RFC 8259; any run of lower-case letters is a keyword token
 * (the parser judges it); anything else is an error token, reported as
 * "JSON parse error, stray '<token>'". After an error the lexer skips input
 * up to a structural character (`[ ] { }`) or a control character other
 * than tab, then starts afresh there (IN_RECOVERY); the streamer drops the
 * tokens of the broken message. Limits as json-streamer.c: 64 MiB of token
 * text, 2 Mi tokens, nesting 1024.
 */

import { parseJsonMessage, type JsonToken } from "./json-parser.js";
import type { QObject } from "./qobject.js";

/** json-streamer.c MAX_TOKEN_SIZE. */
export const JSON_MAX_TOKEN_SIZE = 64 * 1024 * 1024;
/** json-streamer.c MAX_TOKEN_COUNT. */
export const JSON_MAX_TOKEN_COUNT = 2 * 1024 * 1024;
/** json-streamer.c MAX_NESTING. */
export const JSON_MAX_NESTING = 1024;

/** What the streamer hands on: a parsed value, or the text of a parse error. */
export type JsonMessage = { readonly value: QObject; readonly error?: undefined } | { readonly value?: undefined; readonly error: string };

const enum S {
  Start,
  Recovery,
  String,
  StringEscape,
  Minus,
  Zero,
  Int,
  Dot,
  Frac,
  Exp,
  ExpSign,
  ExpDigits,
  Keyword,
}

function isDigit(c: string): boolean {
  return c >= "0" && c <= "9";
}

/** One client connection's JSON input: feed() text, get messages through the callback. */
export class JsonStreamer {
  #state = S.Start;
  #text = "";
  #quote = "";
  #tokens: JsonToken[] = [];
  #braces = 0;
  #brackets = 0;
  #size = 0;
  readonly #emit: (m: JsonMessage) => void;

  constructor(emit: (m: JsonMessage) => void) {
    this.#emit = emit;
  }

  /** json_message_parser_feed(). */
  feed(chunk: string): void {
    for (const ch of chunk) this.#char(ch);
  }

  /** Forgets any partial message (the client went away: CHR_EVENT_CLOSED re-initialises the parser). */
  reset(): void {
    this.#state = S.Start;
    this.#text = "";
    this.#resetMessage();
  }

  #char(c: string): void {
    for (;;) {
      switch (this.#state) {
        case S.Start:
          this.#start(c);
          return;
        case S.Recovery: {
          const cp = c.codePointAt(0)!;
          if ((cp < 0x20 && c !== "\t") || c === "[" || c === "]" || c === "{" || c === "}") {
            this.#state = S.Start;
            continue; // look-ahead: the character starts the next token
          }
          return;
        }
        case S.String: {
          const cp = c.codePointAt(0)!;
          this.#text += c;
          if (cp < 0x20) this.#error();
          else if (c === "\\") this.#state = S.StringEscape;
          else if (c === this.#quote) this.#token("string");
          return;
        }
        case S.StringEscape:
          this.#text += c;
          if ("bfnrt/\\'\"u".includes(c)) this.#state = S.String;
          else this.#error();
          return;
        case S.Minus:
          this.#text += c;
          if (c === "0") this.#state = S.Zero;
          else if (isDigit(c)) this.#state = S.Int;
          else this.#error();
          return;
        case S.Zero:
        case S.Int:
          if (this.#state === S.Int && isDigit(c)) {
            this.#text += c;
            return;
          }
          if (c === ".") {
            this.#text += c;
            this.#state = S.Dot;
            return;
          }
          if (c === "e" || c === "E") {
            this.#text += c;
            this.#state = S.Exp;
            return;
          }
          this.#token("integer");
          continue;
        case S.Dot:
          this.#text += c;
          if (isDigit(c)) this.#state = S.Frac;
          else this.#error();
          return;
        case S.Frac:
          if (isDigit(c)) {
            this.#text += c;
            return;
          }
          if (c === "e" || c === "E") {
            this.#text += c;
            this.#state = S.Exp;
            return;
          }
          this.#token("float");
          continue;
        case S.Exp:
          this.#text += c;
          if (c === "+" || c === "-") this.#state = S.ExpSign;
          else if (isDigit(c)) this.#state = S.ExpDigits;
          else this.#error();
          return;
        case S.ExpSign:
          this.#text += c;
          if (isDigit(c)) this.#state = S.ExpDigits;
          else this.#error();
          return;
        case S.ExpDigits:
          if (isDigit(c)) {
            this.#text += c;
            return;
          }
          this.#token("float");
          continue;
        case S.Keyword:
          if (c >= "a" && c <= "z") {
            this.#text += c;
            return;
          }
          this.#token("keyword");
          continue;
      }
    }
  }

  #start(c: string): void {
    switch (c) {
      case " ":
      case "\t":
      case "\r":
      case "\n":
        return;
      case "{":
      case "}":
      case "[":
      case "]":
      case ":":
      case ",":
        this.#text = c;
        this.#token(c);
        return;
      case '"':
      case "'":
        this.#quote = c;
        this.#text = c;
        this.#state = S.String;
        return;
      case "-":
        this.#text = c;
        this.#state = S.Minus;
        return;
      case "0":
        this.#text = c;
        this.#state = S.Zero;
        return;
      default:
        this.#text = c;
        if (isDigit(c)) this.#state = S.Int;
        else if (c >= "a" && c <= "z") this.#state = S.Keyword;
        else this.#error();
    }
  }

  /** A lexical error: json_message_process_token(JSON_ERROR) reports it and drops the message; the lexer recovers. */
  #error(): void {
    const text = this.#text;
    this.#text = "";
    this.#state = S.Recovery;
    this.#resetMessage();
    this.#emit({ error: `JSON parse error, stray '${text}'` });
  }

  /** json_message_process_token() for a complete token. */
  #token(type: JsonToken["type"]): void {
    const text = this.#text;
    this.#text = "";
    this.#state = S.Start;
    if (type === "{") this.#braces++;
    else if (type === "}") this.#braces--;
    else if (type === "[") this.#brackets++;
    else if (type === "]") this.#brackets--;
    this.#size += text.length;
    this.#tokens.push({ type, text });
    if (this.#braces < 0 || this.#brackets < 0 || (this.#braces === 0 && this.#brackets === 0)) {
      const tokens = this.#tokens;
      this.#resetMessage();
      this.#emit(parseJsonMessage(tokens));
      return;
    }
    let error: string | undefined;
    if (this.#size > JSON_MAX_TOKEN_SIZE) error = "JSON token size limit exceeded";
    else if (this.#tokens.length > JSON_MAX_TOKEN_COUNT) error = "JSON token count limit exceeded";
    else if (this.#braces + this.#brackets > JSON_MAX_NESTING) error = "JSON nesting depth limit exceeded";
    if (error !== undefined) {
      this.#resetMessage();
      this.#emit({ error });
    }
  }

  #resetMessage(): void {
    this.#tokens = [];
    this.#braces = 0;
    this.#brackets = 0;
    this.#size = 0;
  }
}
