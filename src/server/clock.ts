/**
 * The service's clock rule for command and quote times: a key other than a risk-admin's may not
 * date a command ahead of the service's wall clock by more than `clockSkewSeconds`. The engine
 * refuses time going backwards, so one command dated a year ahead would accrue a year of
 * interest for everyone and leave every honest client refused (`time_went_backwards`). Past
 * times stay allowed (replayed market time, a feed catching up): the engine orders them.
 */
import type { Role } from './config.js';
import { HttpError } from './errors.js';

/** Throws `time_ahead` (422) when `time` is too far ahead of `nowMs` for `role`. */
export function checkCommandTime(
  role: Role,
  time: number,
  nowMs: number,
  skewSeconds: number,
): void {
  if (role === 'risk-admin') return;
  const now = Math.floor(nowMs / 1_000);
  if (time <= now + skewSeconds) return;
  throw new HttpError(
    422,
    'time_ahead',
    `the time ${time} is ${time - now} s ahead of the service's clock; at most ${skewSeconds} s (clockSkewSeconds)`,
    { field: 'time' },
  );
}
