/**
 * The standard normal distribution: its density, its distribution function, its quantile, and
 * a draw from two uniform ones. Float64 analytics (option prices, haircuts, simulated markets),
 * never ledger arithmetic.
 */
import { FulcrumError } from '../base/errors.js';

/** The standard normal density. */
export function normalPdf(x: number): number {
  return Math.exp(-0.5 * x * x) / Math.sqrt(2 * Math.PI);
}

/**
 * The standard normal distribution function, to about 1e-15 absolute: W. J. Cody's rational
 * approximations of erfc (1969), as used by most numerical libraries.
 */
export function normalCdf(x: number): number {
  const z = Math.abs(x) / Math.SQRT2;
  const tail = 0.5 * erfc(z);
  return x >= 0 ? 1 - tail : tail;
}

/** The complementary error function for z >= 0 (Cody's three ranges). */
function erfc(z: number): number {
  if (z < 0.5) {
    // erf by a rational function of z².
    const t = z * z;
    const num =
      ((((0.18577770618460315 * t + 3.1611237438705655) * t + 113.86415415105016) * t +
        377.485237685302) *
        t +
        3209.3775891384694) *
      z;
    const den =
      (((t + 23.601290952344122) * t + 244.02463793444417) * t + 1282.6165260773723) * t +
      2844.236833439171;
    return 1 - num / den;
  }
  if (z < 4) {
    const num =
      (((((((2.1531153547440383e-8 * z + 0.5641884969886701) * z + 8.883149794388377) * z +
        66.11919063714163) *
        z +
        298.6351381974001) *
        z +
        881.952221241769) *
        z +
        1712.0476126340707) *
        z +
        2051.0783778260716) *
        z +
      1230.3393547979972;
    const den =
      (((((((z + 15.744926110709835) * z + 117.6939508913125) * z + 537.1811018620099) * z +
        1621.3895745666903) *
        z +
        3290.7992357334597) *
        z +
        4362.619090143247) *
        z +
        3439.3676741437216) *
        z +
      1230.3393548037495;
    return (Math.exp(-z * z) * num) / den;
  }
  const t = 1 / (z * z);
  const num =
    ((((0.016315387137302097 * t + 0.30532663496123236) * t + 0.36034489994980445) * t +
      0.12578172611122926) *
      t +
      0.016083785148742275) *
      t +
    6.587491615298378e-4;
  const den =
    ((((t + 2.568520192289822) * t + 1.8729528499234673) * t + 0.5279051029514285) * t +
      0.06051834131244132) *
      t +
    2.335204976268692e-3;
  return (Math.exp(-z * z) / z) * (1 / Math.sqrt(Math.PI) - (t * num) / den);
}

// Wichura's algorithm AS241 (PPND16, Applied Statistics 37, 1988), accurate to about 1e-16. The
// coefficients are the paper's, written with the digits a double holds.
const A = [
  3.3871328727963665, 133.14166789178438, 1971.5909503065513, 13731.69376550946, 45921.95393154987,
  67265.7709270087, 33430.57558358813, 2509.0809287301227,
];
const B = [
  1, 42.31333070160091, 687.1870074920579, 5394.196021424751, 21213.794301586597, 39307.89580009271,
  28729.085735721943, 5226.495278852546,
];
const C = [
  1.4234371107496835, 4.630337846156546, 5.769497221460691, 3.6478483247632045, 1.2704582524523684,
  0.2417807251774506, 0.022723844989269184, 0.0007745450142783414,
];
const D = [
  1, 2.053191626637759, 1.6763848301838038, 0.6897673349851, 0.14810397642748008,
  0.015198666563616457, 0.0005475938084995345, 1.0507500716444169e-9,
];
const E = [
  6.657904643501103, 5.463784911164114, 1.7848265399172913, 0.29656057182850487,
  0.026532189526576124, 0.0012426609473880784, 2.7115555687434876e-5, 2.0103343992922881e-7,
];
const F = [
  1, 0.599832206555888, 0.1369298809227358, 0.014875361290850615, 0.0007868691311456133,
  1.8463183175100548e-5, 1.421511758316446e-7, 2.0442631033899397e-15,
];

/** Horner's rule over coefficients lowest degree first. */
function poly(coefficients: readonly number[], x: number): number {
  let sum = 0;
  for (let i = coefficients.length - 1; i >= 0; i--) sum = sum * x + (coefficients[i] ?? 0);
  return sum;
}

/**
 * The inverse of the standard normal CDF (the quantile z with P(Z <= z) = p), by Wichura's
 * AS241, accurate to about 1e-16 over (0, 1).
 *
 * @example
 * inverseNormalCdf(0.975); // 1.959963985
 * inverseNormalCdf(0.99); // 2.326347874
 */
export function inverseNormalCdf(p: number): number {
  if (!(p > 0 && p < 1)) {
    throw new FulcrumError('invalid_number', `a probability must be in (0, 1): ${p}`, 'confidence');
  }
  const q = p - 0.5;
  if (Math.abs(q) <= 0.425) {
    const r = 0.180625 - q * q;
    return (q * poly(A, r)) / poly(B, r);
  }
  const r = Math.sqrt(-Math.log(q < 0 ? p : 1 - p));
  const z = r <= 5 ? poly(C, r - 1.6) / poly(D, r - 1.6) : poly(E, r - 5) / poly(F, r - 5);
  return q < 0 ? -z : z;
}

/**
 * A standard normal draw from two uniform draws in [0, 1) (Box-Muller, its cosine half). `u` is
 * raised to machine epsilon at least, so that a uniform draw of exactly 0 gives a large finite
 * value rather than infinity.
 *
 * @example
 * normalFromUniforms(0.5, 0); // sqrt(2 ln 2) ≈ 1.1774
 */
export function normalFromUniforms(u: number, v: number): number {
  return Math.sqrt(-2 * Math.log(Math.max(u, Number.EPSILON))) * Math.cos(2 * Math.PI * v);
}
