/**
 * upsample against oracles from UpsampleLayerParams: nearest neighbour repeats
 * each value, bilinear samples the grid the proto gives for each linear mode.
 */
import { expectTensor, int, prepare, randomTensor, rng } from "./helpers.js";

/** Bilinear value of a plane at a fractional (gy, gx), both inside the plane. */
function lerp2(x: Float32Array, base: number, H: number, W: number, gy: number, gx: number): number {
  const y0 = Math.floor(gy),
    x0 = Math.floor(gx);
  const y1 = Math.min(y0 + 1, H - 1),
    x1 = Math.min(x0 + 1, W - 1);
  const dy = gy - y0,
    dx = gx - x0;
  const v = (yy: number, xx: number): number => x[base + yy * W + xx] as number;
  return v(y0, x0) * (1 - dy) * (1 - dx) + v(y0, x1) * (1 - dy) * dx + v(y1, x0) * dy * (1 - dx) + v(y1, x1) * dy * dx;
}

/** The proto's grid_point[i] of each linear upsample mode. */
const GRID: Record<number, (i: number, xin: number, xout: number) => number> = {
  0: (i, xin, xout) => Math.min(xin - 1, Math.max(0, i * (xout === 1 ? 0 : (xin - xin / xout) / (xout - 1)))),
  1: (i, xin, xout) => Math.min(xin - 1, Math.max(0, i * (xout === 1 ? 0 : (xin - 1) / (xout - 1)))),
  2: (i, xin, xout) => Math.min(xin - 1, Math.max(0, i * (xin / xout) + 0.5 * (xin / xout) - 0.5)),
};

function upsampleInit(fy: number, fx: number, mode: 0 | 1, linearUpsampleMode = 0) {
  return { layer: { case: "upsample" as const, value: { scalingFactor: [BigInt(fy), BigInt(fx)], mode, linearUpsampleMode } } };
}

describe("upsample", () => {
  test("nearest neighbour repeats each value fy x fx times", () => {
    const r = rng(401);
    for (let i = 0; i < 10; i++) {
      const fy = int(r, 1, 3),
        fx = int(r, 1, 3),
        H = int(r, 1, 4),
        W = int(r, 1, 4);
      const x = randomTensor(r, [1, 1, 2, H, W]);
      const e: number[] = [];
      for (let c = 0; c < 2; c++) {
        for (let y = 0; y < H; y++) {
          const row: number[] = [];
          for (let xx = 0; xx < W; xx++) for (let k = 0; k < fx; k++) row.push(x.data[(c * H + y) * W + xx] as number);
          for (let k = 0; k < fy; k++) e.push(...row);
        }
      }
      expectTensor(prepare(upsampleInit(fy, fx, 0))(x)[0], [1, 1, 2, H * fy, W * fx], e);
    }
  });

  test("bilinear on the DEFAULT grid, and the two ALIGN_CORNERS grids the proto defines (pinned seed)", () => {
    const r = rng(403);
    for (const linear of [0, 1, 2]) {
      for (let i = 0; i < 8; i++) {
        const fy = int(r, 1, 4),
          fx = int(r, 1, 4),
          H = int(r, 1, 5),
          W = int(r, 1, 5);
        const x = randomTensor(r, [2, 1, 3, H, W]);
        const OH = H * fy,
          OW = W * fx;
        const grid = GRID[linear] as (i: number, xin: number, xout: number) => number;
        const e: number[] = [];
        for (let p = 0; p < 6; p++)
          for (let y = 0; y < OH; y++) for (let xx = 0; xx < OW; xx++) e.push(lerp2(x.data, p * H * W, H, W, grid(y, H, OH), grid(xx, W, OW)));
        expectTensor(prepare(upsampleInit(fy, fx, 1, linear))(x)[0], [2, 1, 3, OH, OW], e);
      }
    }
  });

  test("refuses fractionalScalingFactor", () => {
    expect(() => prepare({ layer: { case: "upsample", value: { fractionalScalingFactor: [1.5, 1.5], mode: 1, linearUpsampleMode: 1 } } })).toThrow(
      expect.objectContaining({
        code: "unsupported-layer",
        message: expect.stringMatching(/upsample with fractionalScalingFactor \[1.5, 1.5\] is not supported/) as string,
      }) as Error,
    );
  });
});
