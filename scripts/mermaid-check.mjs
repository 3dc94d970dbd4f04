#!/usr/bin/env node
// Check every ```mermaid block in markdown with Mermaid's own parser.
//
//   node scripts/mermaid-check.mjs [FILE.md ...]      (no file: read stdin)
//
// Prints one line per block ("FILE block N (line L): ok <type>" or "... : error <message>")
// and exits 1 when any block fails to parse, 2 when no block was found at all (a check that
// saw nothing must not pass), 0 otherwise. The charts mlgate's reports draw
// (src/mlgate/report/mermaid.py) are checked this way in tests/report/test_mermaid.py, so a
// label from data that broke the chart syntax fails the tests rather than a PR comment.
//
// mermaid.parse needs a DOM in Node (DOMPurify's hooks sanitise labels while parsing), so a
// jsdom window is installed before mermaid is imported. @mermaid-js/parser would need none,
// but it has no xychart grammar.
import { readFileSync } from "node:fs";
import { JSDOM } from "jsdom";

const dom = new JSDOM("<!doctype html><html><body></body></html>");
globalThis.window = dom.window;
globalThis.document = dom.window.document;
const { default: mermaid } = await import("mermaid");
mermaid.initialize({ startOnLoad: false, securityLevel: "strict" });

/** Fenced ```mermaid (or ~~~mermaid) blocks of CommonMark text: {line, text} each. */
function mermaidBlocks(markdown) {
  const blocks = [];
  const lines = markdown.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const open = /^ {0,3}(`{3,}|~{3,})\s*mermaid\s*$/.exec(lines[i]);
    if (!open) continue;
    const fence = open[1];
    const body = [];
    let j = i + 1;
    for (; j < lines.length; j++) {
      const close = /^ {0,3}(`{3,}|~{3,})\s*$/.exec(lines[j]);
      if (close && close[1][0] === fence[0] && close[1].length >= fence.length) break;
      body.push(lines[j]);
    }
    blocks.push({ line: i + 1, text: body.join("\n") });
    i = j;
  }
  return blocks;
}

const files = process.argv.slice(2);
const inputs = files.length
  ? files.map((name) => ({ name, text: readFileSync(name, "utf8") }))
  : [{ name: "<stdin>", text: readFileSync(0, "utf8") }];

let failed = 0;
let seen = 0;
for (const { name, text } of inputs) {
  const blocks = mermaidBlocks(text);
  for (const [n, block] of blocks.entries()) {
    seen++;
    const where = `${name} block ${n + 1} (line ${block.line})`;
    try {
      const result = await mermaid.parse(block.text);
      console.log(`${where}: ok ${result.diagramType}`);
    } catch (err) {
      failed++;
      const message = String(err?.message ?? err).replace(/\s+/g, " ").slice(0, 400);
      console.log(`${where}: error ${message}`);
    }
  }
}
if (!seen) {
  console.log("no ```mermaid block found");
  process.exit(2);
}
process.exit(failed ? 1 : 0);
