/**
 * Layer paths in a narrow column: the name loses its middle first, then the
 * networks before the layer; `layers[N] "` and a trailing marker stay.
 */
import * as fc from "fast-check";
import { displayWidth, ELLIPSIS } from "../../src/report/display-width.js";
import { shortenLayerPath } from "../../src/report/shorten-layer-path.js";
import { propertySeed } from "../support/property-seed.js";

const params = { seed: propertySeed(), numRuns: 500 };

describe("shortenLayerPath", () => {
  test.each([
    ['neuralNetwork/layers[5] "encoder/block_12/conv_3"', 49, 'neuralNetwork/layers[5] "encoder/block_12/conv_3"'],
    ['neuralNetwork/layers[5] "encoder/block_12/conv_3"', 48, 'neuralNetwork/layers[5] "encoder/bl…k_12/conv_3"'],
    ['neuralNetwork/layers[5] "encoder/block_12/conv_3"', 44, 'neuralNetwork/layers[5] "encoder/…12/conv_3"'],
    // The name keeps 8 columns; the networks give up the rest.
    ['neuralNetwork/layers[5] "encoder/block_12/conv_3"', 30, 'neur…work/layers[5] "enc…nv_3"'],
    ['neuralNetwork/layers[7] "deconv5_grouped" *', 40, 'neuralNetwork/layers[7] "decon…rouped" *'],
    ['neuralNetwork/layers[0] "emb"', 16, '…layers[0] "emb"'],
    ['pipelineClassifier.pipeline.models[0]/neuralNetwork/layers[0] "conv2d_4"', 35, 'pipelin…etwork/layers[0] "conv2d_4"'],
    // Nested: the last layer is the one kept.
    ['neuralNetwork/layers[2] "branch"/ifBranch/layers[0] "if_fc"', 30, 'neural…ranch/layers[0] "if_fc"'],
    // Too narrow for the layer reference, or no layer path at all: the whole loses its middle.
    ['neuralNetwork/layers[7] "deconv5_grouped" *', 16, 'neuralN…ouped" *'],
    ["not a layer path at all, just long text", 20, "not a lay… long text"],
  ])("%j in %i columns: %j", (path, width, expected) => {
    expect(shortenLayerPath(path, width)).toBe(expected);
    expect(displayWidth(expected)).toBeLessThanOrEqual(width);
  });

  test("property: within the width, deterministic, the layer's index kept when there is room for it", () => {
    const word = fc.array(fc.constantFrom("a", "b", "/", "_", "7", "卷", "🙂", "e\u0301"), { minLength: 1, maxLength: 80 }).map((p) => p.join(""));
    const path = fc.tuple(fc.array(word, { maxLength: 3 }), fc.nat(999), word, fc.boolean()).map(([nets, index, name, fused]) => ({
      index,
      text: `${nets.map((n, i) => `${JSON.stringify(n)}/layers[${i}] `).join("")}neuralNetwork/layers[${index}] ${JSON.stringify(name)}${fused ? " *" : ""}`,
      fused,
    }));
    fc.assert(
      fc.property(path, fc.integer({ min: 1, max: 120 }), ({ index, text, fused }, width) => {
        const short = shortenLayerPath(text, width);
        expect(shortenLayerPath(text, width)).toBe(short);
        expect(displayWidth(short)).toBeLessThanOrEqual(width);
        if (displayWidth(text) <= width) {
          expect(short).toBe(text);
        } else if (width >= `…layers[${index}] "${"x".repeat(8)}"${fused ? " *" : ""}`.length) {
          expect(short).toContain(`layers[${index}] "`);
          expect(short.endsWith(fused ? '" *' : '"')).toBe(true);
          expect(short).toContain(ELLIPSIS);
        }
      }),
      params,
    );
  });
});
