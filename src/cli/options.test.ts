import { describe, expect, it } from 'vitest';
import { CliError, EXIT } from './io.js';
import { dateOption, numberOption, optionalNumber } from './options.js';

/** The usage error `attempt` throws, or a failure when it throws none. */
function refusal(attempt: () => unknown): CliError {
  try {
    attempt();
  } catch (error) {
    expect(error).toBeInstanceOf(CliError);
    return error as CliError;
  }
  throw new Error('nothing was refused');
}

describe('numberOption: one strict reading of every numeric option', () => {
  const accounts = { min: 1, max: 2_000_000, whole: true } as const;
  const share = { min: 0, max: 10, above: true } as const;

  it('reads plain decimals and whole numbers', () => {
    expect(numberOption('300', 'accounts', accounts)).toBe(300);
    expect(numberOption('0.25', 'liquidity', share)).toBe(0.25);
    expect(numberOption('10', 'liquidity', share)).toBe(10);
    expect(optionalNumber(undefined, 'accounts', accounts, 7)).toBe(7);
  });

  it.each([
    '0x10', // Number reads it as 16
    ' 1', // Number trims it
    '1 ',
    '1e3', // an exponent
    '1E3',
    'NaN',
    'Infinity',
    '+1',
    '01', // a leading zero
    '1.',
    '.5',
    '1_000',
    '١', // an Arabic-Indic digit
    '',
  ])('refuses %j as a whole number, naming the option', (text) => {
    const error = refusal(() => numberOption(text, 'accounts', accounts));
    expect(error.exitCode).toBe(EXIT.usage);
    expect(error.code).toBe('invalid_number');
    expect(error.field).toBe('--accounts');
    expect(error.message).toContain(JSON.stringify(text));
  });

  it('refuses fractions where whole numbers are asked, and numbers out of range', () => {
    expect(refusal(() => numberOption('1.5', 'accounts', accounts)).message).toMatch(
      /--accounts must be a whole number/,
    );
    expect(refusal(() => numberOption('0', 'accounts', accounts)).message).toMatch(
      /--accounts must be a whole number from 1 to 2000000 \(got "0"\)/,
    );
    expect(refusal(() => numberOption('0', 'liquidity', share)).message).toMatch(
      /above 0 and at most 10/,
    );
    expect(refusal(() => numberOption('10.000001', 'liquidity', share)).message).toMatch(
      /above 0 and at most 10/,
    );
    expect(refusal(() => numberOption('-1', 'liquidity', share)).message).toMatch(
      /--liquidity must not be negative/,
    );
    // Past the largest safe integer, a whole number is refused, not rounded.
    expect(() =>
      numberOption('9007199254740993', 'seed', { min: 0, max: Number.MAX_VALUE, whole: true }),
    ).toThrow(CliError);
    // A number of 300 digits is Infinity to Number: out of every range.
    expect(() => numberOption(`1${'0'.repeat(300)}`, 'liquidity', share)).toThrow(CliError);
  });

  it('quotes a long value cut short', () => {
    const error = refusal(() => numberOption('9'.repeat(100_000), 'accounts', accounts));
    expect(error.message.length).toBeLessThan(200);
    expect(error.message).toContain('(100000 characters)');
  });
});

describe('dateOption: a real instant or a refusal, never a rolled-over date', () => {
  it('reads dates and times in UTC', () => {
    expect(dateOption('2020-03-12', 'from')).toBe(Date.UTC(2020, 2, 12) / 1000);
    expect(dateOption('2020-03-12T06:00Z', 'from')).toBe(Date.UTC(2020, 2, 12, 6) / 1000);
    expect(dateOption('2020-02-29T23:59:59Z', 'to')).toBe(Date.UTC(2020, 1, 29, 23, 59, 59) / 1000);
  });

  it.each([
    '2021-02-30', // Date.parse gives 2 March
    '2021-02-29', // not a leap year
    '2020-04-31',
    '2020-13-01',
    '2020-00-10',
    '2020-03-12T24:00:00Z', // Date.parse gives the next day
    '2020-03-12T23:60:00Z',
    '2020-03-12T23:59:60Z',
    '2020-03-12T06:00:00', // no zone: local time to Date.parse
    '2020-03-12T06:00:00+02:00',
    '2020-03-12T06:00:00.5Z', // not a whole second
    '1969-12-31',
    '0000-01-01',
    '+020200-01-01',
    '12/03/2020',
    'March 2020',
    '1583971200',
    '',
  ])('refuses %j naming the option', (text) => {
    const error = refusal(() => dateOption(text, 'from'));
    expect(error.exitCode).toBe(EXIT.usage);
    expect(error.field).toBe('--from');
  });
});
