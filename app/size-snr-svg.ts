/**
 * The size-against-SNR chart as inline SVG: one line per mode, the float16 point,
 * the model's own size as a reference line. Each point is a button (click, or
 * arrow keys then Enter or Space) that chooses its setting.
 */
import { formatBytes } from "../src/report/format-table.js";
import type { SizeSnrChart, SizeSnrPoint, SizeSnrSeries, SizeSnrSetting } from "../src/worker/size-snr-chart.js";

/** How each line looks, and its name in the legend. */
const SERIES_STYLE: Record<SizeSnrSeries, { readonly label: string; readonly color: string; readonly dash: string }> = {
  linear: { label: "linear", color: "#1f6fb4", dash: "" },
  linear_lut: { label: "linear_lut", color: "#c05a00", dash: "6 4" },
  kmeans_lut: { label: "kmeans_lut (k-means)", color: "#23862a", dash: "2 3" },
  float16: { label: "float16", color: "#c42021", dash: "" },
};

const SVG = "http://www.w3.org/2000/svg";
const WIDTH = 720;
const HEIGHT = 420;
const MARGIN = { left: 60, right: 20, top: 40, bottom: 50 };
const PLOT_W = WIDTH - MARGIN.left - MARGIN.right;
const PLOT_H = HEIGHT - MARGIN.top - MARGIN.bottom;

/** A setting's name for people: `kmeans_lut 4-bit`, `float16`. */
export function settingName(setting: SizeSnrSetting): string {
  return setting.series === "float16" ? "float16" : `${setting.series} ${setting.nbits}-bit`;
}

/** What a point says of itself: its name for screen readers and its tooltip. */
export function pointLabel(point: SizeSnrPoint): string {
  const name = settingName(point);
  const snr =
    point.meanSnrDb === null
      ? "exact"
      : `${point.meanSnrDb.toFixed(1)} dB mean SNR${point.minSnrDb === null ? "" : `, lowest ${point.minSnrDb.toFixed(1)} dB`}`;
  return `${name}: ${formatBytes(point.fileBytes)}, ${snr}`;
}

function node<K extends keyof SVGElementTagNameMap>(name: K, attributes: Record<string, string | number>, text?: string): SVGElementTagNameMap[K] {
  const made = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attributes)) made.setAttribute(key, String(value));
  if (text !== undefined) made.textContent = text;
  return made;
}

/** A round step of about a fifth of `span`: 1, 2 or 5 times a power of ten. */
function tickStep(span: number): number {
  const rough = span / 5;
  const power = 10 ** Math.floor(Math.log10(rough));
  const step = [1, 2, 5, 10].find((m) => m * power >= rough) ?? 10;
  return step * power;
}

const f = (n: number): string => n.toFixed(1);

/**
 * Draws `chart`; `onChoose` is called with the point a user picks. Points whose
 * weights are all exact (no SNR) are left out of the plot.
 *
 * @param chart - what sizeSnrChart measured
 * @param onChoose - called with the chosen point
 * @returns the `<svg>` element, to put in the page
 */
export function drawSizeSnrChart(chart: SizeSnrChart, onChoose: (point: SizeSnrPoint) => void): SVGSVGElement {
  const points = chart.points.filter((p): p is SizeSnrPoint & { meanSnrDb: number } => p.meanSnrDb !== null);
  const svg = node("svg", { viewBox: `0 0 ${WIDTH} ${HEIGHT}`, class: "size-snr-chart", role: "group", "aria-label": "Weight SNR against file size" });
  const largest = Math.max(chart.fileBytes, ...points.map((p) => p.fileBytes));
  const unit = largest >= 10_000_000 ? { name: "MB", bytes: 1_000_000 } : { name: "KB", bytes: 1000 };
  const inUnit = (bytes: number): number => bytes / unit.bytes;
  const xStep = tickStep(inUnit(largest));
  const xMax = Math.ceil(inUnit(largest) / xStep) * xStep;
  const snrs = points.map((p) => p.meanSnrDb);
  const yStep = 10;
  const yMin = Math.min(0, Math.floor(Math.min(...snrs, 0) / yStep) * yStep);
  const yMax = Math.max(yMin + yStep, Math.ceil(Math.max(...snrs, 0) / yStep) * yStep);
  const x = (bytes: number): number => MARGIN.left + (inUnit(bytes) / xMax) * PLOT_W;
  const y = (db: number): number => MARGIN.top + PLOT_H - ((db - yMin) / (yMax - yMin)) * PLOT_H;

  const grid = node("g", { "aria-hidden": "true", class: "grid" });
  for (let db = yMin; db <= yMax; db += yStep) {
    grid.append(node("line", { x1: MARGIN.left, y1: f(y(db)), x2: MARGIN.left + PLOT_W, y2: f(y(db)), stroke: db === 0 ? "#aaa" : "#e3e3e3" }));
    grid.append(node("text", { x: MARGIN.left - 8, y: f(y(db) + 4), "text-anchor": "end" }, String(db)));
  }
  for (let k = 0; k <= xMax + xStep / 2; k += xStep) {
    const at = MARGIN.left + (k / xMax) * PLOT_W;
    grid.append(node("line", { x1: f(at), y1: MARGIN.top, x2: f(at), y2: MARGIN.top + PLOT_H, stroke: "#f0f0f0" }));
    grid.append(node("text", { x: f(at), y: MARGIN.top + PLOT_H + 18, "text-anchor": "middle" }, formatTick(k, xStep)));
  }
  grid.append(node("line", { x1: MARGIN.left, y1: MARGIN.top + PLOT_H, x2: MARGIN.left + PLOT_W, y2: MARGIN.top + PLOT_H, stroke: "#333" }));
  grid.append(node("line", { x1: MARGIN.left, y1: MARGIN.top, x2: MARGIN.left, y2: MARGIN.top + PLOT_H, stroke: "#333" }));
  grid.append(node("text", { x: MARGIN.left + PLOT_W / 2, y: HEIGHT - 12, "text-anchor": "middle" }, `model file size (${unit.name})`));
  grid.append(node("text", { transform: `translate(16 ${MARGIN.top + PLOT_H / 2}) rotate(-90)`, "text-anchor": "middle" }, "mean weight SNR (dB)"));
  // The model as it is: a vertical reference line.
  grid.append(
    node("line", { x1: f(x(chart.fileBytes)), y1: MARGIN.top, x2: f(x(chart.fileBytes)), y2: MARGIN.top + PLOT_H, stroke: "#888", "stroke-dasharray": "4 3" }),
  );
  grid.append(
    node("text", { x: f(x(chart.fileBytes) - 4), y: MARGIN.top + 12, "text-anchor": "end", fill: "#555" }, `as it is: ${formatBytes(chart.fileBytes)}`),
  );
  svg.append(grid);

  // The legend, in a row above the plot.
  const legend = node("g", { "aria-hidden": "true", class: "legend" });
  let lx = MARGIN.left;
  for (const [series, style] of Object.entries(SERIES_STYLE)) {
    legend.append(
      series === "float16"
        ? node("rect", { x: lx + 7.5, y: 11.5, width: 9, height: 9, fill: style.color })
        : node("line", { x1: lx, y1: 16, x2: lx + 24, y2: 16, stroke: style.color, "stroke-width": 2, "stroke-dasharray": style.dash }),
    );
    legend.append(node("text", { x: lx + 30, y: 20 }, style.label));
    lx += 40 + style.label.length * 7.5;
  }
  svg.append(legend);

  for (const series of Object.keys(SERIES_STYLE) as SizeSnrSeries[]) {
    const line = points.filter((p) => p.series === series);
    if (line.length < 2) continue;
    const { color, dash } = SERIES_STYLE[series];
    svg.append(
      node("polyline", {
        points: line.map((p) => `${f(x(p.fileBytes))},${f(y(p.meanSnrDb))}`).join(" "),
        fill: "none",
        stroke: color,
        "stroke-width": 2,
        "stroke-dasharray": dash,
        "aria-hidden": "true",
      }),
    );
  }

  const buttons: SVGGElement[] = [];
  const choose = (index: number): void => {
    const point = points[index];
    if (point === undefined) return;
    buttons.forEach((b, i) => b.setAttribute("aria-pressed", String(i === index)));
    onChoose(point);
  };
  const focus = (index: number): void => {
    const target = buttons[Math.max(0, Math.min(buttons.length - 1, index))];
    if (target === undefined) return;
    for (const b of buttons) b.setAttribute("tabindex", b === target ? "0" : "-1");
    target.focus();
  };
  points.forEach((point, index) => {
    const { color } = SERIES_STYLE[point.series];
    const cx = x(point.fileBytes);
    const cy = y(point.meanSnrDb);
    const label = pointLabel(point);
    const button = node("g", { class: "point", role: "button", tabindex: index === 0 ? 0 : -1, "aria-label": label, "aria-pressed": "false" });
    button.append(node("title", {}, label));
    // A wider target than the mark, for fingers.
    button.append(node("circle", { cx: f(cx), cy: f(cy), r: 9, fill: "transparent" }));
    button.append(
      point.series === "float16"
        ? node("rect", { x: f(cx - 4.5), y: f(cy - 4.5), width: 9, height: 9, fill: color, class: "mark" })
        : node("circle", { cx: f(cx), cy: f(cy), r: 4.5, fill: color, class: "mark" }),
    );
    button.append(
      node(
        "text",
        { x: f(cx + 7), y: f(cy - 6), fill: color, "font-size": 11, "aria-hidden": "true" },
        point.series === "float16" ? "16" : String(point.nbits),
      ),
    );
    button.addEventListener("click", () => {
      focus(index);
      choose(index);
    });
    button.addEventListener("keydown", (event) => {
      const move: Record<string, number> = {
        ArrowRight: index + 1,
        ArrowDown: index + 1,
        ArrowLeft: index - 1,
        ArrowUp: index - 1,
        Home: 0,
        End: buttons.length - 1,
      };
      const to = move[event.key];
      if (to !== undefined) {
        event.preventDefault();
        focus(to);
      } else if (event.key === "Enter" || event.key === " ") {
        event.preventDefault();
        choose(index);
      }
    });
    buttons.push(button);
    svg.append(button);
  });
  return svg;
}

/** A tick's label: as many decimals as the step needs. */
function formatTick(value: number, step: number): string {
  const decimals = Math.max(0, -Math.floor(Math.log10(step)));
  return value.toFixed(decimals);
}
