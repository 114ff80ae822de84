/**
 * The executor's recurrent layer kinds: simpleRecurrent, gru,
 * uniDirectionalLSTM and biDirectionalLSTM. Each steps along axis 0 (Seq) of a
 * `[Seq, Batch, C, 1, 1]` blob; absent initial states are zeros.
 *
 * @packageDocumentation
 */
import type { LayerImpls } from "../../layer-runner.js";
import { gru } from "./gru.js";
import { biDirectionalLSTM, uniDirectionalLSTM } from "./lstm.js";
import { simpleRecurrent } from "./simple-recurrent.js";

/** recurrent layer kinds, keyed by kind. */
export const RECURRENT_LAYERS: LayerImpls = {
  simpleRecurrent,
  gru,
  uniDirectionalLSTM,
  biDirectionalLSTM,
};
