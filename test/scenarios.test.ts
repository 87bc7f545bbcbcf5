import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runScenario } from './scenarioRunner.js';

const folder = join(import.meta.dirname, 'scenarios');
const files = readdirSync(folder).filter((f) => f.endsWith('.jsonl'));

describe('scenario files', () => {
  it('there are scenarios to run', () => {
    expect(files.length).toBeGreaterThanOrEqual(5);
  });

  it.each(files)('%s', (file) => {
    const { commands, checks } = runScenario(join(folder, file));
    expect(commands).toBeGreaterThan(0);
    expect(checks).toBeGreaterThan(0);
  });
});
