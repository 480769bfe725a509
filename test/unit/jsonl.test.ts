/**
 * The streaming JSONL reader: property tests (records survive any chunking, any mix of LF/CRLF,
 * blank lines and BOM; the streaming splitter agrees with a whole-buffer reference on arbitrary
 * bytes) and examples for each error kind, the line limit and bounded memory.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_MAX_LINE_BYTES, INVALID_JSON_MESSAGE, JsonlSplitter, readJsonl, scanFlatRecord, type JsonlItem, type JsonlOptions } from '../../functions/validate-dataset/jsonl.js';

const utf8 = new TextEncoder();
const BOM = [0xef, 0xbb, 0xbf];

/** Yields the chunks as given (fresh copies, so the reader cannot rely on them staying intact). */
async function* fromChunks(chunks: Iterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  for (const chunk of chunks) yield chunk;
}

/** Cuts `bytes` at the given positions (any order, duplicates allowed → empty chunks are skipped, not yielded). */
function cut(bytes: Uint8Array, positions: number[]): Uint8Array[] {
  const cuts = [...new Set(positions.map((p) => p % (bytes.length + 1)))].sort((a, b) => a - b);
  const chunks: Uint8Array[] = [];
  let from = 0;
  for (const at of [...cuts, bytes.length]) {
    chunks.push(bytes.slice(from, at));
    from = at;
  }
  return chunks;
}

const oneByteChunks = (bytes: Uint8Array): Uint8Array[] => Array.from(bytes, (b) => Uint8Array.of(b));

/** How a property test chunks its bytes: one byte at a time, or cut at arbitrary positions ({@link chunked}). */
const chunkingArb = fc.oneof(fc.constant('1-byte' as const), fc.array(fc.nat(), { maxLength: 20 }));
const chunked = (bytes: Uint8Array, chunking: '1-byte' | number[]): Uint8Array[] => (chunking === '1-byte' ? oneByteChunks(bytes) : cut(bytes, chunking));

async function collect(chunks: Iterable<Uint8Array>, options?: JsonlOptions): Promise<JsonlItem[]> {
  const items: JsonlItem[] = [];
  for await (const item of readJsonl(fromChunks(chunks), options)) items.push(item);
  return items;
}

const text = (s: string): Uint8Array[] => [utf8.encode(s)];

/** Strings that stress the splitter and the decoder: astral chars, quotes, backslashes, U+2028/9, BOM, CR/LF. */
const trickyString = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 12 }),
  fc.string({
    unit: fc.constantFrom('"', '\\', '\u2028', '\u2029', '\n', '\r', '\r\n', '\uFEFF', '😀', '𝄞', 'é', '中', '\u0000', '{', '}', ' '),
    maxLength: 8,
  }),
);
const recordArb: fc.Arbitrary<Record<string, unknown>> = fc.dictionary(
  trickyString,
  fc.oneof(trickyString, fc.jsonValue({ maxDepth: 2, stringUnit: 'binary' })),
  { maxKeys: 4 },
);

/** A physical line of the generated file: a record (with optional JSON whitespace around it) or a blank line. */
type Line = { record: Record<string, unknown>; pad: [string, string] } | { blank: string };
const lineArb: fc.Arbitrary<Line> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ record: recordArb, pad: fc.tuple(fc.constantFrom('', ' ', '\t '), fc.constantFrom('', ' ', ' \t')) }) },
  { weight: 1, arbitrary: fc.record({ blank: fc.constantFrom('', ' ', '\t', ' \t  ', '\r') }) },
);

/** Reference splitter over a whole buffer, written the obvious way (Buffer split), for the differential property. */
function reference(input: Uint8Array, max = DEFAULT_MAX_LINE_BYTES): JsonlItem[] {
  let buf = Buffer.from(input);
  if (buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf) buf = buf.subarray(3);
  const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
  const items: JsonlItem[] = [];
  const lines: Buffer[] = [];
  let start = 0;
  for (let nl = buf.indexOf(0x0a); nl !== -1; nl = buf.indexOf(0x0a, start)) {
    const line = buf.subarray(start, nl);
    lines.push(line.at(-1) === 0x0d ? line.subarray(0, -1) : line);
    start = nl + 1;
  }
  lines.push(buf.subarray(start)); // the last line has no terminator: a trailing \r stays
  lines.forEach((raw, i) => {
    const line = i + 1;
    const bytes = raw.length;
    if (bytes > max) return items.push({ line, error: 'line-too-long', message: '', bytes });
    if (/^[ \t\r]*$/.test(raw.toString('latin1'))) return;
    let s: string;
    try {
      s = decoder.decode(raw);
    } catch {
      return items.push({ line, error: 'invalid-utf8', message: '', bytes });
    }
    let value: unknown;
    try {
      value = JSON.parse(s);
    } catch {
      return items.push({ line, error: 'invalid-json', message: '', bytes });
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value))
      return items.push({ line, error: 'not-an-object', message: '', bytes });
    return items.push({ line, value, bytes });
  });
  return items;
}

/** Items with messages blanked (the reference has none) and values as JSON text (exact, prototype-proof). */
const comparable = (items: JsonlItem[]) =>
  items.map((i) => ('error' in i ? { ...i, message: '' } : { line: i.line, json: JSON.stringify(i.value), bytes: i.bytes }));

describe('readJsonl: properties', () => {
  it('yields exactly the records, with their line numbers and byte lengths, however the file is terminated and chunked', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(lineArb, fc.constantFrom('\n', '\r\n')), { maxLength: 12 }),
        fc.constantFrom('\n', '\r\n', ''),
        fc.boolean(),
        chunkingArb,
        async (lines, lastTerminator, bom, chunking) => {
          // Prepare: serialize, remembering which physical line holds which record
          const expected: { line: number; json: string; bytes: number }[] = [];
          let file = '';
          lines.forEach(([l, terminator], i) => {
            const isLast = i === lines.length - 1;
            const content = 'record' in l ? `${l.pad[0]}${JSON.stringify(l.record)}${l.pad[1]}` : l.blank;
            // A blank "\r" line as the last line without terminator would be a lone CR: still blank.
            file += content + (isLast ? lastTerminator : terminator);
            if ('record' in l) expected.push({ line: i + 1, json: JSON.stringify(l.record), bytes: utf8.encode(content).length });
          });
          const bytes = Uint8Array.from([...(bom ? BOM : []), ...utf8.encode(file)]);
          const chunks = chunked(bytes, chunking);

          // Act
          const items = await collect(chunks);

          // Assess
          expect(items.map((i) => ('error' in i ? i : { line: i.line, json: JSON.stringify(i.value), bytes: i.bytes }))).toEqual(expected);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('agrees with a whole-buffer reference on arbitrary bytes, for any chunking and line limit', async () => {
    const interesting = fc.constantFrom(0x0a, 0x0a, 0x0d, 0x20, 0xef, 0xbb, 0xbf, 0x7b, 0x7d, 0x22, 0x5b, 0x31, 0x80, 0xff, 0xc3, 0xa9, 0xed, 0xf0);
    const piece = fc.oneof(
      fc.array(fc.oneof(interesting, fc.integer({ min: 0, max: 255 })), { maxLength: 12 }),
      recordArb.map((r) => [...utf8.encode(JSON.stringify(r))]),
      fc.constantFrom([0x0a], [0x0d, 0x0a], BOM, [0xe2, 0x80, 0xa8], [0xf0, 0x9f, 0x98, 0x80]),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.array(piece, { maxLength: 16 }).map((ps) => Uint8Array.from(ps.flat())),
        fc.oneof(fc.constant(undefined), fc.integer({ min: 1, max: 40 })),
        chunkingArb,
        async (bytes, max, chunking) => {
          // Prepare
          const chunks = chunked(bytes, chunking);

          // Act
          const items = await collect(chunks, max === undefined ? {} : { maxLineBytes: max });

          // Assess
          expect(comparable(items)).toEqual(comparable(reference(bytes, max)));
        },
      ),
      { numRuns: 500 },
    );
  });

  it('never holds more than maxLineBytes + 1 bytes of an unfinished line', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.constantFrom(0x0a, 0x0d), fc.constant(0x61)), { maxLength: 300 }).map((b) => Uint8Array.from(b)),
        fc.integer({ min: 1, max: 20 }),
        fc.array(fc.nat(), { maxLength: 30 }),
        (bytes, max, positions) => {
          // Prepare
          const splitter = new JsonlSplitter({ maxLineBytes: max });

          // Act / Assess
          for (const chunk of cut(bytes, positions)) {
            splitter.push(chunk);
            expect(splitter.bufferedBytes).toBeLessThanOrEqual(max + 1);
          }
          splitter.end();
          expect(splitter.bufferedBytes).toBe(0);
        },
      ),
    );
  });
});

describe('readJsonl: examples', () => {
  it.each([
    ['a lone 0xFF byte', [0xff]],
    ['a truncated 3-byte sequence', [0xe2, 0x82]],
    ['an overlong encoding of "/"', [0xc0, 0xaf]],
    ['an encoded UTF-16 surrogate', [0xed, 0xa0, 0x80]],
  ])('reports invalid UTF-8 on line 3 (%s) and parses the other lines', async (_name, bad) => {
    // Prepare
    const bytes = Uint8Array.from([...utf8.encode('{"a":1}\n{"b":"é"}\n{"c":"'), ...bad, ...utf8.encode('"}\n{"d":4}\n')]);

    // Act: 1-byte chunks (line by line) and one chunk (the whole-chunk decode falls back to lines)
    for (const chunks of [oneByteChunks(bytes), [bytes]]) {
      const items = await collect(chunks);

      // Assess
      expect(items).toEqual([
        { line: 1, value: { a: 1 }, bytes: 7 },
        { line: 2, value: { b: 'é' }, bytes: 10 },
        { line: 3, error: 'invalid-utf8', message: 'line is not valid UTF-8', bytes: 8 + bad.length },
        { line: 4, value: { d: 4 }, bytes: 7 },
      ]);
    }
  });

  it('reports invalid JSON with a fixed message (never the parser\'s, which quotes the line) and keeps reading', async () => {
    // Prepare / Act
    const items = await collect(text('{"a":1}\n{"a":1,}\n{"b":\n"x"}\n{"c":3}'));

    // Assess
    expect(items.map((i) => ('error' in i ? [i.line, i.error] : [i.line, i.value]))).toEqual([
      [1, { a: 1 }],
      [2, 'invalid-json'],
      [3, 'invalid-json'],
      [4, 'invalid-json'],
      [5, { c: 3 }],
    ]);
    for (const item of items.filter((i) => 'error' in i)) expect(item).toMatchObject({ message: INVALID_JSON_MESSAGE });
  });

  it('never puts a part of the line into a message (the parser quotes it: Unexpected token \'S\', "SSN 078-05"...)', async () => {
    // Prepare: lines each error kind rejects, every one full of a secret
    const secret = 'SSN 078-05-1120 SECRETSENTINEL';
    const lines = [
      secret,
      `{"prompt": "${secret}"`,
      `{"${secret}": 1,}`,
      `"${secret}"`,
      `["${secret}"]`,
      `{"a": "${secret}", "b": tru}`,
      `{"a": 1} ${secret}`,
    ];
    const bytes = Buffer.concat([
      Buffer.from(lines.join('\n') + '\n'),
      Buffer.from(`{"a": "${secret} `),
      Buffer.from([0xff, 0xfe]),
      Buffer.from('"}\n' + `{"long": "${secret.repeat(10)}"}`),
    ]);

    // Act
    const items = await collect([bytes], { maxLineBytes: 200 });

    // Assess
    expect(items).toHaveLength(lines.length + 2);
    expect(items.every((i) => 'error' in i)).toBe(true);
    for (const item of items) {
      const message = 'message' in item ? item.message : '';
      for (let at = 0; at + 4 <= secret.length; at++) expect(message).not.toContain(secret.slice(at, at + 4));
    }
    expect(items.map((i) => ('error' in i ? i.error : ''))).toEqual([
      'invalid-json', 'invalid-json', 'invalid-json', 'not-an-object', 'not-an-object', 'invalid-json', 'invalid-json', 'invalid-utf8', 'line-too-long',
    ]);
  });

  it('reports a JSON value that is not an object as not-an-object', async () => {
    // Prepare / Act
    const items = await collect(text('42\n[{"a":1}]\n"s"\nnull\ntrue\n{"ok":true}\n'));

    // Assess
    expect(items).toEqual([
      { line: 1, error: 'not-an-object', message: 'line is a number, not a JSON object', bytes: 2 },
      { line: 2, error: 'not-an-object', message: 'line is an array, not a JSON object', bytes: 9 },
      { line: 3, error: 'not-an-object', message: 'line is a string, not a JSON object', bytes: 3 },
      { line: 4, error: 'not-an-object', message: 'line is null, not a JSON object', bytes: 4 },
      { line: 5, error: 'not-an-object', message: 'line is a boolean, not a JSON object', bytes: 4 },
      { line: 6, value: { ok: true }, bytes: 11 },
    ]);
  });

  it('reports a too-long line once, with its full length, and parses the lines after it', async () => {
    // Prepare: line 2 is 100 bytes against a limit of 10, fed in 1-byte and 7-byte chunks
    const file = utf8.encode(`{"a":1}\r\n{"x":"${'y'.repeat(92)}"}\r\n\r\n{"b":2}\n`);

    for (const chunks of [oneByteChunks(file), cut(file, Array.from({ length: 20 }, (_, i) => i * 7))]) {
      // Act
      const items = await collect(chunks, { maxLineBytes: 10 });

      // Assess
      expect(items).toEqual([
        { line: 1, value: { a: 1 }, bytes: 7 },
        { line: 2, error: 'line-too-long', message: 'line is 100 bytes, over the limit of 10', bytes: 100 },
        { line: 4, value: { b: 2 }, bytes: 7 },
      ]);
    }
  });

  it('counts the limit in content bytes: a CRLF line of exactly maxLineBytes passes, one more byte does not', async () => {
    // Prepare: '{"a":"xy"}' is 10 bytes
    const file = '{"a":"xy"}\r\n{"a":"xyz"}\r\n{"a":"xy"}';

    // Act
    const items = await collect(oneByteChunks(utf8.encode(file)), { maxLineBytes: 10 });

    // Assess
    expect(items.map((i) => ('error' in i ? i.error : i.bytes))).toEqual([10, 'line-too-long', 10]);
  });

  it('reports a too-long last line without newline', async () => {
    // Prepare / Act
    const items = await collect(text(`{"a":1}\n${'z'.repeat(50)}`), { maxLineBytes: 8 });

    // Assess
    expect(items[1]).toEqual({ line: 2, error: 'line-too-long', message: 'line is 50 bytes, over the limit of 8', bytes: 50 });
  });

  it('skips a 50 MB line fed in 64 KiB chunks with bounded memory, then reads on', async () => {
    // Prepare: line 2 is `{"big":"` + 50 MiB + `"}`. An explicit GC, so arrayBuffers counts live buffers only (the test would pass
    // vacuously if the chunks were never collected; a reader that kept them would keep 50 MB live).
    setFlagsFromString('--expose-gc');
    const expose = runInNewContext('gc') as () => void;
    // Two passes: the first full GC leaves freed backing stores to a sweeper that may still count them.
    const gc = () => {
      expose();
      expose();
    };
    const chunkSize = 64 * 1024;
    const chunkCount = 800; // 50 MiB
    const filler = new Uint8Array(chunkSize).fill(0x61);
    const splitter = new JsonlSplitter(); // default 1 MiB limit
    let maxBuffered = 0;
    let maxGrowth = 0;
    gc();
    const baseline = process.memoryUsage().arrayBuffers;
    async function* source(): AsyncGenerator<Uint8Array> {
      yield utf8.encode('{"first":1}\n{"big":"');
      for (let i = 0; i < chunkCount; i++) {
        yield new Uint8Array(filler); // a fresh buffer each time, as a socket would deliver
        if (i % 80 === 79) {
          gc();
          maxGrowth = Math.max(maxGrowth, process.memoryUsage().arrayBuffers - baseline);
        }
      }
      yield utf8.encode('"}\n{"last":2}\n');
    }

    // Act: the splitter directly, to watch its buffer, under the same loop readJsonl runs
    const items: JsonlItem[] = [];
    for await (const chunk of source()) {
      items.push(...splitter.push(chunk));
      maxBuffered = Math.max(maxBuffered, splitter.bufferedBytes);
    }
    items.push(...splitter.end());

    // Assess
    expect(items).toEqual([
      { line: 1, value: { first: 1 }, bytes: 11 },
      { line: 2, error: 'line-too-long', message: `line is ${10 + chunkSize * chunkCount} bytes, over the limit of 1048576`, bytes: 10 + chunkSize * chunkCount },
      { line: 3, value: { last: 2 }, bytes: 10 },
    ]);
    expect(maxBuffered).toBeLessThanOrEqual(DEFAULT_MAX_LINE_BYTES + 1);
    expect(maxGrowth).toBeLessThan(4 * 1024 * 1024); // ~64 KiB measured; a reader keeping the line holds 50 MiB
  }, 30_000);

  it('joins a 1 MiB record delivered 1 byte at a time without quadratic copying', () => {
    // Prepare: concatenating on every chunk would copy ~550 GB here; the pending list copies it once.
    const record = utf8.encode(`{"k":"${'é'.repeat(524_280)}"}\n`);
    const splitter = new JsonlSplitter();

    // Act
    const items: JsonlItem[] = [];
    for (let i = 0; i < record.length; i++) items.push(...splitter.push(record.subarray(i, i + 1)));
    items.push(...splitter.end());

    // Assess
    expect(items).toHaveLength(1);
    expect(items[0]).toMatchObject({ line: 1, bytes: record.length - 1 });
  }, 20_000);

  it.each([
    ['empty input', []],
    ['one empty chunk', [new Uint8Array(0)]],
    ['only blank lines', text('\n \r\n\t\n\r\n  ')],
    ['only a BOM', [Uint8Array.from(BOM)]],
    ['a BOM and blank lines', [Uint8Array.from([...BOM, 0x0a, 0x20, 0x0d, 0x0a])]],
  ])('yields nothing for %s', async (_name, chunks) => {
    // Prepare / Act / Assess
    expect(await collect(chunks)).toEqual([]);
  });

  it('strips a BOM split across chunks at the start, and treats a BOM later in the file as content', async () => {
    // Prepare: BOM in 1-byte chunks at the start; a BOM opening line 3
    const bytes = Uint8Array.from([...BOM, ...utf8.encode('{"a":1}\n\n'), ...BOM, ...utf8.encode('{"b":2}\n{"c":"\uFEFF"}')]);

    // Act
    const items = await collect(oneByteChunks(bytes));

    // Assess
    expect(items.map((i) => ('error' in i ? [i.line, i.error, i.bytes] : [i.line, i.value, i.bytes]))).toEqual([
      [1, { a: 1 }, 7],
      [3, 'invalid-json', 10],
      [4, { c: '\uFEFF' }, 11],
    ]);
  });

  it('reads input shorter than a BOM', async () => {
    // Prepare / Act / Assess
    expect(await collect(text('{}'))).toEqual([{ line: 1, value: {}, bytes: 2 }]);
    expect(await collect(text('1'))).toEqual([{ line: 1, error: 'not-an-object', message: 'line is a number, not a JSON object', bytes: 1 }]);
  });

  it('keeps a lone \\r at the very end as content, and a \\r inside a line as JSON whitespace', async () => {
    // Prepare / Act
    const items = await collect(text('{"a":\r1}\n{"b":2}\r'));

    // Assess
    expect(items).toEqual([
      { line: 1, value: { a: 1 }, bytes: 8 },
      { line: 2, value: { b: 2 }, bytes: 8 },
    ]);
  });

  it('does not depend on the source keeping its chunks intact (a reused buffer)', async () => {
    // Prepare: the source overwrites one buffer after each yield
    const file = utf8.encode('{"a":"αβγ"}\n{"b":"😀"}\n');
    const buffer = new Uint8Array(5);
    async function* reusing(): AsyncGenerator<Uint8Array> {
      for (let at = 0; at < file.length; at += 5) {
        const part = file.subarray(at, at + 5);
        buffer.set(part);
        yield buffer.subarray(0, part.length);
        buffer.fill(0x78);
      }
    }

    // Act
    const items: JsonlItem[] = [];
    for await (const item of readJsonl(reusing())) items.push(item);

    // Assess
    expect(items.map((i) => ('value' in i ? i.value : i))).toEqual([{ a: 'αβγ' }, { b: '😀' }]);
  });

  it('propagates an error of the source, after the records read before it', async () => {
    // Prepare
    async function* failing(): AsyncGenerator<Uint8Array> {
      yield utf8.encode('{"a":1}\n{"b"');
      throw new Error('socket hang up');
    }
    const seen: JsonlItem[] = [];

    // Act / Assess
    await expect(
      (async () => {
        for await (const item of readJsonl(failing())) seen.push(item);
      })(),
    ).rejects.toThrow('socket hang up');
    expect(seen).toEqual([{ line: 1, value: { a: 1 }, bytes: 7 }]);
  });

  it('closes the source when the consumer stops early', async () => {
    // Prepare
    let closed = false;
    async function* source(): AsyncGenerator<Uint8Array> {
      try {
        for (let i = 0; ; i++) yield utf8.encode(`{"i":${i}}\n`);
      } finally {
        closed = true;
      }
    }

    // Act
    for await (const item of readJsonl(source())) if ('value' in item && item.line === 3) break;

    // Assess
    expect(closed).toBe(true);
  });

  it.each([0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY])('rejects maxLineBytes %s', (max) => {
    // Prepare / Act / Assess
    expect(() => new JsonlSplitter({ maxLineBytes: max })).toThrow(RangeError);
  });

  it('refuses input after end()', () => {
    // Prepare
    const splitter = new JsonlSplitter();
    splitter.end();

    // Act / Assess
    expect(() => splitter.push(utf8.encode('{}'))).toThrow('after end()');
    expect(splitter.end()).toEqual([]);
  });
});

describe('flat records (flatRecordKeys): recognised on their bytes, never differently from a parse', () => {
  const KEYS = ['prompt', 'completion'] as const;
  const FLAT: JsonlOptions = { flatRecordKeys: KEYS };
  const codePoints = (value: Record<string, unknown>) => Object.values(value).reduce<number>((n, v) => n + Array.from(v as string).length, 0);

  /**
   * Each flat item stands for the parsed item of the same line: a record of exactly KEYS, all strings,
   * of `chars` code points; every other item is the parsed one.
   */
  function expectAgrees(items: JsonlItem[], parsed: JsonlItem[]) {
    expect(items.map((i) => i.line)).toEqual(parsed.map((i) => i.line));
    items.forEach((item, n) => {
      const ref = parsed[n]!;
      if (!('chars' in item)) {
        expect(comparable([item])).toEqual(comparable([ref]));
        return;
      }
      expect('value' in ref && ref.value !== undefined).toBe(true);
      const value = (ref as { value: Record<string, unknown> }).value;
      expect(Object.keys(value).sort()).toEqual([...KEYS].sort());
      expect(Object.values(value).every((v) => typeof v === 'string')).toBe(true);
      expect({ line: item.line, bytes: item.bytes, chars: item.chars }).toEqual({ line: ref.line, bytes: ref.bytes, chars: codePoints(value) });
    });
  }

  /** Strings whose JSON text has the short escapes, astral characters, U+2028, DEL, and (forcing a parse) \u escapes. */
  const flatString = fc.string({
    // ASCII runs of 1 to 9 bytes too, so the scanner's 4-byte steps meet every special byte at every offset
    unit: fc.oneof(
      fc.constantFrom('"', '\\', '/', '\b', '\f', '\n', '\r', '\t', 'é', '😀', '中', '\u2028', '\u007f', '\u0001', '\u001f', ' ', '!', '#', '[', ']', '~', '\ud800', '\udc00'),
      fc.string({ unit: 'binary', maxLength: 1 }),
      fc.string({ unit: fc.constantFrom('a', ' ', '~', '!', '#', '\u007f'), minLength: 1, maxLength: 9 }),
    ),
    maxLength: 12,
  });
  const ws = fc.constantFrom('', ' ', '\t', '\r', ' \t ');
  /** A flat line or a near miss: spacing, key order, extra/duplicate/missing keys, other value types, escapes in keys, trailing comma, raw control bytes. */
  const flatCase = fc
    .record({
      a: flatString,
      b: flatString,
      w: fc.array(ws, { minLength: 10, maxLength: 10 }),
      swap: fc.boolean(),
      miss: fc.constantFrom('none', 'none', 'none', 'extra', 'duplicate', 'missing', 'number', 'nested', 'keyEscape', 'trailingComma', 'rawTab', 'array'),
    })
    .map(({ a, b, w, swap, miss }) => {
      const members: string[] = [
        `"prompt"${w[1]}:${w[2]}${JSON.stringify(a)}`,
        `"completion"${w[3]}:${w[4]}${miss === 'number' ? '12' : miss === 'nested' ? '{"x":"y"}' : JSON.stringify(b)}`,
      ];
      if (swap) members.reverse();
      if (miss === 'extra') members.push(`"other"${w[5]}:${w[6]}"x"`);
      if (miss === 'duplicate') members.push(`"prompt":${JSON.stringify(b)}`);
      if (miss === 'missing') members.pop();
      if (miss === 'keyEscape') members[0] = members[0]!.replace(/^"(\w)/, '"\\u00$1');
      let body = members.join(`${w[7]},${w[8]}`);
      if (miss === 'trailingComma') body += ',';
      if (miss === 'rawTab') body = body.replace(/:(\s*)"/, ':$1"\t');
      const line = `${w[0]}{${w[9]}${body}}${w[5]}`;
      return { miss, line: miss === 'array' ? `[${line}]` : line };
    });
  const flatLine = flatCase.map((c) => c.line);

  it('agrees with the parsed items on flat lines, near misses and arbitrary bytes, for any chunking and line limit', async () => {
    const piece = fc.oneof(
      { weight: 4, arbitrary: flatLine.map((l) => [...utf8.encode(l)]) },
      { weight: 1, arbitrary: fc.array(fc.oneof(fc.constantFrom(0x0a, 0x0d, 0x22, 0x5c, 0x7b, 0x7d, 0x3a, 0x2c, 0x80, 0xbf, 0xc3, 0xa9, 0xed, 0xf0, 0xff), fc.integer({ min: 0, max: 255 })), { maxLength: 8 }) },
      { weight: 1, arbitrary: recordArb.map((r) => [...utf8.encode(JSON.stringify(r))]) },
      { weight: 3, arbitrary: fc.constantFrom([0x0a], [0x0a], [0x0d, 0x0a], BOM, [0xe2, 0x80, 0xa8], [0xf0, 0x9f, 0x98, 0x80], [0xff]) },
    );
    await fc.assert(
      fc.asyncProperty(
        fc.array(piece, { maxLength: 16 }).map((ps) => Uint8Array.from(ps.flat())),
        fc.oneof(fc.constant(undefined), fc.integer({ min: 1, max: 80 })),
        chunkingArb,
        async (bytes, max, chunking) => {
          // Prepare
          const chunks = chunked(bytes, chunking);

          // Act
          const items = await collect(chunks, { ...FLAT, ...(max === undefined ? {} : { maxLineBytes: max }) });

          // Assess
          expectAgrees(items, reference(bytes, max));
        },
      ),
      { numRuns: 800 },
    );
  });

  it('recognises every record of exactly the keys whose strings need no \\u escape, whatever the spacing and key order', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          flatCase.filter((c) => c.miss === 'none' && !c.line.includes('\\u')).map((c) => c.line),
          { minLength: 1, maxLength: 6 },
        ),
        fc.array(fc.nat(), { maxLength: 10 }),
        async (lines, cuts) => {
          // Prepare
          const bytes = utf8.encode(lines.join('\n'));

          // Act
          const items = await collect(cut(bytes, cuts), FLAT);

          // Assess
          expect(items.every((i) => 'chars' in i)).toBe(true);
          expectAgrees(items, reference(bytes));
        },
      ),
      { numRuns: 300 },
    );
  });

  const RECORD = '{"prompt":"é😀","completion":"中 ok"}'; // 2 + 4 code points
  const RECORD_BYTES = utf8.encode(RECORD).length;

  it('counts a record whose multi-byte characters are split across chunks, at every cut', async () => {
    const bytes = utf8.encode(`${RECORD}\n${RECORD}`);
    for (let at = 1; at < bytes.length; at++) {
      // Act
      const items = await collect([bytes.slice(0, at), bytes.slice(at)], FLAT);

      // Assess
      expect(items).toEqual([
        { line: 1, chars: 6, bytes: RECORD_BYTES },
        { line: 2, chars: 6, bytes: RECORD_BYTES },
      ]);
    }
    expect(await collect(oneByteChunks(bytes), FLAT)).toEqual([
      { line: 1, chars: 6, bytes: RECORD_BYTES },
      { line: 2, chars: 6, bytes: RECORD_BYTES },
    ]);
  });

  it('drops the CR of a CRLF split between chunks, and keeps a lone CR at the end of the file as whitespace', async () => {
    // Prepare: the CR ends the first chunk, the LF starts the second
    const bytes = utf8.encode(`${RECORD}\r\n${RECORD}\r`);
    const at = RECORD_BYTES + 1;

    // Act
    const items = await collect([bytes.slice(0, at), bytes.slice(at)], FLAT);

    // Assess
    expect(items).toEqual([
      { line: 1, chars: 6, bytes: RECORD_BYTES },
      { line: 2, chars: 6, bytes: RECORD_BYTES + 1 },
    ]);
  });

  it('counts a line longer than a chunk, and a last line without newline', async () => {
    // Prepare: a 200 KB completion in 64 KiB chunks
    const long = `${'x'.repeat(100_000)}é${'y'.repeat(100_000)}`;
    const bytes = utf8.encode(`${JSON.stringify({ prompt: 'p', completion: long })}\n${RECORD}`);
    const chunks: Uint8Array[] = [];
    for (let i = 0; i < bytes.length; i += 65_536) chunks.push(bytes.slice(i, i + 65_536));

    // Act
    const items = await collect(chunks, FLAT);

    // Assess
    expect(items).toEqual([
      { line: 1, chars: 1 + 200_001, bytes: bytes.indexOf(0x0a) },
      { line: 2, chars: 6, bytes: RECORD_BYTES },
    ]);
  });

  it('reports invalid UTF-8 inside a flat record as invalid-utf8 of its line, and counts the lines around it', async () => {
    // Prepare
    const bad = Uint8Array.from([...utf8.encode(`${RECORD}\n{"prompt":"a","completion":"`), 0xc3, ...utf8.encode(`"}\n${RECORD}\n`)]);

    // Act: one chunk (the region check fails: line by line), 1-byte chunks, and cuts around the bad byte
    for (const chunks of [[bad], oneByteChunks(bad), cut(bad, [RECORD_BYTES + 20, RECORD_BYTES + 31])]) {
      const items = await collect(chunks, FLAT);

      // Assess
      expect(items).toEqual([
        { line: 1, chars: 6, bytes: RECORD_BYTES },
        { line: 2, error: 'invalid-utf8', message: 'line is not valid UTF-8', bytes: 31 },
        { line: 3, chars: 6, bytes: RECORD_BYTES },
      ]);
    }
  });

  it('scanFlatRecord: every ASCII byte at every offset of a plain run is judged as JSON.parse judges it', () => {
    const keys = KEYS.map((k) => utf8.encode(k));
    for (let c = 0; c < 0x80; c++) {
      for (let at = 0; at < 12; at++) {
        // Prepare: a 12-byte value of 'a's with byte c at offset `at`, the line at offsets 0 to 3 of its buffer
        const value = Uint8Array.from({ length: 12 }, (_, i) => (i === at ? c : 0x61));
        const line = Uint8Array.from([...utf8.encode('{"prompt":"'), ...value, ...utf8.encode('","completion":"x"}')]);
        let parsed: unknown;
        try {
          parsed = JSON.parse(Buffer.from(line).toString('latin1'));
        } catch {
          parsed = undefined;
        }
        const expected = parsed === undefined ? undefined : 13;
        for (let shift = 0; shift < 4; shift++) {
          const buffer = new Uint8Array(line.length + shift);
          buffer.set(line, shift);

          // Act / Assess
          expect(scanFlatRecord(buffer, shift, buffer.length, keys), `byte 0x${c.toString(16)} at ${at}, shift ${shift}`).toBe(expected);
        }
      }
    }
  });

  it('refuses keys it cannot match on bytes', () => {
    for (const keys of [[], ['a', 'a'], [''], ['é'], ['a"b'], ['a\\b']]) {
      expect(() => new JsonlSplitter({ flatRecordKeys: keys })).toThrow(RangeError);
    }
  });
});
