/** Plain-text tables for the command line: columns padded, numbers right-aligned. */

export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  // A loop, not `Math.max(...column)`: spreading a long column overflows the stack.
  const widths = header.map((h) => h.length);
  for (const row of rows) {
    header.forEach((_, i) => {
      widths[i] = Math.max(widths[i] ?? 0, (row[i] ?? '').length);
    });
  }
  const numeric = header.map(
    (_, i) => rows.length > 0 && rows.every((r) => /^-?[0-9.,%x]*$/.test(r[i] ?? '')),
  );
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, i) => (numeric[i] ? cell.padStart(widths[i] ?? 0) : cell.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

/** A decimal string cut to `places` fractional digits for display (never for computation). */
export function shorten(decimal: string | null, places = 4): string {
  if (decimal === null) return '-';
  const [whole, fraction = ''] = decimal.split('.');
  const cut = fraction.slice(0, places).replace(/0+$/, '');
  return cut.length > 0 ? `${whole}.${cut}` : (whole ?? decimal);
}
