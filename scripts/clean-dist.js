// A build starts from an empty dist/: files of modules since renamed or removed
// would otherwise be packed and published with the new ones.
import { rmSync } from "node:fs";

rmSync(new URL("../dist", import.meta.url), { recursive: true, force: true });
