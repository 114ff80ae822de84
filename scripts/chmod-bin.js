// npm marks the bin executable on install, but a plain `npm run build` in a clone
// does not: do it here so `./dist/cli/main.js` runs directly.
import { chmodSync } from "node:fs";
chmodSync(new URL("../dist/cli/main.js", import.meta.url), 0o755);
