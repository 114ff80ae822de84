/**
 * The executor's spatial (classic image) layer kinds: convolution and
 * deconvolution, innerProduct, batchnorm, pooling, padding, upsample,
 * resizeBilinear, crop, lrn, l2normalize, mvn and embedding.
 *
 * @packageDocumentation
 */
import type { LayerImpls } from "../../layer-runner.js";
import { batchnorm } from "./batchnorm.js";
import { convolution } from "./convolution.js";
import { crop } from "./crop.js";
import { embedding } from "./embedding.js";
import { innerProduct } from "./inner-product.js";
import { l2normalize } from "./l2normalize.js";
import { lrn } from "./lrn.js";
import { mvn } from "./mvn.js";
import { padding } from "./padding.js";
import { pooling } from "./pooling.js";
import { resizeBilinear } from "./resize-bilinear.js";
import { upsample } from "./upsample.js";

/** spatial layer kinds, keyed by kind. */
export const SPATIAL_LAYERS: LayerImpls = {
  convolution,
  innerProduct,
  batchnorm,
  pooling,
  padding,
  upsample,
  resizeBilinear,
  crop,
  lrn,
  l2normalize,
  mvn,
  embedding,
};
