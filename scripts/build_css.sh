#!/usr/bin/env bash
# Build survey_app/static/css/pulse.css from survey_app/static/scss/pulse.scss.
#
#   1. Compile with the project's own dart-sass (node_modules/.bin/sass,
#      pinned in package.json), compressed, no source map.
#   2. Keep only the rules for the nhsuk-* classes listed on the `// keep:`
#      lines of pulse.scss (see the comment at its top), and drop any rule that
#      loads a url() so the page fetches nothing else.
#   3. Check the result: it parses, has no url( and no @font-face.
#   4. Print raw and gzip sizes.
#
# Same input, same bytes out. Run from anywhere: `npm run build:css`.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

sass="node_modules/.bin/sass"
src="survey_app/static/scss/pulse.scss"
out="${1:-survey_app/static/css/pulse.css}"  # an argument builds elsewhere (the freshness test)

if [[ ! -x "$sass" ]]; then
  echo "build_css: $sass not found; run 'npm ci' first" >&2
  exit 1
fi

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

"$sass" --style=compressed --no-source-map --load-path=node_modules \
  "$src" "$tmp/full.css"

# The class list: every word on the `// keep:` lines of pulse.scss.
sed -n 's|^[[:space:]]*//[[:space:]]*keep:||p' "$src" | tr -s ' \t' '\n\n' |
  sed '/^$/d' | LC_ALL=C sort -u >"$tmp/keep.txt"

node - "$tmp/full.css" "$tmp/keep.txt" "$tmp/pulse.css" <<'JS'
// Prune dart-sass compressed output: keep rules whose selectors only need
// nhsuk-* classes from the keep list; drop rules that reference url().
"use strict";
const fs = require("fs");
const [fullPath, keepPath, outPath] = process.argv.slice(2);
let css = fs.readFileSync(fullPath, "utf8");
const keep = new Set(fs.readFileSync(keepPath, "utf8").split("\n").filter(Boolean));

// dart-sass writes a BOM (not @charset) in compressed mode when non-ASCII remains.
let bom = "";
if (css.charCodeAt(0) === 0xfeff) { bom = "\ufeff"; css = css.slice(1); }
css = css.trim();

const missing = [...keep].filter((c) => !new RegExp(`\\.${c}(?![\\w-])`).test(css));
if (missing.length) {
  console.error(`build_css: keep-listed classes not in the compiled CSS (typo or removed upstream): ${missing.join(" ")}`);
  process.exit(1);
}

// Index just past the `{`/`;`/`}` that ends the token starting at i,
// skipping quoted strings and anything inside parentheses.
function scan(s, i, stops) {
  let depth = 0;
  for (; i < s.length; i++) {
    const c = s[i];
    if (c === '"' || c === "'") {
      for (i++; i < s.length && s[i] !== c; i++) if (s[i] === "\\") i++;
    } else if (c === "(") depth++;
    else if (c === ")") depth--;
    else if (depth === 0 && stops.includes(c)) return i;
  }
  throw new Error(`build_css: unbalanced CSS near offset ${i}`);
}

// At-rules whose block holds declarations, not rules.
const declAtRules = /^@(font-face|page|property|counter-style|font-palette-values)\b/;

function parse(s, i, nested) {
  const nodes = [];
  while (i < s.length) {
    if (s[i] === "}") {
      if (!nested) throw new Error("build_css: stray }");
      return [nodes, i + 1];
    }
    const j = scan(s, i, "{;}");
    const prelude = s.slice(i, j);
    if (s[j] !== "{") { // statement (@import, @charset) or trailing decl
      nodes.push({ stmt: prelude });
      i = s[j] === ";" ? j + 1 : j;
      continue;
    }
    if (prelude.startsWith("@") && !declAtRules.test(prelude)) {
      const [children, k] = parse(s, j + 1, true);
      nodes.push({ prelude, children });
      i = k;
    } else {
      const k = scan(s, j + 1, "}");
      nodes.push({ prelude, body: s.slice(j + 1, k) });
      i = k + 1;
    }
  }
  if (nested) throw new Error("build_css: missing }");
  return [nodes, i];
}

function splitTop(s, sep) {
  const parts = [];
  let depth = 0, start = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === '"' || c === "'") {
      for (i++; i < s.length && s[i] !== c; i++) if (s[i] === "\\") i++;
    } else if (c === "(" || c === "[") depth++;
    else if (c === ")" || c === "]") depth--;
    else if (depth === 0 && c === sep) { parts.push(s.slice(start, i)); start = i + 1; }
  }
  parts.push(s.slice(start));
  return parts;
}

// Remove :not(...), :is(...), :where(...) arguments: classes there are not
// required for a match (negated, or one of several alternatives).
function stripOptional(sel) {
  let outSel = "";
  for (let i = 0; i < sel.length; ) {
    const m = /^:(not|is|where|matches)\(/.exec(sel.slice(i));
    if (!m) { outSel += sel[i++]; continue; }
    let depth = 1, k = i + m[0].length;
    for (; k < sel.length && depth; k++) {
      if (sel[k] === "(") depth++;
      else if (sel[k] === ")") depth--;
    }
    outSel += ":" + m[1] + "()";
    i = k;
  }
  return outSel.replace(/\[[^\]]*\]/g, "[]"); // attribute values are not classes
}

function selectorKept(sel) {
  const needed = stripOptional(sel).match(/\.nhsuk-[\w-]+/g) || [];
  return needed.every((c) => keep.has(c.slice(1)));
}

const droppedForUrl = new Set();

function emit(nodes) {
  let o = "";
  for (const n of nodes) {
    if (n.stmt !== undefined) {
      o += n.stmt + ";";
    } else if (n.children) {
      // `@media screen\0` (an IE 8-10 hack) compiles to U+FFFD: no modern
      // browser matches it, and sass cannot re-read it, so leave it out.
      if (n.prelude.includes("\ufffd")) continue;
      const inner = emit(n.children);
      if (inner) o += n.prelude + "{" + inner + "}";
    } else if (n.prelude.startsWith("@") || /^(from|to|[\d.]+%)/.test(n.prelude)) {
      if (/url\(/i.test(n.body)) droppedForUrl.add(n.prelude);
      else o += n.prelude + "{" + n.body + "}";
    } else {
      const sels = splitTop(n.prelude, ",").filter(selectorKept);
      if (!sels.length) continue;
      if (/url\(/i.test(n.body)) { sels.forEach((s) => droppedForUrl.add(s)); continue; }
      o += sels.join(",") + "{" + n.body + "}";
    }
  }
  return o;
}

const [tree] = parse(css, 0, false);
const result = emit(tree);
for (const s of [...droppedForUrl].sort()) console.log(`  dropped (loads url()): ${s}`);
console.log(`  kept classes: ${keep.size}`);
fs.writeFileSync(outPath, bom + result + "\n");
JS

# The pruned file must still be valid CSS: let sass parse it again.
"$sass" --no-source-map "$tmp/pulse.css" >/dev/null

if grep -q 'url(' "$tmp/pulse.css"; then
  echo "build_css: url( left in output:" >&2
  grep -o 'url([^)]*)' "$tmp/pulse.css" >&2
  exit 1
fi
if grep -q '@font-face' "$tmp/pulse.css"; then
  echo "build_css: @font-face left in output" >&2
  exit 1
fi

mkdir -p "$(dirname "$out")"
mv "$tmp/pulse.css" "$out"

raw=$(wc -c <"$out")
gz=$(gzip -9 -n -c "$out" | wc -c)
full_raw=$(wc -c <"$tmp/full.css")
full_gz=$(gzip -9 -n -c "$tmp/full.css" | wc -c)
printf '%s: %d bytes raw, %d bytes gzip -9 (before pruning: %d raw, %d gzip)\n' \
  "$out" "$raw" "$gz" "$full_raw" "$full_gz"
