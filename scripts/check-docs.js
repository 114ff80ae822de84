// Checks the API reference that `npm run docs` wrote: the whole site within
// SITE_LIMIT and no file within it over FILE_LIMIT. Generated message types
// expanded inline once made one page 8 MB and the site 130 MB; this keeps that
// from coming back unnoticed. Prints the totals, then one line per offender, and
// exits 1 when there is any.
//
// Usage: node scripts/check-docs.js [site directory, default docs/api]
import { readdirSync, statSync } from "node:fs";
import { join, relative } from "node:path";

/** The whole site, in bytes: a reference a reader can download and browse. */
const SITE_LIMIT = 5_000_000;
/** One file (a page, or a script every page loads), in bytes: one a browser opens at once. */
const FILE_LIMIT = 300_000;

const site = process.argv[2] ?? join("docs", "api");

/** Every file under `dir`, with its size. */
function filesUnder(dir) {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => {
      const path = join(entry.parentPath ?? entry.path, entry.name); // parentPath: Node >= 20.12
      return { path: relative(site, path), bytes: statSync(path).size };
    });
}

const formatBytes = (bytes) => (bytes >= 1_000_000 ? `${(bytes / 1_000_000).toFixed(2)} MB` : `${(bytes / 1000).toFixed(1)} KB`);

let files;
try {
  files = filesUnder(site);
} catch (error) {
  console.error(`${site}: cannot read the site (${error.code ?? error.message}); run \`npm run docs\` first`);
  process.exit(1);
}
if (files.length === 0) {
  console.error(`${site}: empty; run \`npm run docs\` first`);
  process.exit(1);
}

const total = files.reduce((sum, file) => sum + file.bytes, 0);
const largest = files.reduce((a, b) => (b.bytes > a.bytes ? b : a));
console.log(
  `${site}: ${files.length} files, ${formatBytes(total)} (limit ${formatBytes(SITE_LIMIT)}); ` +
    `largest ${largest.path}, ${formatBytes(largest.bytes)} (limit ${formatBytes(FILE_LIMIT)})`,
);

const offenders = [
  ...(total > SITE_LIMIT ? [`${site}: ${formatBytes(total)} in all, over the ${formatBytes(SITE_LIMIT)} limit for the site`] : []),
  ...files
    .filter((file) => file.bytes > FILE_LIMIT)
    .sort((a, b) => b.bytes - a.bytes)
    .map((file) => `${join(site, file.path)}: ${formatBytes(file.bytes)}, over the ${formatBytes(FILE_LIMIT)} limit for one file`),
];
for (const line of offenders) console.error(line);
process.exit(offenders.length > 0 ? 1 : 0);
