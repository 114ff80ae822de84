import { mkdtempSync, readFileSync, rmSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { run } from "../../src/cli/run.js";
async function cli(argv: string[], tty = false) {
  let stdout = ""; let stderr = "";
  const code = await run(argv, { stdout: (t) => { stdout += t; }, stderr: (t) => { stderr += t; }, version: "x", stderrIsTty: tty });
  return { code, stdout, stderr };
}
test("explore", async () => {
  const dir = mkdtempSync(join(tmpdir(), "cq-"));
  const M = "test/fixtures/golden/models/";
  console.log((await cli(["inspect", M + "cnn.mlmodel"])).stdout);
  console.log((await cli(["inspect", "test/fixtures/golden/expected/cnn.linear.8.sel24.mlmodel"])).stdout);
  const r = await cli(["quantize", M + "cnn.mlmodel", "-o", join(dir, "o.mlmodel"), "--nbits", "8", "--skip-layer-types", "innerProduct", "--min-conv-weight-count", "1"]);
  console.log(r);
  console.log(Buffer.compare(readFileSync(join(dir, "o.mlmodel")), readFileSync("test/fixtures/golden/expected/cnn.linear.8.sel24.mlmodel")));
  let t = 0; const spy = jest.spyOn(Date, "now").mockImplementation(() => (t += 1000));
  console.log(await cli(["quantize", M + "cnn.mlmodel", "-o", join(dir, "o.mlmodel"), "--nbits", "8", "--skip-layer-types", "bias"], true));
  console.log(await cli(["quantize", M + "pipeline.mlmodel", "-o", join(dir, "o.mlmodel"), "--nbits", "8"], true));
  console.log(await cli(["quantize", M + "fp16_overflow.mlmodel", "-o", join(dir, "o.mlmodel"), "--nbits", "16"], true));
  spy.mockRestore();
  console.log(readdirSync(dir));
  rmSync(dir, { recursive: true });
});
