/**
 * Bilinear sampling of every plane of a blob at a grid of fractional
 * coordinates, separable along H and W; shared by upsample and resizeBilinear,
 * which differ only in where the grid points fall.
 *
 * @packageDocumentation
 */

/**
 * Samples each `[H, W]` plane at rows `gridY` and columns `gridX` (input
 * coordinates in `[0, H-1]` and `[0, W-1]`):
 * `out[i, j] = lerp(lerp(x[y0, x0], x[y0, x1]), lerp(x[y1, x0], x[y1, x1]))`
 * with `y0 = floor(gridY[i])`, `y1 = min(y0 + 1, H - 1)`, and likewise along W.
 *
 * @param input - `planes` planes of `height` x `width`
 * @param planes - the number of planes
 * @param height - H
 * @param width - W
 * @param gridY - the row coordinate of each output row
 * @param gridX - the column coordinate of each output column
 * @returns the `planes` x `gridY.length` x `gridX.length` samples
 */
export function bilinearSample(input: Float32Array, planes: number, height: number, width: number, gridY: Float64Array, gridX: Float64Array): Float32Array {
  const OH = gridY.length;
  const OW = gridX.length;
  const [y0, y1, fy] = neighbours(gridY, height);
  const [x0, x1, fx] = neighbours(gridX, width);
  const out = new Float32Array(planes * OH * OW);
  let o = 0;
  for (let p = 0; p < planes; p++) {
    const base = p * height * width;
    for (let i = 0; i < OH; i++) {
      const top = base + (y0[i] as number) * width;
      const bottom = base + (y1[i] as number) * width;
      const wy = fy[i] as number;
      for (let j = 0; j < OW; j++) {
        const a = x0[j] as number;
        const b = x1[j] as number;
        const wx = fx[j] as number;
        const upper = (input[top + a] as number) * (1 - wx) + (input[top + b] as number) * wx;
        const lower = (input[bottom + a] as number) * (1 - wx) + (input[bottom + b] as number) * wx;
        out[o++] = upper * (1 - wy) + lower * wy;
      }
    }
  }
  return out;
}

/** For each grid coordinate: the input index below, the one above (clamped), and the fraction between. */
function neighbours(grid: Float64Array, size: number): [Int32Array, Int32Array, Float64Array] {
  const lo = new Int32Array(grid.length);
  const hi = new Int32Array(grid.length);
  const frac = new Float64Array(grid.length);
  for (let i = 0; i < grid.length; i++) {
    const g = Math.min(size - 1, Math.max(0, grid[i] as number));
    const f = Math.floor(g);
    lo[i] = f;
    hi[i] = Math.min(f + 1, size - 1);
    frac[i] = g - f;
  }
  return [lo, hi, frac];
}

/**
 * `count` points evenly spaced from `start` to `end`, both included (numpy's
 * linspace); one point is `start`.
 *
 * @param start - the first point
 * @param end - the last point
 * @param count - how many
 * @returns the points
 */
export function linspace(start: number, end: number, count: number): Float64Array {
  const out = new Float64Array(count);
  if (count === 1) {
    out[0] = start;
    return out;
  }
  const step = (end - start) / (count - 1);
  for (let i = 0; i < count; i++) out[i] = start + i * step;
  return out;
}
