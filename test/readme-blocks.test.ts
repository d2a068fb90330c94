/**
 * The README block parser behind test/readme.test.ts: line numbers, languages, and the markers
 * that keep a block from running, whose reason is required.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { readmeBlocks } from './helpers/readme-blocks.js';

const markdown = [
  '# Title', // 1
  '', // 2
  '```ts', // 3
  "const a = 'run';", // 4
  '```', // 5
  '<!-- readme-test: skip: starts a server in the foreground -->', // 6
  '', // 7
  '```sh', // 8
  'npx holdfast server', // 9
  '```', // 10
  '<!-- readme-test: compile-only: a fragment of the example above -->', // 11
  '```TypeScript', // 12
  'lease.fence;', // 13
  '```', // 14
  '<!-- readme-test: skip -->', // 15
  '```php', // 16
  'echo 1;', // 17
  '```', // 18
  '- a list item:', // 19
  '  ```sh', // 20
  '  echo indented', // 21
  '  ```', // 22
  '```', // 23
  'src/ layout', // 24
  '```', // 25
  '```js', // 26
  'never closed', // 27
].join('\n');

describe('README code blocks', () => {
  const blocks = readmeBlocks(markdown);

  it('finds every fenced block with the line of its fence and its language', () => {
    assert.deepEqual(
      blocks.map((block) => [block.line, block.lang]),
      [
        [3, 'ts'],
        [8, 'sh'],
        [12, 'typescript'],
        [16, 'php'],
        [20, 'sh'],
        [23, ''],
        [26, 'js'],
      ],
    );
    assert.equal(blocks[0]?.code, "const a = 'run';\n");
    assert.equal(blocks[4]?.code, 'echo indented\n', 'the list indentation is removed');
  });

  it('reads the markers above a block, blank lines allowed, with their reasons', () => {
    assert.deepEqual(blocks[0]?.marker, { kind: 'run' });
    assert.deepEqual(blocks[1]?.marker, { kind: 'skip', reason: 'starts a server in the foreground' });
    assert.deepEqual(blocks[2]?.marker, { kind: 'compile-only', reason: 'a fragment of the example above' });
    assert.deepEqual(blocks[4]?.marker, { kind: 'run' }, 'a marker belongs only to the block right below it');
  });

  it('reports a marker without a reason, and a fence never closed', () => {
    assert.match(blocks[3]?.problem ?? '', /^line 15: a marker is .*REASON/);
    assert.match(blocks[6]?.problem ?? '', /line 26 is never closed/);
    assert.equal(blocks.filter((block) => block.problem !== undefined).length, 2);
  });
});
