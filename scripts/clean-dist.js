// npm pack and npm publish start from an empty dist/ (this runs as prepack; prepare
// then builds): files of modules since renamed or removed would otherwise be
// packed with the new ones. A plain build does not empty it, so that tests which
// run the built CLI never meet a dist/ half rebuilt by another.
import { rmSync } from "node:fs";

rmSync(new URL("../dist", import.meta.url), { recursive: true, force: true });
