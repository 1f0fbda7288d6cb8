// Typesets TeX into MathJax's CommonHTML ahead of time, with the MathJax the site serves.
//
//   node scripts/render_maths.js MATHJAX_DIR FONT_URL < formulas.json > rendered.json
//
// Reads a JSON list of {"tex": "...", "display": true|false} and writes
// {"html": [one <mjx-container> per formula, in order], "css": "...", "errors": [...]}.
// The CSS covers every character of every formula (one style sheet for the whole site);
// its fonts are looked up at FONT_URL, relative to where the style sheet is served.
// Each formula also carries MathJax's hidden MathML copy for screen readers, as in the browser.
// A formula MathJax cannot read is reported in "errors" with its TeX and MathJax's message.
"use strict";

const path = require("path");

const [mathjaxDir, fontURL] = process.argv.slice(2);
if (!mathjaxDir || !fontURL) {
  console.error("usage: node render_maths.js MATHJAX_DIR FONT_URL < formulas.json");
  process.exit(2);
}

function readStdin() {
  return new Promise((resolve, reject) => {
    const chunks = [];
    process.stdin.on("data", (chunk) => chunks.push(chunk));
    process.stdin.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    process.stdin.on("error", reject);
  });
}

async function main() {
  const formulas = JSON.parse(await readStdin());
  const MathJax = await require(path.resolve(mathjaxDir, "node-main.js")).init({
    loader: { load: ["input/tex", "output/chtml", "adaptors/liteDOM", "a11y/assistive-mml"] },
    chtml: { fontURL },
  });
  const adaptor = MathJax.startup.adaptor;
  const html = [];
  const errors = [];
  for (const { tex, display } of formulas) {
    const node = MathJax.tex2chtml(tex, { display });
    // A displayed formula wider than a phone scrolls sideways in its box: a keyboard reaches it
    // as it reaches any scrolling region (in the browser, MathJax's menu made every formula a stop).
    if (display) adaptor.setAttribute(node, "tabindex", "0");
    const markup = adaptor.outerHTML(node);
    const error = markup.match(/data-mjx-error="([^"]*)"/);
    if (error || markup.includes("<mjx-merror")) errors.push({ tex, message: error ? error[1] : "unknown error" });
    html.push(markup);
  }
  const css = adaptor.textContent(MathJax.chtmlStylesheet());
  process.stdout.write(JSON.stringify({ html, css, errors }));
}

main().catch((error) => {
  console.error(error && error.stack ? error.stack : String(error));
  process.exit(1);
});
