/**
 * A layer path shortened for a table column: the layer's own name loses its middle
 * first (`neuralNetwork/layers[5] "encoder/blo…/conv_3"`), then the networks before
 * it (`neural…/layers[5] "enc…nv_3"`), so the layer's index and the ends of its
 * name stay readable.
 *
 * @packageDocumentation
 */
import { displayWidth, shortenMiddle } from "./display-width.js";

/** The fewest columns the name keeps while the networks before it can give up some instead. */
const MIN_NAME_WIDTH = 8;

/** The last layer of a path: `layers[N] "` (the walker quotes names as JSON strings). */
const LAYER_START = /layers\[\d+\] "/g;

/**
 * `path` in at most `width` columns. Its last layer (`layers[N] "name"`, after the
 * networks that hold it, before a marker such as ` *`) gives up columns in this
 * order: the name loses its middle down to {@link MIN_NAME_WIDTH} columns, then
 * the networks lose their middle (down to `…`), then the name the rest. The
 * `layers[N] "` part and the marker stay. Text that is no layer path, or too
 * narrow a width for even that, loses its middle as a whole ({@link shortenMiddle}).
 *
 * @param path - a layer path as a table shows it, escaped for the terminal
 * @param width - the most columns the result may take
 * @returns the path, shortened when it is wider
 * @example
 * ```ts
 * shortenLayerPath('neuralNetwork/layers[5] "encoder/block_12/conv_3"', 44);
 * // 'neuralNetwork/layers[5] "encoder/…12/conv_3"'
 * ```
 */
export function shortenLayerPath(path: string, width: number): string {
  if (displayWidth(path) <= width) return path;
  let layer = -1;
  let open = -1;
  for (const match of path.matchAll(LAYER_START)) {
    layer = match.index;
    open = match.index + match[0].length;
  }
  const close = path.lastIndexOf('"');
  if (layer < 0 || close < open) return shortenMiddle(path, width);
  const networks = path.slice(0, layer);
  const reference = path.slice(layer, open);
  const name = path.slice(open, close);
  const after = path.slice(close);
  const fixed = displayWidth(reference) + displayWidth(after);
  // The name keeps what the networks leave it, and at least MIN_NAME_WIDTH while they can give.
  const nameWidth = Math.max(Math.min(displayWidth(name), MIN_NAME_WIDTH), width - fixed - displayWidth(networks));
  const networksWidth = width - fixed - Math.min(nameWidth, displayWidth(name));
  // Even "…" before the layer leaves the name less than one column: cut the whole.
  if (networks !== "" && networksWidth < 1) return shortenMiddle(path, width);
  const shownNetworks = shortenMiddle(networks, networksWidth);
  return `${shownNetworks}${reference}${shortenMiddle(name, width - fixed - displayWidth(shownNetworks))}${after}`;
}
