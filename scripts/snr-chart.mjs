// node scripts/snr-chart.mjs  (after `npm run build`)
// Quantizes the bundled example model (examples/cnn.mlmodel) at every bit width 1..8
// in each lookup-free and lookup-table mode (linear, linear_lut, kmeans_lut), and to
// half precision; measures each result with weightReport (file size, size-weighted
// mean SNR of the weights); prints the figures and writes docs/snr-chart.svg: SNR
// against file size, one line per mode. Deterministic: same input, same SVG.
import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { decodeModel, encodeModel, quantizeWeights, weightReport } from "../dist/index.js";

const root = fileURLToPath(new URL("..", import.meta.url));
const MODEL = "examples/cnn.mlmodel";
const OUT = "docs/snr-chart.svg";
const MODES = [
  { mode: "linear", label: "linear (per channel)", color: "#1f77b4", dash: "" },
  { mode: "linear_lut", label: "linear_lut (even table)", color: "#ff7f0e", dash: "6 4" },
  { mode: "kmeans_lut", label: "kmeans_lut (k-means table)", color: "#2ca02c", dash: "2 3" },
];

const bytes = readFileSync(root + MODEL);
const model = decodeModel(bytes);

/** One measured point: file size, mean SNR over the lossy tensors, lowest tensor SNR. */
function measure(options) {
  const quantized = quantizeWeights(model, options);
  const { totals } = weightReport(model, quantized);
  return {
    kb: encodeModel(quantized).byteLength / 1000, snr: totals.meanSnrDb, min: totals.minSnrDb, tensors: totals.tensors, values: totals.values,
  };
}

const series = MODES.map((m) => ({
  ...m,
  points: [1, 2, 3, 4, 5, 6, 7, 8].map((nbits) => ({ nbits, ...measure({ nbits, mode: m.mode }) })),
}));
const half = { nbits: 16, ...measure({ nbits: 16 }) };
const originalKb = bytes.byteLength / 1000;

// ---- the figures, for the docs ----
const row = (cells) => `| ${cells.join(" | ")} |`;
console.log(`${MODEL}: ${originalKb.toFixed(1)} KB as float32\n`);
console.log(row(["bits", ...MODES.map((m) => `${m.mode} KB`), ...MODES.map((m) => `${m.mode} dB`)]));
console.log(row(Array(1 + 2 * MODES.length).fill("---:")));
for (let i = 0; i < 8; i++) {
  console.log(row([String(i + 1), ...series.map((s) => s.points[i].kb.toFixed(1)), ...series.map((s) => s.points[i].snr.toFixed(1))]));
}
console.log(`\nfloat16: ${half.kb.toFixed(1)} KB, ${half.snr.toFixed(1)} dB (lowest tensor ${half.min.toFixed(1)} dB)`);

// ---- the chart ----
const W = 760;
const H = 480;
const M = { left: 70, right: 230, top: 50, bottom: 60 };
const plotW = W - M.left - M.right;
const plotH = H - M.top - M.bottom;
const allPoints = [half, ...series.flatMap((s) => s.points)];
const xStep = 2;
const xMax = Math.ceil(Math.max(originalKb, ...allPoints.map((p) => p.kb)) / xStep) * xStep;
const yMin = Math.min(0, Math.floor(Math.min(...allPoints.map((p) => p.snr)) / 10) * 10);
const yMax = Math.ceil(Math.max(...allPoints.map((p) => p.snr)) / 10) * 10;
const x = (kb) => M.left + (kb / xMax) * plotW;
const y = (db) => M.top + plotH - ((db - yMin) / (yMax - yMin)) * plotH;
const f = (n) => n.toFixed(1);
const esc = (s) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;");

const svg = [];
svg.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="Helvetica, Arial, sans-serif" font-size="12">`);
svg.push(`<rect width="${W}" height="${H}" fill="#ffffff"/>`);
svg.push(`<text x="${M.left}" y="24" font-size="16" font-weight="bold">Weight SNR against model size — ${esc(MODEL)}</text>`);
svg.push(`<text x="${M.left}" y="41" fill="#555">size-weighted mean SNR of the quantized weight tensors (weightReport), 1–8 bits per mode, and float16</text>`);
// grid and ticks
for (let db = yMin; db <= yMax; db += 10) {
  svg.push(`<line x1="${M.left}" y1="${f(y(db))}" x2="${M.left + plotW}" y2="${f(y(db))}" stroke="${db === 0 ? "#bbb" : "#e5e5e5"}"/>`);
  svg.push(`<text x="${M.left - 8}" y="${f(y(db) + 4)}" text-anchor="end">${db}</text>`);
}
for (let kb = 0; kb <= xMax; kb += xStep) {
  svg.push(`<line x1="${f(x(kb))}" y1="${M.top}" x2="${f(x(kb))}" y2="${M.top + plotH}" stroke="#f0f0f0"/>`);
  svg.push(`<text x="${f(x(kb))}" y="${M.top + plotH + 18}" text-anchor="middle">${kb}</text>`);
}
// axes
svg.push(`<line x1="${M.left}" y1="${M.top + plotH}" x2="${M.left + plotW}" y2="${M.top + plotH}" stroke="#333"/>`);
svg.push(`<line x1="${M.left}" y1="${M.top}" x2="${M.left}" y2="${M.top + plotH}" stroke="#333"/>`);
svg.push(`<text x="${M.left + plotW / 2}" y="${H - 18}" text-anchor="middle">model file size (KB)</text>`);
svg.push(`<text transform="translate(22 ${M.top + plotH / 2}) rotate(-90)" text-anchor="middle">weight SNR (dB, higher is better)</text>`);
// the float32 original: a vertical reference line
svg.push(`<line x1="${f(x(originalKb))}" y1="${M.top}" x2="${f(x(originalKb))}" y2="${M.top + plotH}" stroke="#999" stroke-dasharray="4 3"/>`);
svg.push(`<text x="${f(x(originalKb) - 4)}" y="${M.top + 12}" text-anchor="end" fill="#666">float32 original ${f(originalKb)} KB (exact)</text>`);
// one polyline per mode, points labelled with their bit width
for (const s of series) {
  const pts = s.points.map((p) => `${f(x(p.kb))},${f(y(p.snr))}`).join(" ");
  svg.push(`<polyline points="${pts}" fill="none" stroke="${s.color}" stroke-width="2"${s.dash === "" ? "" : ` stroke-dasharray="${s.dash}"`}/>`);
  for (const p of s.points) {
    svg.push(`<circle cx="${f(x(p.kb))}" cy="${f(y(p.snr))}" r="3.5" fill="${s.color}"><title>${s.mode} ${p.nbits}-bit: ${f(p.kb)} KB, ${f(p.snr)} dB (lowest tensor ${f(p.min)} dB)</title></circle>`);
  }
}
// bit-width labels once, on the linear series (the others share the bit widths)
for (const p of series[0].points) {
  svg.push(`<text x="${f(x(p.kb) + 6)}" y="${f(y(p.snr) + 4)}" fill="${series[0].color}" font-size="11">${p.nbits}</text>`);
}
for (const p of series[2].points) {
  svg.push(`<text x="${f(x(p.kb) - 6)}" y="${f(y(p.snr) - 6)}" text-anchor="end" fill="${series[2].color}" font-size="11">${p.nbits}</text>`);
}
// float16
svg.push(`<rect x="${f(x(half.kb) - 4)}" y="${f(y(half.snr) - 4)}" width="8" height="8" fill="#d62728"><title>float16: ${f(half.kb)} KB, ${f(half.snr)} dB</title></rect>`);
svg.push(`<text x="${f(x(half.kb) + 8)}" y="${f(y(half.snr) + 4)}" fill="#d62728">float16</text>`);
// legend
const lx = M.left + plotW + 20;
let ly = M.top + 10;
svg.push(`<text x="${lx}" y="${ly}" font-weight="bold">mode</text>`);
for (const s of series) {
  ly += 22;
  svg.push(`<line x1="${lx}" y1="${ly - 4}" x2="${lx + 28}" y2="${ly - 4}" stroke="${s.color}" stroke-width="2"${s.dash === "" ? "" : ` stroke-dasharray="${s.dash}"`}/>`);
  svg.push(`<circle cx="${lx + 14}" cy="${ly - 4}" r="3.5" fill="${s.color}"/>`);
  svg.push(`<text x="${lx + 36}" y="${ly}">${esc(s.label)}</text>`);
}
ly += 22;
svg.push(`<rect x="${lx + 10}" y="${ly - 8}" width="8" height="8" fill="#d62728"/>`);
svg.push(`<text x="${lx + 36}" y="${ly}">float16 (half precision)</text>`);
ly += 30;
const { tensors, values } = series[0].points[0];
const notes = [
  "numbers next to points:", "bits per weight", "",
  "each point: quantizeWeights", "(default selector, fusion),", "then weightReport against", "the float32 model", "",
  "a lookup table holds 2^n floats", "per tensor: on this tiny model", `(${tensors} tensors, ${values} weights)`, "the tables dominate the size", "at high bit widths",
];
for (const line of notes) {
  svg.push(`<text x="${lx}" y="${ly}" fill="#555" font-size="11">${esc(line)}</text>`);
  ly += 15;
}
svg.push("</svg>");
writeFileSync(root + OUT, `${svg.join("\n")}\n`);
console.log(`\nwrote ${OUT}`);
