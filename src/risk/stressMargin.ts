/**
 * Margin that tightens under stress: a controller per asset that multiplies the haircuts when
 * short-term volatility runs well above the calm level the weights were calibrated on.
 *
 * Weights calibrated on calm days (`haircut.ts`) are too loose in a crash: on 12 March 2020
 * ETH's hourly volatility was five times that of the week before. The controller watches the
 * realized price, keeps a short EWMA of squared log returns per second, and compares it with the
 * calm baseline:
 *
 *   ratio = σ_short / σ_baseline
 *   stressed once ratio >= enterRatio; calm again once ratio < exitRatio (hysteresis)
 *   target m* = clamp(1 + sensitivity × (ratio − 1), 1, maxMultiplier) when stressed, else 1
 *
 * With sensitivity 1 the target haircut grows in proportion to volatility, as the haircut
 * formula itself does. Decisions are taken at most every `updateSeconds`; the multiplier moves
 * toward m* by at most `maxStepUp` per decision when tightening, and by at most `relaxPerHour`,
 * prorated over the time since the last decision (at most an hour's worth), when relaxing. So
 * accounts get warning of a tightening through several steps, and margin comes back slowly,
 * after the storm rather than between two of its waves.
 *
 * The multiplier is an integer in parts per million, so weights derived from it are exact.
 * Ratios are float64: the same observations give the same decisions on the same JavaScript
 * engine (engines may differ in the last bit of `Math.log`).
 */
import { FulcrumError } from '../base/errors.js';
import { type TierWeights } from '../domain/asset.js';
import { divCeil, WEIGHT_SCALE } from '../math/fixed.js';
import { YEAR_SECONDS } from '../math/time.js';

/** The controller's parameters. */
export interface StressMarginConfig {
  /** Half-life of the short EWMA of squared returns, seconds. */
  readonly halfLifeSeconds: number;
  /** Stressed once σ_short / σ_baseline reaches this. */
  readonly enterRatio: number;
  /** Calm again once the ratio falls below this (at most enterRatio). */
  readonly exitRatio: number;
  /** Slope of the target multiplier in the ratio: m* = 1 + sensitivity × (ratio − 1). */
  readonly sensitivity: number;
  /** Largest multiplier of the haircuts. */
  readonly maxMultiplier: number;
  /** Seconds between two decisions at least. */
  readonly updateSeconds: number;
  /** Largest rise of the multiplier in one decision. */
  readonly maxStepUp: number;
  /** Largest fall of the multiplier per hour. */
  readonly relaxPerHour: number;
}

/**
 * Defaults: a one-hour half-life sees a crash within the hour without reacting to one wild
 * minute; entering at twice the calm volatility and leaving at 1.5 times keeps the regime from
 * flickering; at most three times the calm haircuts (a 6% maintenance haircut becomes 18%, close
 * to ETH's worst hour on Black Thursday, −21%); a decision every five minutes, each tightening by at
 * most 0.25 (from 1 to 3 in forty minutes); relaxing by 0.1 an hour (from 3 back to 1 in
 * twenty hours).
 */
export const DEFAULT_STRESS_MARGIN_CONFIG: StressMarginConfig = {
  halfLifeSeconds: 3600,
  enterRatio: 2,
  exitRatio: 1.5,
  sensitivity: 1,
  maxMultiplier: 3,
  updateSeconds: 300,
  maxStepUp: 0.25,
  relaxPerHour: 0.1,
};

/** The multiplier 1.0 in parts per million. */
export const MULTIPLIER_ONE_PPM = 1_000_000n;

/** Largest multiplier a configuration may allow: beyond it every haircut is 100% anyway. */
export const MAX_MULTIPLIER_LIMIT = 1_000;

export type StressRegime = 'calm' | 'stressed';

/** A change of the multiplier, with the figures that decided it. */
export interface StressDecision {
  /** Unix seconds of the observation that decided. */
  readonly time: number;
  readonly asset?: string;
  readonly previousPpm: bigint;
  readonly multiplierPpm: bigint;
  readonly shortVolAnnual: number;
  readonly baselineVolAnnual: number;
  readonly ratio: number;
  readonly regime: StressRegime;
}

const HOUR_SECONDS = 3600;

/**
 * Checks a configuration, throwing `invalid_config` naming the first bad field.
 *
 * @example
 * validateStressMarginConfig({ ...DEFAULT_STRESS_MARGIN_CONFIG, exitRatio: 3 }); // throws: exitRatio
 */
export function validateStressMarginConfig(config: StressMarginConfig): void {
  const fail = (field: keyof StressMarginConfig, rule: string): never => {
    throw new FulcrumError('invalid_config', `stress margin: ${field} ${rule}`, field);
  };
  const positive = (v: number) => Number.isFinite(v) && v > 0;
  if (!positive(config.halfLifeSeconds)) fail('halfLifeSeconds', 'must be positive');
  if (!(Number.isFinite(config.enterRatio) && config.enterRatio >= 1))
    fail('enterRatio', 'must be at least 1');
  if (!positive(config.exitRatio)) fail('exitRatio', 'must be positive');
  if (config.exitRatio > config.enterRatio) fail('exitRatio', 'must not exceed enterRatio');
  if (!(Number.isFinite(config.sensitivity) && config.sensitivity >= 0))
    fail('sensitivity', 'must be at least 0');
  if (
    !(config.maxMultiplier >= 1 && config.maxMultiplier <= MAX_MULTIPLIER_LIMIT) ||
    Number.isNaN(config.maxMultiplier)
  )
    fail('maxMultiplier', `must be between 1 and ${MAX_MULTIPLIER_LIMIT}`);
  if (!(Number.isFinite(config.updateSeconds) && config.updateSeconds >= 0))
    fail('updateSeconds', 'must be at least 0');
  if (!(positive(config.maxStepUp) && config.maxStepUp >= 1e-6))
    fail('maxStepUp', 'must be at least 0.000001');
  if (!(positive(config.relaxPerHour) && config.relaxPerHour >= 1e-6))
    fail('relaxPerHour', 'must be at least 0.000001');
}

/**
 * One asset's stress controller. Feed it the realized price at each step with {@link observe};
 * read the multiplier from {@link multiplierPpm} and apply it with {@link stressedWeights}.
 *
 * @example
 * const stress = new StressMargin({}, 0.9, 'ETH');
 * stress.observe(1_583_971_200, 194.61); // null: nothing to compare with yet
 */
export class StressMargin {
  readonly config: StressMarginConfig;
  readonly baselineVolAnnual: number;
  readonly asset: string | undefined;
  private ppm = MULTIPLIER_ONE_PPM;
  private state: StressRegime = 'calm';
  /** EWMA of squared log returns per second; starts at the baseline's. */
  private variancePerSecond: number;
  private lastTime: number | undefined;
  private lastPrice = 0;
  private lastDecisionTime = 0;
  private readonly maxPpm: bigint;
  private readonly stepUpPpm: bigint;
  private readonly relaxPerHourPpm: number;

  constructor(config: Partial<StressMarginConfig>, baselineVolAnnual: number, asset?: string) {
    this.config = { ...DEFAULT_STRESS_MARGIN_CONFIG, ...config };
    validateStressMarginConfig(this.config);
    if (!(Number.isFinite(baselineVolAnnual) && baselineVolAnnual > 0)) {
      throw new FulcrumError(
        'invalid_config',
        'stress margin: baselineVolAnnual must be positive',
        'baselineVolAnnual',
      );
    }
    this.baselineVolAnnual = baselineVolAnnual;
    this.asset = asset;
    this.variancePerSecond = (baselineVolAnnual * baselineVolAnnual) / YEAR_SECONDS;
    // Limits rounded down, so the controller never moves further than configured.
    this.maxPpm = BigInt(Math.floor(this.config.maxMultiplier * 1e6));
    this.stepUpPpm = BigInt(Math.floor(this.config.maxStepUp * 1e6));
    this.relaxPerHourPpm = Math.floor(this.config.relaxPerHour * 1e6);
  }

  /** The multiplier of the haircuts, parts per million (1_000_000 = 1). */
  get multiplierPpm(): bigint {
    return this.ppm;
  }

  get regime(): StressRegime {
    return this.state;
  }

  /** The short EWMA volatility, annualized. */
  get shortVolAnnual(): number {
    return Math.sqrt(this.variancePerSecond * YEAR_SECONDS);
  }

  /** σ_short / σ_baseline. */
  get ratio(): number {
    return this.shortVolAnnual / this.baselineVolAnnual;
  }

  /**
   * Takes the realized price at `time` (unix seconds, never decreasing). Returns the decision
   * when the multiplier changed, else null. An observation at the same time as the one before
   * is ignored: a return needs time to pass.
   */
  observe(time: number, price: number): StressDecision | null {
    if (!Number.isFinite(time))
      throw new FulcrumError('invalid_number', 'time must be finite', 'time');
    if (!(Number.isFinite(price) && price > 0)) {
      throw new FulcrumError('invalid_number', `price must be positive: ${price}`, 'price');
    }
    const lastTime = this.lastTime;
    if (lastTime === undefined) {
      this.lastTime = time;
      this.lastPrice = price;
      this.lastDecisionTime = time;
      return null;
    }
    if (time < lastTime) {
      throw new FulcrumError(
        'time_went_backwards',
        `stress margin: observation at ${time} after one at ${lastTime}`,
        'time',
      );
    }
    if (time === lastTime) return null;
    const seconds = time - lastTime;
    const r = Math.log(price / this.lastPrice);
    const decay = 0.5 ** (seconds / this.config.halfLifeSeconds);
    this.variancePerSecond = decay * this.variancePerSecond + ((1 - decay) * r * r) / seconds;
    this.lastTime = time;
    this.lastPrice = price;
    if (time - this.lastDecisionTime < this.config.updateSeconds) return null;
    return this.decide(time);
  }

  private decide(time: number): StressDecision | null {
    const ratio = this.ratio;
    if (this.state === 'calm' && ratio >= this.config.enterRatio) this.state = 'stressed';
    else if (this.state === 'stressed' && ratio < this.config.exitRatio) this.state = 'calm';
    const target = this.targetPpm(ratio);
    const previous = this.ppm;
    let next = previous;
    if (target > previous) {
      next = previous + this.stepUpPpm < target ? previous + this.stepUpPpm : target;
    } else if (target < previous) {
      const elapsed = Math.min(time - this.lastDecisionTime, HOUR_SECONDS);
      // Down, so that margin never relaxes faster than configured.
      const relax = BigInt(Math.floor((this.relaxPerHourPpm * elapsed) / HOUR_SECONDS));
      next = previous - relax > target ? previous - relax : target;
    }
    this.lastDecisionTime = time;
    if (next === previous) return null;
    this.ppm = next;
    return {
      time,
      ...(this.asset === undefined ? {} : { asset: this.asset }),
      previousPpm: previous,
      multiplierPpm: next,
      shortVolAnnual: this.shortVolAnnual,
      baselineVolAnnual: this.baselineVolAnnual,
      ratio,
      regime: this.state,
    };
  }

  /** m* in ppm, rounded up (tighter): 1 when calm. */
  private targetPpm(ratio: number): bigint {
    if (this.state === 'calm') return MULTIPLIER_ONE_PPM;
    const target = 1 + this.config.sensitivity * (ratio - 1);
    if (!(target < this.config.maxMultiplier)) return this.maxPpm;
    const ppm = BigInt(Math.ceil(target * 1e6));
    if (ppm < MULTIPLIER_ONE_PPM) return MULTIPLIER_ONE_PPM;
    return ppm > this.maxPpm ? this.maxPpm : ppm;
  }
}

/**
 * Asset weights with each tier's haircut (1 − weight) multiplied by `multiplierPpm` / 10^6,
 * rounded up, the weight floored at 0 and then, if `step` is given, rounded down to a multiple
 * of it. The order initial <= liquidationEnd <= maintenance is kept (each step is monotone), and
 * a multiplier of at least 1 never loosens a weight.
 *
 * @example
 * // haircuts 0.2 / 0.15 / 0.1 times 1.5: 0.3 / 0.225 / 0.15
 * stressedWeights({ initial: 800_000n, liquidationEnd: 850_000n, maintenance: 900_000n }, 1_500_000n);
 * // { initial: 700_000n, liquidationEnd: 775_000n, maintenance: 850_000n }
 */
export function stressedWeights(
  base: TierWeights,
  multiplierPpm: bigint,
  step?: bigint,
): TierWeights {
  if (multiplierPpm < 0n) {
    throw new FulcrumError(
      'invalid_number',
      'the multiplier must not be negative',
      'multiplierPpm',
    );
  }
  if (step !== undefined && (step < 0n || step > WEIGHT_SCALE)) {
    throw new FulcrumError('invalid_number', 'step must be between 0 and 1', 'step');
  }
  const stress = (weight: bigint, tier: string): bigint => {
    if (weight < 0n || weight > WEIGHT_SCALE) {
      throw new FulcrumError('invalid_number', `${tier} weight must be in [0, 1]`, tier);
    }
    // Up: a larger haircut is the venue's side.
    const haircut = divCeil((WEIGHT_SCALE - weight) * multiplierPpm, MULTIPLIER_ONE_PPM);
    const stressed = haircut >= WEIGHT_SCALE ? 0n : WEIGHT_SCALE - haircut;
    // Both non-negative: `/` truncates downward, the stricter side.
    return step === undefined || step === 0n ? stressed : (stressed / step) * step;
  };
  return {
    initial: stress(base.initial, 'initial'),
    liquidationEnd: stress(base.liquidationEnd, 'liquidationEnd'),
    maintenance: stress(base.maintenance, 'maintenance'),
  };
}
