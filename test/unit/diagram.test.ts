/**
 * The Mermaid diagram in README.md is the one scripts/diagram.ts draws from the ASL file now, it shows
 * every state and every transition of it, and the generator's rules are pinned on a small definition.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  compactErrors,
  conditionText,
  currentDiagram,
  escapeLabel,
  readmeBlock,
  readmeDiagramBlock,
  diagramPagePath,
  renderDiagram,
  replaceReadmeBlock,
  type Definition,
} from '../../scripts/diagram.js';
import { loadDefinition } from '../../local/workflow.js';

const definition = loadDefinition() as unknown as Definition;
const diagram = currentDiagram();
const lines = diagram.split('\n');

/** The edges of the diagram as `from -> to` (node ids), whatever their style or label. */
const edges = new Set(
  lines.flatMap((line) => {
    const m = /^ {2}(\S+) (?:-->|-\.->)(?:\|"[^"]*"\|)? (\S+)$/.exec(line);
    return m ? [`${m[1]} -> ${m[2]}`] : [];
  }),
);

describe('state machine diagram (docs/state-machine.md)', () => {
  it('is the diagram of the ASL file as it is now', () => {
    const readme = readFileSync(diagramPagePath, 'utf8');
    const block = readmeDiagramBlock(readme);
    expect(block, 'docs/state-machine.md has no <!-- state-machine-diagram:start/end --> markers').toBeDefined();
    expect(block, 'The diagram in docs/state-machine.md is stale: run `npm run diagram`').toBe(readmeBlock(diagram));
  });

  it('shows every state as a node (ids are the state names here)', () => {
    for (const name of Object.keys(definition.States)) {
      expect(lines.some((l) => l.startsWith(`  ${name}`) && '[({'.includes(l.charAt(name.length + 2))), `no node for ${name}`).toBe(true);
    }
  });

  it('shows StartAt and every Next, Choice rule, Default and Catch target as an edge', () => {
    const expected = [`START -> ${definition.StartAt}`];
    for (const [name, state] of Object.entries(definition.States)) {
      if (typeof state.Next === 'string') expected.push(`${name} -> ${state.Next}`);
      if (typeof state.Default === 'string') expected.push(`${name} -> ${state.Default}`);
      for (const rule of (state.Choices as { Next: string }[] | undefined) ?? []) expected.push(`${name} -> ${rule.Next}`);
      for (const c of (state.Catch as { Next: string }[] | undefined) ?? []) expected.push(`${name} -> ${c.Next}`);
      if (state.End === true || state.Type === 'Succeed' || state.Type === 'Fail') expected.push(`${name} -> END`);
    }
    expect(expected.filter((e) => !edges.has(e))).toEqual([]);
  });
});

describe('the generator', () => {
  it('draws a small definition exactly (Choice rules, Default, Catch, Retry, Wait, Fail, End)', () => {
    const small: Definition = {
      StartAt: 'Poll',
      States: {
        Poll: {
          Type: 'Task',
          Resource: { 'Fn::GetAtt': ['poll', 'Arn'] },
          Retry: [{ ErrorEquals: ['Lambda.ServiceException', 'Lambda.Unknown', 'Lambda.SdkClientException', 'Busy.Error'] }],
          Catch: [
            { ErrorEquals: ['StopError'], Next: 'Stuck' },
            { ErrorEquals: ['States.ALL'], Next: 'Failed "badly"' },
          ],
          Next: 'Decide',
        },
        Decide: {
          Type: 'Choice',
          Choices: [
            { Variable: '$.poll.next', StringEquals: 'wait', Next: 'Pause' },
            { Or: [{ Variable: '$.s', StringEquals: 'a' }, { Variable: '$.s', StringEquals: 'b' }], Next: 'end' },
            { Not: { Variable: '$.x', IsPresent: true }, Next: 'Failed "badly"' },
            { And: [{ Variable: '$.n', NumericGreaterThan: 3 }, { Variable: '$.a.b.c.d', StringEqualsPath: '$.e' }], Next: 'Stuck' },
          ],
          Default: 'Failed "badly"',
        },
        Pause: { Type: 'Wait', Seconds: 5, Next: 'Poll' },
        end: { Type: 'Pass', End: true },
        Stuck: { Type: 'Succeed' },
        'Failed "badly"': { Type: 'Fail', Error: 'X' },
      },
    };
    expect(renderDiagram(small)).toBe(
      [
        'flowchart TD',
        '  START(("start"))',
        '  END((("end")))',
        '  Poll["Poll<br/>retry: Lambda.* (3), Busy.Error"]',
        '  Decide{"Decide"}',
        '  Pause{{"Pause"}}',
        '  state_end("end")',
        '  Stuck(["Stuck"])',
        '  Failed__badly_(["Failed #quot;badly#quot;"])',
        '  START --> Poll',
        '  Poll --> Decide',
        '  Poll -.->|"StopError"| Stuck',
        '  Poll -.->|"States.ALL"| Failed__badly_',
        '  Decide -->|"$.poll.next == wait"| Pause',
        '  Decide -->|"$.s in (a, b)"| state_end',
        '  Decide -->|"$.x absent"| Failed__badly_',
        '  Decide -->|"$.n #gt; 3 and $…c.d == $.e"| Stuck',
        '  Decide -->|"default"| Failed__badly_',
        '  Pause --> Poll',
        '  state_end --> END',
        '  Stuck --> END',
        '  Failed__badly_ --> END',
        '  classDef choice fill:#fff4d6,stroke:#c9a227',
        '  classDef wait fill:#e8f0fe,stroke:#5b7fd6',
        '  classDef pass fill:#f1f1f1,stroke:#888',
        '  classDef succeed fill:#dff5e1,stroke:#2e8b3d',
        '  classDef fail fill:#fde2e1,stroke:#c0392b',
        '  class Decide choice',
        '  class Pause wait',
        '  class state_end pass',
        '  class Stuck succeed',
        '  class Failed__badly_ fail',
        '',
      ].join('\n'),
    );
  });

  it('writes conditions compactly', () => {
    expect(conditionText({ Variable: '$.v', BooleanEquals: false })).toBe('$.v == false');
    expect(conditionText({ Variable: '$.v', NumericLessThanEquals: 2 })).toBe('$.v <= 2');
    expect(conditionText({ Variable: '$.v', IsNull: false })).toBe('$.v not null');
    expect(conditionText({ Variable: '$.v', StringMatches: 'a*' })).toBe('$.v matches a*');
    expect(conditionText({ Not: { Or: [{ Variable: '$.a', IsPresent: true }, { Variable: '$.b', NumericEquals: 1 }] } })).toBe(
      'not ($.a present or $.b == 1)',
    );
    expect(conditionText({ Or: [{ Variable: '$.a', StringEquals: 'x' }, { Not: { Variable: '$.b', IsPresent: true } }] })).toBe('$.a == x or $.b absent');
  });

  it('keeps labels safe for Mermaid and error lists short', () => {
    expect(escapeLabel('a "b" {c} | d; #e <f> `g` & [h]')).toBe('a #quot;b#quot; #123;c#125; #124; d#59; #35;e #lt;f#gt; #96;g#96; #amp; #91;h#93;');
    expect(compactErrors(['A', 'B'])).toBe('A, B');
    expect(compactErrors(['X.LongErrorNameOne', 'Other', 'X.LongErrorNameTwo', 'Y.Single'])).toBe('X.* (2), Other, Y.Single');
  });

  it('replaces only the block between the markers', () => {
    const readme = 'before\n<!-- state-machine-diagram:start -->\nold\n<!-- state-machine-diagram:end -->\nafter\n';
    expect(replaceReadmeBlock(readme, '```mermaid\nx\n```\n')).toBe(
      'before\n<!-- state-machine-diagram:start -->\n```mermaid\nx\n```\n<!-- state-machine-diagram:end -->\nafter\n',
    );
    expect(() => replaceReadmeBlock('no markers', 'x')).toThrow(/markers|must hold/);
  });
});
