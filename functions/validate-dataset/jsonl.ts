/**
 * A streaming reader of JSON Lines datasets (one JSON object per line), for validating a training
 * file straight off an S3 GetObject body without holding the file in memory. Pure: no AWS, no env.
 *
 * How it reads: it works on bytes and splits on the 0x0A byte *before* decoding, so a multi-byte
 * UTF-8 character that straddles two chunks is never broken, and a `\r` in front of the `\n` is
 * dropped. Each complete line is decoded once with a strict (fatal) UTF-8 decoder and parsed with
 * `JSON.parse`. A line still in progress is kept as a list of pending chunk tails, joined with one
 * copy when its newline arrives (not concatenated on every chunk: that would be O(n²) for a line
 * delivered in many small chunks). Lines are found with `Uint8Array#indexOf`, not a per-byte loop.
 *
 * Memory is bounded by `maxLineBytes` (+1 byte of slack for a `\r`) plus the chunk in hand: once a
 * line outgrows the limit its bytes are counted and dropped until its newline, and it is reported
 * once as `line-too-long`.
 *
 * Flat records ({@link JsonlOptions.flatRecordKeys}): the dataset step's common case, a line like
 * `{"prompt":"…","completion":"…"}`, is recognised on its bytes by {@link scanFlatRecord} and counted
 * (characters of its values) without decoding or `JSON.parse`: in the profile of the dataset bench
 * (scripts/bench/dataset.ts) the decode, `JSON.parse`, the strings and objects they build and the
 * garbage collection of them were most of the time left once the record checks were fixed. The
 * scanner only ever says "this line is exactly such a record, with N characters" or "don't know";
 * every other line (blank, invalid, nested, `\u` escapes, unknown or repeated keys…) takes the path
 * above, so its item, problem and message are the same as without the option. UTF-8 is checked for
 * the whole region first (`isUtf8`, strict like the fatal decoder: no overlongs, surrogates or code
 * points above U+10FFFF); a region that is not valid UTF-8 goes line by line through the decoder.
 */
import { isUtf8 } from 'node:buffer';

/** Default {@link JsonlOptions.maxLineBytes}: 1 MiB. */
export const DEFAULT_MAX_LINE_BYTES = 1024 * 1024;

export interface JsonlOptions {
  /**
   * The longest line accepted, in bytes of content (the line terminator `\n` / `\r\n` and a leading
   * BOM do not count). A longer line is reported as `line-too-long` and skipped without being
   * buffered whole. Default {@link DEFAULT_MAX_LINE_BYTES} (1 MiB): Bedrock's text customization
   * quotas cap a record at tens of thousands of tokens, a few hundred KB of UTF-8 even with JSON
   * escapes, and images travel as S3 URIs, not inline; so 1 MiB passes every legitimate record while
   * keeping the worst case (the raw line, its UTF-16 string at up to 2× and the parsed value) a few
   * MiB in a Lambda. Must be a positive safe integer.
   */
  maxLineBytes?: number;
  /**
   * The keys of a flat record format, e.g. `['prompt', 'completion']`: a line that is a JSON object
   * whose members are exactly these keys (each once, in any order), each a string, is not parsed; its
   * item is `{ line, chars, bytes }`, `chars` the code points of its values together (as
   * `Array.from(value).length` would count them). Every other line gives the items it gives without
   * this option. At most 30 keys, each non-empty ASCII without `"` or `\`.
   */
  flatRecordKeys?: readonly string[];
}

/**
 * The message of an `invalid-json` item, always this text: the parser's own message quotes the line,
 * and a dataset's lines may hold personal data. Every message of an item is a fixed text or counts
 * (bytes, a JSON type), never a part of the line.
 */
export const INVALID_JSON_MESSAGE = 'not valid JSON';

/** Why a non-blank line is not a record. */
export type JsonlErrorKind = 'invalid-json' | 'invalid-utf8' | 'line-too-long' | 'not-an-object';

/**
 * One non-blank line: a parsed record or the reason it is not one. `line` is the 1-based physical
 * line number (blank lines count); `bytes` is the raw byte length of the line without its
 * terminator (`\n` or `\r\n`) and without the leading BOM, for throughput figures. `message` never
 * holds any part of the line (see {@link INVALID_JSON_MESSAGE}). The `chars` form comes only with
 * {@link JsonlOptions.flatRecordKeys}: a flat record, recognised and counted, not parsed.
 */
export type JsonlItem =
  | { line: number; value: unknown; bytes: number }
  | { line: number; chars: number; bytes: number; value?: undefined }
  | { line: number; error: JsonlErrorKind; message: string; bytes: number };

const LF = 0x0a;
const CR = 0x0d;
const EMPTY = new Uint8Array(0);

/** Only JSON's insignificant whitespace (RFC 8259 §2) other than LF, which never occurs inside a line. */
function isBlank(line: string): boolean {
  for (let i = 0; i < line.length; i++) {
    const c = line.charCodeAt(i);
    if (c !== 0x20 && c !== 0x09 && c !== CR) return false;
  }
  return true;
}

function tooLong(line: number, bytes: number, max: number): JsonlItem {
  return { line, error: 'line-too-long', message: `line is ${bytes} bytes, over the limit of ${max}`, bytes };
}

/** JSON whitespace (RFC 8259 §2): space, tab, LF, CR. */
function skipWhitespace(b: Uint8Array, i: number, end: number): number {
  while (i < end) {
    const c = b[i]!;
    if (c !== 0x20 && c !== 0x09 && c !== LF && c !== CR) break;
    i++;
  }
  return i;
}

/**
 * Index in `keys` of the key whose bytes and then a `"` start at `b[start]` (before `end`), or -1. A
 * key holds no `"` or `\`, so that `"` is the first one after `start` and the key has no escape.
 */
function keyAt(b: Uint8Array, start: number, end: number, keys: readonly Uint8Array[]): number {
  outer: for (let k = 0; k < keys.length; k++) {
    const key = keys[k]!;
    const close = start + key.length;
    if (close >= end || b[close] !== 0x22) continue;
    for (let j = 0; j < key.length; j++) if (key[j] !== b[start + j]) continue outer;
    return k;
  }
  return -1;
}

/**
 * Whether `b[start..end)` (one line, without its terminator, known to be valid UTF-8) is a JSON object
 * whose members are exactly `keys` (each once, any order, no escape in a key), every value a string
 * whose escapes are the one-character ones (`\" \\ \/ \b \f \n \r \t`); if so, the code points of
 * its values together, else `undefined` ("not known": parse the line). Such a line is valid JSON, and
 * `JSON.parse` gives an object of exactly these string members: this accepts a subset of RFC 8259's
 * grammar (§2 whitespace, §4 objects, §7 strings: no byte below 0x20 unescaped) and never rejects for
 * the caller. A code point is one UTF-8 lead byte (not 0b10xxxxxx) or one escape.
 * `keys`: 1 to 30 distinct non-empty ASCII keys without `"` or `\` (as {@link JsonlSplitter} checks).
 *
 * Inside a string, runs of plain ASCII are skipped 4 bytes at a time (`view` over `b`'s bytes, made
 * once per chunk by the caller): a word none of whose bytes is `"`, `\`, below 0x20 or above 0x7F is
 * 4 characters. The tests are the exact "has a zero byte" / "has a byte less than n" word tricks
 * (Sean Eron Anderson, Bit Twiddling Hacks, "Determine if a word has a zero byte" and "…has a byte
 * less than n"); 1.6x faster than a byte at a time on the bench's records.
 */
export function scanFlatRecord(
  b: Uint8Array,
  start: number,
  end: number,
  keys: readonly Uint8Array[],
  view: DataView = new DataView(b.buffer, b.byteOffset, b.byteLength),
): number | undefined {
  let i = skipWhitespace(b, start, end);
  if (i >= end || b[i] !== 0x7b) return undefined; // {
  i = skipWhitespace(b, i + 1, end);
  let seen = 0;
  let chars = 0;
  for (;;) {
    if (i >= end || b[i] !== 0x22) return undefined; // the opening " of a key
    const k = keyAt(b, ++i, end, keys);
    if (k < 0 || seen & (1 << k)) return undefined; // unknown (or escaped) or repeated
    seen |= 1 << k;
    i = skipWhitespace(b, i + keys[k]!.length + 1, end);
    if (i >= end || b[i] !== 0x3a) return undefined; // :
    i = skipWhitespace(b, i + 1, end);
    if (i >= end || b[i] !== 0x22) return undefined; // a value other than a string
    i++;
    for (;;) {
      while (i + 4 <= end) {
        const x = view.getUint32(i, true);
        const quote = x ^ 0x22222222;
        const backslash = x ^ 0x5c5c5c5c;
        // Any byte < 0x20, any byte == '"', any byte == '\', any byte >= 0x80: leave the word to the byte loop.
        if ((((x - 0x20202020) & ~x) | ((quote - 0x01010101) & ~quote) | ((backslash - 0x01010101) & ~backslash) | x) & 0x80808080) break;
        chars += 4;
        i += 4;
      }
      if (i >= end) return undefined;
      const c = b[i]!;
      if (c === 0x22) break;
      if (c === 0x5c) {
        if (i + 1 >= end) return undefined;
        const e = b[i + 1]!;
        // \" \\ \/ \b \f \n \r \t; \u (and anything else) is left to JSON.parse.
        if (e !== 0x22 && e !== 0x5c && e !== 0x2f && e !== 0x62 && e !== 0x66 && e !== 0x6e && e !== 0x72 && e !== 0x74) return undefined;
        chars++;
        i += 2;
        continue;
      }
      if (c < 0x20) return undefined; // a control character must be escaped in JSON
      if ((c & 0xc0) !== 0x80) chars++;
      i++;
    }
    i = skipWhitespace(b, i + 1, end);
    if (i >= end) return undefined;
    if (b[i] === 0x2c) {
      i = skipWhitespace(b, i + 1, end); // ,
      continue;
    }
    if (b[i] !== 0x7d) return undefined; // }
    i = skipWhitespace(b, i + 1, end);
    break;
  }
  return i === end && seen === 2 ** keys.length - 1 ? chars : undefined;
}

function isRecord(value: unknown): boolean {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * The push-based core of {@link readJsonl}: feed chunks with {@link push}, then call {@link end}
 * once. Each call returns the items completed by that input. Exported for callers that already
 * hold chunks synchronously, and so tests can watch {@link bufferedBytes}.
 */
export class JsonlSplitter {
  readonly #max: number;
  /** Tails of earlier chunks that belong to the line in progress (copies, see {@link #append}). */
  #pending: Uint8Array[] = [];
  #pendingBytes = 0;
  /** Number of the line in progress (1-based). */
  #line = 1;
  /** The line in progress is over the limit: its bytes are counted, not kept. */
  #discarding = false;
  #discardedBytes = 0;
  #discardedEndsWithCr = false;
  /** The first bytes of the stream while fewer than 3 have arrived (BOM detection); then null. */
  #head: number[] | null = [];
  #ended = false;
  // ignoreBOM: true keeps a U+FEFF at the start of a later line as content (the default would strip
  // it from every decode call); the stream's own BOM is removed by #head before any line is cut.
  readonly #decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
  /** {@link JsonlOptions.flatRecordKeys} as bytes, or null. */
  readonly #flat: readonly Uint8Array[] | null;

  constructor(options: JsonlOptions = {}) {
    const max = options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
    if (!Number.isSafeInteger(max) || max < 1) {
      throw new RangeError(`maxLineBytes must be a positive safe integer, got ${String(max)}`);
    }
    this.#max = max;
    const keys = options.flatRecordKeys;
    if (keys !== undefined && (keys.length < 1 || keys.length > 30 || new Set(keys).size !== keys.length || keys.some((k) => !/^[\x20\x21\x23-\x5b\x5d-\x7e]+$/.test(k)))) {
      throw new RangeError('flatRecordKeys must be 1 to 30 distinct non-empty ASCII keys without " or \\');
    }
    this.#flat = keys ? keys.map((k) => new TextEncoder().encode(k)) : null;
  }

  /** Bytes currently held for the line in progress (test hook: stays ≤ maxLineBytes + 1). */
  get bufferedBytes(): number {
    return this.#pendingBytes + (this.#head?.length ?? 0);
  }

  /** Feeds the next chunk; returns the items of the lines it completes. */
  push(chunk: Uint8Array): JsonlItem[] {
    if (this.#ended) throw new Error('JsonlSplitter.push after end()');
    // A plain Uint8Array view of a Buffer (a stream's chunks are Buffers, joined lines Uint8Arrays), so
    // the scanner's byte reads see one kind of array (no copy: the same bytes).
    if (chunk.constructor !== Uint8Array) chunk = new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    const out: JsonlItem[] = [];
    let from = 0;
    if (this.#head !== null) {
      // The BOM is only recognised as the stream's first 3 bytes, which may arrive 1 byte at a time.
      const head = this.#head;
      while (head.length < 3 && from < chunk.length) head.push(chunk[from++]!);
      if (head.length < 3) return out;
      this.#head = null;
      if (!(head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf)) this.#scan(Uint8Array.from(head), out);
    }
    this.#scan(from === 0 ? chunk : chunk.subarray(from), out);
    return out;
  }

  /** Ends the input: returns the item of a last line that has no newline, if any. */
  end(): JsonlItem[] {
    const out: JsonlItem[] = [];
    if (this.#ended) return out;
    this.#ended = true;
    if (this.#head !== null) {
      // Fewer than 3 bytes in the whole stream: too short to be a BOM, so plain content.
      const head = Uint8Array.from(this.#head);
      this.#head = null;
      this.#scan(head, out);
    }
    if (this.#discarding || this.#pendingBytes > 0) this.#finishLine(EMPTY, out, true);
    return out;
  }

  #scan(bytes: Uint8Array, out: JsonlItem[]): void {
    const first = bytes.indexOf(LF);
    if (first === -1) {
      if (bytes.length > 0) this.#append(bytes);
      return;
    }
    // The first line continues what earlier chunks left pending (or is being discarded).
    this.#finishLine(bytes.subarray(0, first), out, false);
    const last = bytes.lastIndexOf(LF);
    if (last > first) this.#completeLines(bytes, first + 1, last, out);
    if (last + 1 < bytes.length) this.#append(bytes.subarray(last + 1));
  }

  /**
   * The lines wholly inside one chunk, `bytes[start..last)` (`bytes[last]` is their final LF).
   * They are decoded with one call, not one per line: a TextDecoder call costs about as much as
   * decoding a short line (decoding measured ~1/3 faster on 150-byte records). Splitting valid UTF-8 at LF
   * bytes leaves valid UTF-8 pieces, so the string's "\n" match the LF bytes one to one. When the
   * region is not valid UTF-8, the lines are decoded one by one to find which.
   */
  #completeLines(bytes: Uint8Array, start: number, last: number, out: JsonlItem[]): void {
    if (this.#flat !== null) {
      this.#completeFlatLines(bytes, start, last, out);
      return;
    }
    let text: string;
    try {
      text = this.#decoder.decode(bytes.subarray(start, last));
    } catch {
      for (let from = start, nl = bytes.indexOf(LF, from); from <= last; from = nl + 1, nl = bytes.indexOf(LF, from)) {
        this.#finishLine(bytes.subarray(from, nl), out, false);
      }
      return;
    }
    for (let from = start, s = 0; from <= last; ) {
      const nl = bytes.indexOf(LF, from);
      const sEnd = nl === last ? text.length : text.indexOf('\n', s);
      const line = this.#line++;
      const crlf = nl > from && bytes[nl - 1] === CR;
      const size = nl - from - (crlf ? 1 : 0);
      if (size > this.#max) out.push(tooLong(line, size, this.#max));
      else this.#parse(line, size, text.slice(s, crlf ? sEnd - 1 : sEnd), out);
      from = nl + 1;
      s = sEnd + 1;
    }
  }

  /**
   * {@link #completeLines} with {@link JsonlOptions.flatRecordKeys}: the region's UTF-8 is checked in
   * one call; then each line is scanned as a flat record, and only a line the scanner does not
   * recognise is decoded and parsed. A region that is not valid UTF-8 goes line by line as without
   * the option.
   */
  #completeFlatLines(bytes: Uint8Array, start: number, last: number, out: JsonlItem[]): void {
    const flat = this.#flat!;
    const valid = isUtf8(bytes.subarray(start, last));
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    for (let from = start, nl = bytes.indexOf(LF, from); from <= last; from = nl + 1, nl = bytes.indexOf(LF, from)) {
      if (!valid) {
        this.#finishLine(bytes.subarray(from, nl), out, false);
        continue;
      }
      const line = this.#line++;
      const size = nl - from - (nl > from && bytes[nl - 1] === CR ? 1 : 0);
      if (size > this.#max) {
        out.push(tooLong(line, size, this.#max));
        continue;
      }
      const chars = scanFlatRecord(bytes, from, from + size, flat, view);
      if (chars !== undefined) out.push({ line, chars, bytes: size });
      else this.#parse(line, size, this.#decoder.decode(bytes.subarray(from, from + size)), out);
    }
  }

  /** Keeps the start of a line whose newline has not arrived yet, or counts it when over the limit. */
  #append(bytes: Uint8Array): void {
    if (!this.#discarding && this.#pendingBytes + bytes.length > this.#max + 1) {
      // Over the limit even if the line ends in "\r\n": stop keeping it (+1: a trailing \r is not content).
      this.#discarding = true;
      this.#discardedBytes = this.#pendingBytes;
      this.#pending = [];
      this.#pendingBytes = 0;
    }
    if (this.#discarding) {
      this.#discardedBytes += bytes.length;
      this.#discardedEndsWithCr = bytes[bytes.length - 1] === CR;
      return;
    }
    // A copy, not a view: the source may reuse its buffer, and a view would pin the whole chunk.
    // Only a line's unfinished tail is copied, at most once per chunk.
    this.#pending.push(new Uint8Array(bytes));
    this.#pendingBytes += bytes.length;
  }

  /** Completes the line in progress with `tail` (the bytes before its newline in the current chunk). */
  #finishLine(tail: Uint8Array, out: JsonlItem[], atEof: boolean): void {
    const line = this.#line++;
    const max = this.#max;
    if (this.#discarding) {
      const endsWithCr = tail.length > 0 ? tail[tail.length - 1] === CR : this.#discardedEndsWithCr;
      const bytes = this.#discardedBytes + tail.length - (endsWithCr && !atEof ? 1 : 0);
      this.#discarding = false;
      this.#discardedBytes = 0;
      this.#discardedEndsWithCr = false;
      out.push(tooLong(line, bytes, max));
      return;
    }
    let raw: Uint8Array;
    if (this.#pending.length === 0) raw = tail;
    else {
      // The one copy of a line that spans chunks.
      raw = new Uint8Array(this.#pendingBytes + tail.length);
      let at = 0;
      for (const part of this.#pending) {
        raw.set(part, at);
        at += part.length;
      }
      raw.set(tail, at);
      this.#pending = [];
      this.#pendingBytes = 0;
    }
    // "\r\n" ends a line; a lone "\r" at the end of the file is content (JSON whitespace).
    const bytes = !atEof && raw.length > 0 && raw[raw.length - 1] === CR ? raw.length - 1 : raw.length;
    if (bytes > max) {
      out.push(tooLong(line, bytes, max));
      return;
    }
    const content = bytes === raw.length ? raw : raw.subarray(0, bytes);
    if (this.#flat !== null && isUtf8(content)) {
      const chars = scanFlatRecord(content, 0, content.length, this.#flat);
      if (chars !== undefined) {
        out.push({ line, chars, bytes });
        return;
      }
    }
    let text: string;
    try {
      text = this.#decoder.decode(content);
    } catch {
      out.push({ line, error: 'invalid-utf8', message: 'line is not valid UTF-8', bytes });
      return;
    }
    this.#parse(line, bytes, text, out);
  }

  /** Classifies one decoded line (without its terminator) of `bytes` raw bytes. */
  #parse(line: number, bytes: number, text: string, out: JsonlItem[]): void {
    if (isBlank(text)) return;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      // Never JSON.parse's own message: it quotes the line ("Unexpected token 'S', "SSN 078-05"..."),
      // and this message ends up in the execution's Cause, the logs and the notification.
      out.push({ line, error: 'invalid-json', message: INVALID_JSON_MESSAGE, bytes });
      return;
    }
    if (!isRecord(value)) {
      const kind = value === null ? 'null' : Array.isArray(value) ? 'an array' : `a ${typeof value}`;
      out.push({ line, error: 'not-an-object', message: `line is ${kind}, not a JSON object`, bytes });
      return;
    }
    out.push({ line, value, bytes });
  }
}

/**
 * Reads records from a byte stream (an S3 GetObject body, a file stream…): splits on `\n` (a `\r`
 * before it is dropped), strips a UTF-8 BOM at the very start (a BOM later is content), skips
 * blank/whitespace-only lines (they still count in line numbers), decodes UTF-8 strictly (invalid
 * bytes → `invalid-utf8` for that line), parses each line as JSON and reports a JSON value that is
 * not an object as `not-an-object`. Errors of the source itself propagate. Breaking out of the loop
 * early closes the source.
 *
 * Items are produced a chunk at a time: the parsed records of one chunk are held together, so memory
 * follows the source's chunk size (64 KiB for a Node.js stream) and `maxLineBytes`.
 */
export async function* readJsonl(source: AsyncIterable<Uint8Array>, options?: JsonlOptions): AsyncGenerator<JsonlItem> {
  const splitter = new JsonlSplitter(options);
  for await (const chunk of source) {
    yield* splitter.push(chunk);
  }
  yield* splitter.end();
}
