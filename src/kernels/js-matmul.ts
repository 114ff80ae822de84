/**
 * The matrix product in plain JavaScript: the fallback where WebAssembly SIMD is
 * missing, the path for products too small to be worth a call into the module,
 * and the reference the SIMD product is tested against, bit for bit.
 *
 * Every sum is rounded to float32 after each step, as the SIMD lanes round it:
 * a float32 product is exact in a double, and a double sum of two float32 values
 * rounded once more to float32 is the float32 sum (53 >= 2 * 24 + 2 bits), so
 * `Math.fround(s + Math.fround(x * y))` is the lane's `add(s, mul(x, y))`.
 *
 * @packageDocumentation
 */
import type { Matmul } from "./run-kernels.js";

const f = Math.fround;

/**
 * `c = start + a · b` (see {@link Matmul}): four rows by four columns at a time,
 * the sixteen sums in locals, then the rows and columns left over.
 *
 * @param p - the product
 */
export function jsMatmul(p: Matmul): void {
  const { m, n } = p;
  const rows4 = m - (m % 4);
  const cols4 = n - (n % 4);
  for (let i = 0; i < rows4; i += 4) {
    for (let j = 0; j < cols4; j += 4) tile4x4(p, i, j);
  }
  for (let i = rows4; i < m; i++) {
    for (let j = 0; j < cols4; j += 4) tile1x4(p, i, j);
  }
  if (cols4 < n) {
    for (let i = 0; i < m; i++) {
      for (let j = cols4; j < n; j++) p.c[p.cOffset + i * p.cStride + j] = one(p, i, j);
    }
  }
}

/** The start value of output `(i, j)`. */
function startOf(p: Matmul, i: number, j: number): number {
  const s = p.start;
  if (s.along === "none") return 0;
  return s.values[s.offset + (s.along === "rows" ? i : j)] as number;
}

function one(p: Matmul, i: number, j: number): number {
  const { a, b, k, bStride } = p;
  let s = startOf(p, i, j);
  for (let t = 0, x = p.aOffset + i * p.aStride, y = p.bOffset + j; t < k; t++, x++, y += bStride) {
    s = f(s + f((a[x] as number) * (b[y] as number)));
  }
  return s;
}

function tile1x4(p: Matmul, i: number, j: number): void {
  const { a, b, c, k, bStride } = p;
  let s0 = startOf(p, i, j);
  let s1 = startOf(p, i, j + 1);
  let s2 = startOf(p, i, j + 2);
  let s3 = startOf(p, i, j + 3);
  for (let t = 0, x = p.aOffset + i * p.aStride, y = p.bOffset + j; t < k; t++, x++, y += bStride) {
    const v = a[x] as number;
    s0 = f(s0 + f(v * (b[y] as number)));
    s1 = f(s1 + f(v * (b[y + 1] as number)));
    s2 = f(s2 + f(v * (b[y + 2] as number)));
    s3 = f(s3 + f(v * (b[y + 3] as number)));
  }
  const o = p.cOffset + i * p.cStride + j;
  c[o] = s0;
  c[o + 1] = s1;
  c[o + 2] = s2;
  c[o + 3] = s3;
}

function tile4x4(p: Matmul, i: number, j: number): void {
  const { a, b, c, k, aStride, bStride, cStride } = p;
  let s00 = startOf(p, i, j),
    s01 = startOf(p, i, j + 1),
    s02 = startOf(p, i, j + 2),
    s03 = startOf(p, i, j + 3);
  let s10 = startOf(p, i + 1, j),
    s11 = startOf(p, i + 1, j + 1),
    s12 = startOf(p, i + 1, j + 2),
    s13 = startOf(p, i + 1, j + 3);
  let s20 = startOf(p, i + 2, j),
    s21 = startOf(p, i + 2, j + 1),
    s22 = startOf(p, i + 2, j + 2),
    s23 = startOf(p, i + 2, j + 3);
  let s30 = startOf(p, i + 3, j),
    s31 = startOf(p, i + 3, j + 1),
    s32 = startOf(p, i + 3, j + 2),
    s33 = startOf(p, i + 3, j + 3);
  const x0 = p.aOffset + i * aStride;
  for (let t = 0, y = p.bOffset + j; t < k; t++, y += bStride) {
    const b0 = b[y] as number,
      b1 = b[y + 1] as number,
      b2 = b[y + 2] as number,
      b3 = b[y + 3] as number;
    let v = a[x0 + t] as number;
    s00 = f(s00 + f(v * b0));
    s01 = f(s01 + f(v * b1));
    s02 = f(s02 + f(v * b2));
    s03 = f(s03 + f(v * b3));
    v = a[x0 + aStride + t] as number;
    s10 = f(s10 + f(v * b0));
    s11 = f(s11 + f(v * b1));
    s12 = f(s12 + f(v * b2));
    s13 = f(s13 + f(v * b3));
    v = a[x0 + 2 * aStride + t] as number;
    s20 = f(s20 + f(v * b0));
    s21 = f(s21 + f(v * b1));
    s22 = f(s22 + f(v * b2));
    s23 = f(s23 + f(v * b3));
    v = a[x0 + 3 * aStride + t] as number;
    s30 = f(s30 + f(v * b0));
    s31 = f(s31 + f(v * b1));
    s32 = f(s32 + f(v * b2));
    s33 = f(s33 + f(v * b3));
  }
  let o = p.cOffset + i * cStride + j;
  c[o] = s00;
  c[o + 1] = s01;
  c[o + 2] = s02;
  c[o + 3] = s03;
  o += cStride;
  c[o] = s10;
  c[o + 1] = s11;
  c[o + 2] = s12;
  c[o + 3] = s13;
  o += cStride;
  c[o] = s20;
  c[o + 1] = s21;
  c[o + 2] = s22;
  c[o + 3] = s23;
  o += cStride;
  c[o] = s30;
  c[o + 1] = s31;
  c[o + 2] = s32;
  c[o + 3] = s33;
}
