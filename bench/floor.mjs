// The floor under any quantizing tool on this machine, as a whole process:
// `node bench/floor.mjs IN OUT BYTES` starts Node, reads IN, and writes BYTES bytes
// to OUT with fsync, doing nothing else. bench/run.mjs times it beside the CLI.
import { closeSync, fsyncSync, openSync, readFileSync, writeSync } from "node:fs";

const [input, output, size] = process.argv.slice(2);
const bytes = readFileSync(input);
const out = new Uint8Array(Number(size));
// Touch the output as a quantizer would (every page written).
for (let i = 0; i < out.length; i += 4096) out[i] = bytes[i % bytes.length];
const fd = openSync(output, "w");
for (let offset = 0; offset < out.length; ) offset += writeSync(fd, out, offset);
fsyncSync(fd);
closeSync(fd);
