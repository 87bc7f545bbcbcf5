/** Numbers for people: the service's exact decimal strings shown rounded, never computed on. */

const money = new Intl.NumberFormat('en-US', {
  style: 'currency',
  currency: 'USD',
  maximumFractionDigits: 0,
});
const price = new Intl.NumberFormat('en-US', {
  maximumFractionDigits: 2,
  minimumFractionDigits: 2,
});
const amounts = [0, 1, 2, 3, 4].map(
  (digits) => new Intl.NumberFormat('en-US', { maximumFractionDigits: digits }),
);

/** A value in the quote unit, to the dollar. */
export function formatMoney(text: string | null | undefined): string {
  if (text === null || text === undefined) return '—';
  return money.format(Number(text));
}

export function formatPrice(text: string | null | undefined): string {
  if (text === null || text === undefined) return '—';
  return price.format(Number(text));
}

/** An amount of an asset, to at most `digits` (0 to 4) decimals. */
export function formatAmount(text: string, digits = 4): string {
  return (amounts[digits] ?? (amounts[4] as Intl.NumberFormat)).format(Number(text));
}

/** A health factor to three decimals; null (no debt) as infinity. */
export function formatHealth(text: string | null | undefined): string {
  if (text === undefined) return '—';
  if (text === null) return '∞';
  return Number(text).toFixed(3);
}

/** A fraction as a percentage. */
export function formatPercent(text: string, digits = 2): string {
  return `${(Number(text) * 100).toFixed(digits)}%`;
}

/** The class a health factor is drawn in: below 1 liquidatable, below 1.1 at risk. */
export function healthClass(text: string | null | undefined): string {
  if (text === null || text === undefined) return 'health';
  const value = Number(text);
  return value < 1 ? 'health danger' : value < 1.1 ? 'health warn' : 'health ok';
}

/** Unix seconds as a UTC date and time. */
export function formatTime(seconds: number): string {
  return new Date(seconds * 1000).toISOString().slice(0, 16).replace('T', ' ');
}
