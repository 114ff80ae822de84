/**
 * A naive oracle for the recurrent layers, written straight from the equations
 * in NeuralNetwork.proto (SimpleRecurrentLayerParams, GRULayerParams,
 * LSTMParams) with plain arrays and loops, for ONE sequence (no batch). It shares
 * no code with src/predict. Each function consumes `xs` in the order given and
 * returns the output after every step, in that order; callers arrange positions.
 *
 * The choices the proto leaves open are the executor's documented ones: an
 * unset linear activation is the identity; c_t is clipped to ±cellClip.
 */

export type Vec = number[];
export type Mat = number[][];

/** The recurrent activations, by name, with the proto's fixed parameters. */
export type ActName = "linear" | "sigmoid" | "tanh" | "relu" | "scaledTanh" | "sigmoidHard";

export function act(name: ActName, x: number): number {
  switch (name) {
    case "linear":
      return x;
    case "sigmoid":
      return 1 / (1 + Math.exp(-x));
    case "tanh":
      return Math.tanh(x);
    case "relu":
      return x > 0 ? x : 0;
    case "scaledTanh":
      return 1.7159 * Math.tanh((2 / 3) * x);
    case "sigmoidHard":
      return Math.min(Math.max(0.2 * x + 0.5, 0), 1);
  }
}

/** The proto's clip(): [-50, 50]. */
const clip = (v: number): number => Math.min(50, Math.max(-50, v));

/** M v for a row-major matrix given as rows. */
function mv(m: Mat, v: Vec): Vec {
  const out: Vec = [];
  for (let r = 0; r < m.length; r++) {
    let s = 0;
    const row = m[r] as Vec;
    for (let c = 0; c < v.length; c++) s += (row[c] as number) * (v[c] as number);
    out.push(s);
  }
  return out;
}

/** Elementwise sum of vectors of the same length. */
function add(...vs: Vec[]): Vec {
  const first = vs[0] as Vec;
  return first.map((_, k) => vs.reduce((s, v) => s + (v[k] as number), 0));
}

export interface SimpleWeights {
  W: Mat;
  R: Mat;
  b: Vec;
}

/** y_t = f(clip(W x_t + R y_{t-1} + b)). */
export function simpleRecurrentOracle(w: SimpleWeights, f: ActName, xs: Vec[], h0: Vec): Vec[] {
  const ys: Vec[] = [];
  let y = h0;
  for (const x of xs) {
    y = add(mv(w.W, x), mv(w.R, y), w.b).map((v) => act(f, clip(v)));
    ys.push(y);
  }
  return ys;
}

export interface GruWeights {
  Wz: Mat;
  Wr: Mat;
  Wo: Mat;
  Rz: Mat;
  Rr: Mat;
  Ro: Mat;
  bz: Vec;
  br: Vec;
  bo: Vec;
}

/** The proto's GRU: z, r with f; c = y ⊙ r; o = g(clip(W_o x + R_o c + b_o)); y = (1-z) o + z y. */
export function gruOracle(w: GruWeights, f: ActName, g: ActName, xs: Vec[], h0: Vec): Vec[] {
  const ys: Vec[] = [];
  let y = h0;
  for (const x of xs) {
    const z = add(mv(w.Wz, x), mv(w.Rz, y), w.bz).map((v) => act(f, clip(v)));
    const r = add(mv(w.Wr, x), mv(w.Rr, y), w.br).map((v) => act(f, clip(v)));
    const c = y.map((v, k) => v * (r[k] as number));
    const o = add(mv(w.Wo, x), mv(w.Ro, c), w.bo).map((v) => act(g, clip(v)));
    y = o.map((ov, k) => (1 - (z[k] as number)) * ov + (z[k] as number) * (y[k] as number));
    ys.push(y);
  }
  return ys;
}

export interface LstmWeights {
  Wi: Mat;
  Wf: Mat;
  Wz: Mat;
  Wo: Mat;
  Ri: Mat;
  Rf: Mat;
  Rz: Mat;
  Ro: Mat;
  bi: Vec;
  bf: Vec;
  bz: Vec;
  bo: Vec;
  /** Peepholes; zeros when the layer has none. */
  pi: Vec;
  pf: Vec;
  po: Vec;
}

export interface LstmConfig {
  f: ActName;
  g: ActName;
  h: ActName;
  coupled: boolean;
  cellClip: number;
}

/** The proto's LSTM, one direction. Returns y and c after every step. */
export function lstmOracle(w: LstmWeights, cfg: LstmConfig, xs: Vec[], h0: Vec, c0: Vec): { ys: Vec[]; cs: Vec[] } {
  const ys: Vec[] = [];
  const cs: Vec[] = [];
  let y = h0;
  let c = c0;
  for (const x of xs) {
    const pc = (p: Vec, cv: Vec): Vec => p.map((pk, k) => pk * (cv[k] as number));
    const i = add(mv(w.Wi, x), mv(w.Ri, y), pc(w.pi, c), w.bi).map((v) => act(cfg.f, clip(v)));
    const fg = add(mv(w.Wf, x), mv(w.Rf, y), pc(w.pf, c), w.bf).map((v) => act(cfg.f, clip(v)));
    const z = add(mv(w.Wz, x), mv(w.Rz, y), w.bz).map((v) => act(cfg.g, clip(v)));
    const cNew = c.map((cv, k) => {
      const ik = i[k] as number;
      const keep = cfg.coupled ? 1 - ik : (fg[k] as number);
      const v = cv * keep + ik * (z[k] as number);
      return Math.min(cfg.cellClip, Math.max(-cfg.cellClip, v));
    });
    const o = add(mv(w.Wo, x), mv(w.Ro, y), pc(w.po, cNew), w.bo).map((v) => act(cfg.f, clip(v)));
    y = cNew.map((cv, k) => act(cfg.h, cv) * (o[k] as number));
    c = cNew;
    ys.push(y);
    cs.push(c);
  }
  return { ys, cs };
}
