/**
 * TypeDoc plugin: links the generated Core ML types (src/gen, which the API
 * reference leaves out: ~780 pages would be several times the size of the rest
 * of the site) to Apple's Core ML Format Reference, which documents each message
 * of each `.proto` file under a heading of its own.
 *
 * Loaded by typedoc.json ("plugin"); references to anything else are left to
 * TypeDoc, so a missing export of our own still fails the `notExported` check.
 */

/** Apple's Core ML Format Reference: one page per `.proto` file. */
const FORMAT_REFERENCE = "https://apple.github.io/coremltools/mlmodel/Format/";

/** A generated file (package-relative path) and the `.proto` file it comes from. */
const GENERATED_FILE = /(?:^|\/)src\/gen\/(\w+)_pb\.ts$/;

/**
 * The URL documenting a generated symbol: the page of its `.proto` file, at the
 * heading of its message or enum. protobuf-es names a nested message
 * `Outer_Inner` and its schema `Outer_InnerSchema`; the reference's heading is
 * `Outer.Inner`, whose anchor is `outer-inner`. File descriptors (`file_Model`)
 * link to the page itself.
 *
 * @param {string} protoFile - the `.proto` file's name without extension
 * @param {string} name - the exported name of the generated symbol
 * @returns {string} the URL
 */
export function formatReferenceUrl(protoFile, name) {
  const page = `${FORMAT_REFERENCE}${protoFile}.html`;
  if (name.startsWith("file_")) return page;
  const message = name.endsWith("Schema") ? name.slice(0, -"Schema".length) : name;
  return `${page}#${message.toLowerCase().replaceAll("_", "-")}`;
}

/** @param {import("typedoc").Application} app */
export function load(app) {
  app.converter.addUnknownSymbolResolver((_ref, _reflection, _part, symbolId) => {
    const protoFile = symbolId?.packagePath.match(GENERATED_FILE)?.[1];
    if (protoFile === undefined || symbolId === undefined) return undefined;
    return formatReferenceUrl(protoFile, symbolId.qualifiedName);
  });
}
