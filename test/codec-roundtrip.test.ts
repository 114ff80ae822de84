import { readFileSync, readdirSync } from "node:fs";
import { decodeModel } from "../src/codec/decode-model.js";
import { encodeModel } from "../src/codec/encode-model.js";
const dir = "test/fixtures/golden/models/";
for (const name of readdirSync(dir)) {
  test(name, () => {
    const bytes = readFileSync(dir + name);
    const model = decodeModel(bytes);
    const out = encodeModel(model);
    expect(Buffer.from(out).equals(bytes)).toBe(true);
    expect(decodeModel(out)).toEqual(model);
  });
}
