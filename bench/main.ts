/**
 * `npm run bench`: Fulcrum's figures, each beside a baseline measured in the same run, with the
 * machine noted. Results also go to bench/results/latest.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { formatRate, machine } from './harness.js';
import { healthBenchmarks } from './healthBench.js';

function main(): void {
  console.log(`Fulcrum benchmarks on ${machine()}\n`);
  const health = healthBenchmarks();
  const baseline = health.at(-1)?.perSecond ?? 1;
  for (const m of health) {
    console.log(
      `${m.name.padEnd(76)} ${formatRate(m.perSecond).padStart(11)}  ${(m.perSecond / baseline).toFixed(0).padStart(5)}x`,
    );
  }
  const folder = join(process.cwd(), 'bench', 'results');
  mkdirSync(folder, { recursive: true });
  writeFileSync(
    join(folder, 'latest.json'),
    `${JSON.stringify({ machine: machine(), health }, null, 2)}\n`,
  );
}

main();
