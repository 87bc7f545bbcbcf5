import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { YEAR_SECONDS } from '../math/time.js';
import { black76, type Black76Input, thetaPerDay } from './black76.js';

const price = (input: Black76Input): number => black76(input).price;

describe('black76: published worked examples', () => {
  it('Hull, Example 18.7: put on a futures price of 20, strike 20, 4 months, 25%, 9%: 1.12', () => {
    // Hull, Options, Futures and Other Derivatives, Example 18.7 (Black's model for futures
    // options): d1 = (ln 1 + 0.25²·(1/3)/2)/(0.25·√(1/3)) = 0.0722, d2 = −0.0722,
    // put = e^{−0.09/3}·(20·N(0.0722) − 20·N(−0.0722)) = 1.12 (to the cent, as Hull gives it).
    const put = price({
      forward: 20,
      strike: 20,
      time: 4 / 12,
      volatility: 0.25,
      rate: 0.09,
      right: 'put',
    });
    expect(put).toBeCloseTo(1.12, 2);
    // Full precision, the same formula with Python's math.erfc: 1.1166414565589438.
    expect(put).toBeCloseTo(1.1166414565589438, 13);
  });

  it('Haug, Black-76 example: F = K = 19, 9 months, 28%, 10%: call = put = 1.7011', () => {
    // E. G. Haug, The Complete Guide to Option Pricing Formulas (2nd ed.), Black (1976) options
    // on futures: "S = 19, X = 19, T = 0.75, r = 0.1, σ = 0.28: c = p = 1.7011". At the money
    // forward the call and the put are equal by parity.
    const input = { forward: 19, strike: 19, time: 0.75, volatility: 0.28, rate: 0.1 } as const;
    const call = price({ ...input, right: 'call' });
    const put = price({ ...input, right: 'put' });
    expect(call).toBeCloseTo(1.7011, 4);
    expect(put).toBeCloseTo(1.7011, 4);
    // math.erfc reference: 1.701050725236268.
    expect(call).toBeCloseTo(1.701050725236268, 13);
  });

  it('Haug, futures option delta: F = 105, K = 100, 6 months, 36%, 10%: 0.5946 and −0.3566', () => {
    // Haug (2nd ed.), the delta example for an option on a futures contract (b = 0):
    // d1 = (ln(105/100) + 0.36²·0.5/2)/(0.36·√0.5) = 0.3189, Δc = e^{−0.05}·N(0.3189) = 0.5946,
    // Δp = −e^{−0.05}·N(−0.3189) = −0.3566.
    const input = { forward: 105, strike: 100, time: 0.5, volatility: 0.36, rate: 0.1 } as const;
    expect(black76({ ...input, right: 'call' }).delta).toBeCloseTo(0.5946, 4);
    expect(black76({ ...input, right: 'put' }).delta).toBeCloseTo(-0.3566, 4);
  });

  it('Hull, the Greek letters of a 20-week call: delta 0.522, gamma 0.066, vega 12.1, theta −4.31', () => {
    // Hull, Options, Futures and Other Derivatives, chapter "The Greek Letters": a call on a
    // non-dividend stock, S0 = 49, K = 50, r = 5%, σ = 20%, T = 20 weeks = 0.3846 years. Black-76
    // prices the same call on the forward F = S0·e^{rT}. Hull's Greeks are per move of the stock
    // holding the stock fixed: ∂F/∂S0 = e^{rT}, so Δ_S = e^{rT}Δ_F and Γ_S = e^{2rT}Γ_F; vega is
    // the same; and as time passes with S0 fixed, F falls at rate r·F, so θ_S = θ_F − r·F·Δ_F.
    const s0 = 49;
    const r = 0.05;
    const t = 0.3846;
    const forward = s0 * Math.exp(r * t);
    const call = black76({ forward, strike: 50, time: t, volatility: 0.2, rate: r, right: 'call' });
    expect(call.price).toBeCloseTo(2.4, 2); // Hull: 2.40
    expect(Math.exp(r * t) * call.delta).toBeCloseTo(0.522, 3);
    expect(Math.exp(2 * r * t) * call.gamma).toBeCloseTo(0.066, 3);
    expect(call.vega).toBeCloseTo(12.1, 1);
    expect(call.theta - r * forward * call.delta).toBeCloseTo(-4.31, 2);
  });

  it("Hull, Black's model for a European bond option: forward 939.68, strike 1000: 9.49", () => {
    // Hull, Options, Futures and Other Derivatives, chapter "Interest Rate Derivatives: The
    // Standard Market Models", first example: a 10-month call on a 9.75-year bond, forward bond
    // price F0 = 939.68, K = 1000, P(0, T) = e^{−0.1·10/12}, σ = 9%: c = 9.49.
    const call = price({
      forward: 939.68,
      strike: 1000,
      time: 10 / 12,
      volatility: 0.09,
      rate: 0.1,
      right: 'call',
    });
    expect(call).toBeCloseTo(9.49, 2);
  });
});

/** Arbitraries: wide but sane markets. */
const forward = fc.double({ min: 1e-3, max: 1e7, noNaN: true });
const moneyness = fc.double({ min: 0.2, max: 5, noNaN: true });
const time = fc.double({ min: 1e-4, max: 10, noNaN: true });
const volatility = fc.double({ min: 0.01, max: 5, noNaN: true });
const rate = fc.double({ min: -0.05, max: 0.2, noNaN: true });
const right = fc.constantFrom<'call' | 'put'>('call', 'put');

describe('black76: properties', () => {
  it('put-call parity: call − put = e^{−rT}(F − K)', () => {
    fc.assert(
      fc.property(forward, moneyness, time, volatility, rate, (f, m, t, sigma, r) => {
        const input = { forward: f, strike: f * m, time: t, volatility: sigma, rate: r };
        const call = price({ ...input, right: 'call' });
        const put = price({ ...input, right: 'put' });
        const parity = Math.exp(-r * t) * (f - f * m);
        // Each price is a difference of terms as large as F and K: a few ulps of F + K.
        expect(Math.abs(call - put - parity)).toBeLessThanOrEqual(1e-13 * (f + f * m));
      }),
      { numRuns: 2000 },
    );
  });

  it('bounds: e^{−rT}·intrinsic <= price, call <= e^{−rT}F, put <= e^{−rT}K', () => {
    fc.assert(
      fc.property(forward, moneyness, time, volatility, rate, (f, m, t, sigma, r) => {
        const k = f * m;
        const discount = Math.exp(-r * t);
        const input = { forward: f, strike: k, time: t, volatility: sigma, rate: r };
        const call = price({ ...input, right: 'call' });
        const put = price({ ...input, right: 'put' });
        const ulps = 1e-13 * (f + k);
        expect(call).toBeGreaterThanOrEqual(discount * Math.max(f - k, 0) - ulps);
        expect(put).toBeGreaterThanOrEqual(discount * Math.max(k - f, 0) - ulps);
        expect(call).toBeLessThanOrEqual(discount * f + ulps);
        expect(put).toBeLessThanOrEqual(discount * k + ulps);
      }),
      { numRuns: 2000 },
    );
  });

  it('monotone: rises with volatility; the call rises and the put falls with the forward', () => {
    fc.assert(
      fc.property(
        forward,
        moneyness,
        time,
        fc.tuple(volatility, volatility),
        fc.double({ min: 1, max: 2, noNaN: true }),
        rate,
        right,
        (f, m, t, [v1, v2], up, r, side) => {
          const base = { strike: f * m, time: t, rate: r, right: side };
          const ulps = 1e-13 * f * (1 + m) * up;
          const [low, high] = v1 <= v2 ? [v1, v2] : [v2, v1];
          expect(price({ ...base, forward: f, volatility: low })).toBeLessThanOrEqual(
            price({ ...base, forward: f, volatility: high }) + ulps,
          );
          const before = price({ ...base, forward: f, volatility: v1 });
          const after = price({ ...base, forward: f * up, volatility: v1 });
          if (side === 'call') expect(before).toBeLessThanOrEqual(after + ulps);
          else expect(after).toBeLessThanOrEqual(before + ulps);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('Greeks match central finite differences of the price', () => {
    // The step is a thousandth of the option's natural scale (F·σ√T for the forward, σ, T), so
    // that truncation (~1e-6 relative) and rounding (~1e-10) both stay well under the
    // tolerance, 1e-5 of each Greek's natural scale.
    fc.assert(
      fc.property(
        forward,
        fc.double({ min: 0.5, max: 2, noNaN: true }),
        fc.double({ min: 0.01, max: 5, noNaN: true }),
        fc.double({ min: 0.05, max: 3, noNaN: true }),
        rate,
        right,
        (f, m, t, sigma, r, side) => {
          const input = {
            forward: f,
            strike: f * m,
            time: t,
            volatility: sigma,
            rate: r,
            right: side,
          };
          const width = sigma * Math.sqrt(t);
          const g = black76(input);
          const h = 1e-3 * f * width;
          const up = price({ ...input, forward: f + h });
          const down = price({ ...input, forward: f - h });
          expect(Math.abs((up - down) / (2 * h) - g.delta)).toBeLessThanOrEqual(1e-5);
          const gamma = (up - 2 * g.price + down) / (h * h);
          expect(Math.abs(gamma - g.gamma)).toBeLessThanOrEqual(1e-5 / (f * width));
          const hv = 1e-3 * sigma;
          const vega =
            (price({ ...input, volatility: sigma + hv }) -
              price({ ...input, volatility: sigma - hv })) /
            (2 * hv);
          expect(Math.abs(vega - g.vega)).toBeLessThanOrEqual(1e-5 * f * Math.sqrt(t));
          const ht = 1e-3 * t;
          const theta =
            -(price({ ...input, time: t + ht }) - price({ ...input, time: t - ht })) / (2 * ht);
          const thetaScale = (f * sigma) / Math.sqrt(t) + Math.abs(r) * f * (1 + m);
          expect(Math.abs(theta - g.theta)).toBeLessThanOrEqual(1e-5 * thetaScale);
          expect(g.gamma).toBeGreaterThanOrEqual(0);
          expect(g.vega).toBeGreaterThanOrEqual(0);
        },
      ),
      { numRuns: 2000 },
    );
  });
});

describe('black76: smoothness where erfc changes range', () => {
  it('gamma by finite differences of the price, d1 ≈ 4√2 (N must not jump there)', () => {
    // Found by the property above: F = 0.001, K = 0.000759, T = 0.0353, σ = 26%, d1 = 5.66.
    // With erfc one degree short, the price jumped by 7e-12·F across d1 = 4√2, and the second
    // difference over h = 1e-3·F·σ√T read 3.12 where Black-76's gamma is 0.00091.
    const input = {
      forward: 0.001,
      strike: 0.001 * 0.7591483147256094,
      time: 0.035319786191049786,
      volatility: 0.2602758247149335,
      right: 'call',
    } as const;
    const g = black76(input);
    const h = 1e-3 * input.forward * input.volatility * Math.sqrt(input.time);
    const up = price({ ...input, forward: input.forward + h });
    const down = price({ ...input, forward: input.forward - h });
    const gamma = (up - 2 * g.price + down) / (h * h);
    expect(Math.abs(gamma - g.gamma)).toBeLessThanOrEqual(0.01);
  });
});

describe('black76: at and after expiry', () => {
  it.each([0, -1])('T = %d: the intrinsic value, delta 0 or ±1, no gamma, vega or theta', (t) => {
    const at = (f: number, side: 'call' | 'put') =>
      black76({ forward: f, strike: 100, time: t, volatility: 0.8, rate: 0.05, right: side });
    // No discount at or after expiry: the payoff is due now.
    expect(at(130, 'call')).toEqual({ price: 30, delta: 1, gamma: 0, vega: 0, theta: 0 });
    expect(at(70, 'call')).toEqual({ price: 0, delta: 0, gamma: 0, vega: 0, theta: 0 });
    expect(at(70, 'put')).toEqual({ price: 30, delta: -1, gamma: 0, vega: 0, theta: 0 });
    expect(at(130, 'put')).toEqual({ price: 0, delta: 0, gamma: 0, vega: 0, theta: 0 });
    // At the money: worth nothing, delta 0 either way.
    expect(at(100, 'call').delta).toBe(0);
    expect(at(100, 'put').delta).toBe(0);
  });

  it('zero volatility before expiry: the discounted intrinsic value', () => {
    const r = 0.05;
    const t = 0.5;
    const call = black76({
      forward: 130,
      strike: 100,
      time: t,
      volatility: 0,
      rate: r,
      right: 'call',
    });
    // 30·e^{−0.025}; theta = −∂V/∂T = r·V.
    expect(call.price).toBeCloseTo(30 * Math.exp(-r * t), 12);
    expect(call.delta).toBeCloseTo(Math.exp(-r * t), 15);
    expect(call.theta).toBeCloseTo(r * call.price, 12);
  });

  it('approaches the intrinsic value as T goes to 0', () => {
    for (const side of ['call', 'put'] as const) {
      const near = price({ forward: 120, strike: 100, time: 1e-10, volatility: 0.8, right: side });
      expect(near).toBeCloseTo(side === 'call' ? 20 : 0, 10);
    }
  });
});

describe('black76: theta per day, meaningful to the last hour', () => {
  const HOUR = 3600 / YEAR_SECONDS;
  const DAY = 86_400 / YEAR_SECONDS;

  it('one hour left, at the money: minus the time value left (−8.95), not θ/365 (−107)', () => {
    // F = K = 3000, 70%, r = 0: the call is all time value, F·(2N(σ√T/2) − 1) ≈ 0.3989·F·σ√T =
    // 8.951 (σ√T = 0.7·√(1/8760) = 0.00748). Over what is left of the day (the hour) it loses
    // all of it. The instantaneous rate F·n(d1)·σ/(2√T)/365 (d1 = σ√T/2) reads 107.41 a day: it
    // grows as 1/√T and is infinite at expiry, a rate no position ever pays over a real day.
    const input = { forward: 3000, strike: 3000, time: HOUR, volatility: 0.7 } as const;
    for (const right of ['call', 'put'] as const) {
      const { price, theta } = black76({ ...input, right });
      expect(price).toBeCloseTo(8.951097655810827, 9);
      const day = thetaPerDay({ ...input, right });
      expect(Number.isFinite(day)).toBe(true);
      expect(day).toBeCloseTo(-price, 12);
      expect(theta / 365).toBeCloseTo(-107.4126711814129, 9);
    }
  });

  it('one hour left, in the money with a rate: the intrinsic value less the price', () => {
    // F = 3100, K = 3000, 5%: the call is worth 99.99946 (e^{−0.05/8760}·(100 + a hair of time
    // value)); at expiry it pays 100 undiscounted, so over the hour it gains 0.00054.
    const input = {
      forward: 3100,
      strike: 3000,
      time: HOUR,
      volatility: 0.7,
      rate: 0.05,
      right: 'call',
    } as const;
    const { price } = black76(input);
    expect(price).toBeCloseTo(99.99945695553969, 9);
    expect(thetaPerDay(input)).toBeCloseTo(100 - price, 12);
  });

  it('in the last day it is the whole change to expiry, finite, for any time left (property)', () => {
    fc.assert(
      fc.property(
        forward,
        moneyness,
        fc.double({ min: 1e-9, max: 1, noNaN: true }),
        volatility,
        rate,
        right,
        (f, m, share, sigma, r, side) => {
          const input = {
            forward: f,
            strike: f * m,
            time: share * DAY,
            volatility: sigma,
            rate: r,
            right: side,
          };
          const intrinsic = Math.max(side === 'call' ? f - f * m : f * m - f, 0);
          const day = thetaPerDay(input);
          expect(Number.isFinite(day)).toBe(true);
          expect(day).toBe(intrinsic - black76(input).price);
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('well before expiry it is the analytic theta integrated over the day (Simpson, property)', () => {
    // V(T − h) − V(T) = ∫ θ(τ) dτ over [T − h, T], θ = −∂V/∂T per year; Simpson's rule with
    // θ at T, T − h/2 and T − h is exact to (h/T)^4 relative, under 1e-6 from a week out.
    fc.assert(
      fc.property(
        forward,
        fc.double({ min: 0.5, max: 2, noNaN: true }),
        fc.double({ min: 7 * DAY, max: 5, noNaN: true }),
        fc.double({ min: 0.05, max: 3, noNaN: true }),
        rate,
        right,
        (f, m, t, sigma, r, side) => {
          const input = {
            forward: f,
            strike: f * m,
            time: t,
            volatility: sigma,
            rate: r,
            right: side,
          };
          const at = (time: number) => black76({ ...input, time }).theta;
          const simpson = (DAY / 6) * (at(t) + 4 * at(t - DAY / 2) + at(t - DAY));
          const scale = DAY * ((f * sigma) / Math.sqrt(t - DAY) + Math.abs(r) * f * (1 + m));
          expect(Math.abs(thetaPerDay(input) - simpson)).toBeLessThanOrEqual(1e-6 * scale);
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('nothing at or after expiry', () => {
    for (const time of [0, -1])
      expect(thetaPerDay({ forward: 130, strike: 100, time, volatility: 0.8, right: 'call' })).toBe(
        0,
      );
  });
});
