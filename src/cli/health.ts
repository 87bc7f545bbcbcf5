/** `fulcrum health FILE|-`: evaluates one portfolio given as JSON and prints its report as JSON. */

import { parsePortfolio } from '../margin/portfolio.js';
import { healthReport, renderHealthReport } from '../margin/report.js';
import { parseJson, readInput } from './io.js';

export function healthCommand(path: string): string {
  const input = parseJson(readInput(path), path === '-' ? 'standard input' : path);
  const { positions } = parsePortfolio(input);
  return `${JSON.stringify(renderHealthReport(healthReport(positions)), null, 2)}\n`;
}
