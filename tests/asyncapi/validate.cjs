// Parse and validate AsyncAPI documents with the official parser (@asyncapi/parser).
// Usage: node validate.cjs NODE_MODULES_DIR FILE...; prints one JSON line per file:
// {"file", "errors": [...], "warnings": [...]}; exits 0 once every file was parsed.
"use strict";
const fs = require("fs");
const path = require("path");

const [modules, ...files] = process.argv.slice(2);
const { Parser } = require(path.resolve(modules, "@asyncapi", "parser"));
// Severities of the parser's diagnostics (Spectral's DiagnosticSeverity).
const ERROR = 0;
const WARNING = 1;

async function main() {
  const parser = new Parser();
  for (const file of files) {
    const { document, diagnostics } = await parser.parse(fs.readFileSync(file, "utf8"), { source: file });
    const show = (d) => `${d.code} at ${d.path.join(".")}: ${d.message}`;
    const result = {
      file,
      parsed: document !== undefined,
      errors: diagnostics.filter((d) => d.severity === ERROR).map(show),
      warnings: diagnostics.filter((d) => d.severity === WARNING).map(show),
      channels: document ? document.channels().length : 0,
      operations: document ? document.operations().length : 0,
      messages: document ? document.allMessages().length : 0,
    };
    process.stdout.write(JSON.stringify(result) + "\n");
  }
}

main().catch((err) => {
  process.stderr.write(String(err && err.stack ? err.stack : err) + "\n");
  process.exit(2);
});
