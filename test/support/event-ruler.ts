/**
 * EventBridge pattern matching for tests, by AWS's own matcher: event-ruler (Java, Maven Central), the
 * library EventBridge's pattern language comes from. `scripts/ensure-event-ruler.mjs` fetches it into
 * `.cache/event-ruler` and compiles `test/support/event-ruler/MatchPatterns.java`; `matchPatterns`
 * sends all pairs to one JVM (about half a second) and returns one boolean per pair, in order.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from '../../local/paths.js';

export type Pair = { pattern: unknown; event: unknown };

const cache = join(projectRoot, '.cache', 'event-ruler');

/** Whether each event matches its pattern, as EventBridge decides it. An invalid pattern throws. */
export function matchPatterns(pairs: Pair[]): boolean[] {
  // `npm test` runs it as pretest; again here (a no-op when up to date) so a lone `vitest run` works.
  execFileSync(process.execPath, [join(projectRoot, 'scripts', 'ensure-event-ruler.mjs')], { stdio: ['ignore', 'inherit', 'inherit'] });
  const out = execFileSync('java', ['-cp', `${join(cache, 'classes')}:${join(cache, 'lib', '*')}`, 'MatchPatterns'], {
    input: JSON.stringify(pairs),
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  const results = JSON.parse(out) as (boolean | { error: string })[];
  if (results.length !== pairs.length) throw new Error(`event-ruler answered ${results.length} of ${pairs.length} pairs`);
  return results.map((r, i) => {
    if (typeof r !== 'boolean') throw new Error(`event-ruler rejected the pattern of pair ${i}: ${r.error}\n${JSON.stringify(pairs[i]!.pattern)}`);
    return r;
  });
}

/** The `event` of a fixture under test/fixtures/events (AWS's documented sample), as a fresh deep copy. */
export function fixtureEvent(name: string): Record<string, any> {
  const fixture = JSON.parse(readFileSync(join(projectRoot, 'test', 'fixtures', 'events', `${name}.json`), 'utf8')) as {
    event: Record<string, any>;
  };
  return fixture.event;
}
