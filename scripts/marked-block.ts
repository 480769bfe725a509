/**
 * A generated block of a document, between a start and an end marker (`<!-- name:start -->` …
 * `<!-- name:end -->`): docs/state-machine.md's diagram (scripts/diagram.ts), docs/errors.md's sections
 * (scripts/docs.ts) and docs/benchmarks.md's figures (scripts/bench/bench-doc.ts). The staleness tests
 * read the block back and compare it with a fresh rendering.
 */
export interface Markers {
  start: string;
  end: string;
}

/** The text between the markers (without the newline after the start marker), or undefined. */
export function markedBlock(doc: string, { start, end }: Markers): string | undefined {
  const from = doc.indexOf(start);
  const to = doc.indexOf(end);
  if (from < 0 || to < from) return undefined;
  return doc.slice(from + start.length, to).replace(/^\n/, '');
}

/** `doc` with the block between the markers replaced; throws unless each marker is there once, in order. */
export function replaceMarkedBlock(doc: string, { start, end }: Markers, block: string, docName: string): string {
  const from = doc.indexOf(start);
  const to = doc.indexOf(end);
  if (from < 0 || to < from || doc.indexOf(start, from + 1) >= 0 || doc.indexOf(end, to + 1) >= 0)
    throw new Error(`${docName} must hold the markers ${start} then ${end}, once each`);
  return `${doc.slice(0, from + start.length)}\n${block}${doc.slice(to)}`;
}
