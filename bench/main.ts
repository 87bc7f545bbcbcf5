/**
 * `npm run bench`: Fulcrum's figures, each beside a baseline measured in the same run, with the
 * machine noted. Results also go to bench/results/latest.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { commandBenchmarks } from './commandBench.js';
import { formatRate, type Measurement, machine } from './harness.js';
import { healthBenchmarks } from './healthBench.js';

/** Prints a section; ratios are against its last line, the baseline. */
function section(title: string, measurements: readonly Measurement[]): void {
  const baseline = measurements.at(-1)?.perSecond ?? 1;
  console.log(`${title}\n${'-'.repeat(title.length)}`);
  for (const m of measurements) {
    const ratio = m.perSecond / baseline;
    const shown = ratio >= 10 ? ratio.toFixed(0) : ratio.toFixed(2);
    console.log(
      `${m.name.padEnd(72)} ${formatRate(m.perSecond).padStart(11)}  ${shown.padStart(6)}x`,
    );
  }
  console.log('');
}

function main(): void {
  console.log(`Fulcrum benchmarks on ${machine()}; ratios against each section's last line\n`);
  const health = healthBenchmarks();
  section('Health of 5-position accounts (3 deposits, 2 debts)', health);
  const commands = commandBenchmarks();
  section('In-memory commands, one core', commands.measurements);
  console.log(
    `(${commands.accepted} of ${commands.total} mixed commands accepted; the rest refused)\n`,
  );
  const folder = join(process.cwd(), 'bench', 'results');
  mkdirSync(folder, { recursive: true });
  const results = { machine: machine(), health, commands: commands.measurements };
  writeFileSync(join(folder, 'latest.json'), `${JSON.stringify(results, null, 2)}\n`);
}

main();
