#!/usr/bin/env bash
# Fetch the JavaScript the rendered book needs (MathJax 3, RequireJS and the Jupyter
# widgets HTML manager) from the npm registry into book/_vendor/vendor/, so the built
# HTML works with no internet.
#
#   bash scripts/vendor_assets.sh          fetch what is missing or at another version
#   bash scripts/vendor_assets.sh --force  fetch everything again
#
# book/_vendor/ is git-ignored. book/_config.yml copies it into the root of the built
# site (html_extra_path), so the files end up in book/_build/html/vendor/<name>/; they
# are deliberately kept out of _static, whose js/css Jupyter Book 1 puts on every page.
#
# Versions are pinned (with npm's sha512 integrity) like everything else the book is
# built with; to upgrade, change VERSION and INTEGRITY below (`npm view PKG@VERSION
# dist.integrity`) and the paths in book/_config.yml if a file moved.
#
# Exit status: 0 when the assets are in place, 2 when npm is missing, 1 on any other
# failure (registry unreachable, integrity mismatch). scripts/build_book.sh then builds
# a book that loads these libraries from CDNs instead, and says so.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DEST="$ROOT/book/_vendor/vendor"
FORCE=0
[[ "${1:-}" == "--force" ]] && FORCE=1

# name in DEST | npm package | version | integrity
PACKAGES=(
  "mathjax|mathjax|3.2.2|sha512-Bt+SSVU8eBG27zChVewOicYs7Xsdt40qm4+UpHyX7k0/O9NliPc+x77k1/FEsPsjKPZGJvtRZM1vO+geW0OhGw=="
  "html-manager|@jupyter-widgets/html-manager|1.0.15|sha512-5thBIV6ymNgmPVOHvzx+gGy8ZSKmSazhtGw4/c4xJDVzRhG9PTeQsRjF3FUTopvFi//SABeNz1yp47bCrJ3CQA=="
  "requirejs|requirejs|2.3.8|sha512-7/cTSLOdYkNBNJcDMWf+luFvMriVm7eYxp4BcFCsAX0wF421Vyce5SXP17c+Jd5otXKGNehIonFlyQXSowL6Mw=="
)

installed_version() {  # the "version" field of DEST/<name>/package.json, or nothing
  local pkg_json="$DEST/$1/package.json"
  [[ -f "$pkg_json" ]] || return 0
  sed -n 's/^ *"version": *"\([^"]*\)".*/\1/p' "$pkg_json" | head -n 1
}

# Copy the files the book loads (and what they load lazily) out of an unpacked
# tarball ($1, the npm "package/" folder) into $2.
select_files() {
  local name=$1 src=$2 out=$3
  case "$name" in
    mathjax)
      # es5/ keeps its layout: tex-chtml-full.js finds its fonts (output/chtml/fonts)
      # and what the menu loads on demand (ui/, a11y/, sre/) relative to itself.
      # Drop the combined components the book does not use, node-only code, and
      # latest.js (it loads MathJax from a CDN).
      cp -R "$src/es5" "$out/"
      rm -f "$out"/es5/{tex-svg,tex-svg-full,tex-mml-svg,mml-svg,mml-chtml}.js
      rm -f "$out"/es5/{tex-chtml,tex-mml-chtml,tex-chtml-full-speech}.js
      rm -f "$out"/es5/{node-main,latest}.js
      rm -rf "$out"/es5/adaptors
      mv "$out"/es5/* "$out/" && rmdir "$out/es5"
      cp "$src/LICENSE" "$out/"
      ;;
    html-manager)
      # embed-amd.js bundles @jupyter-widgets/base, controls and output (widgets 8
      # and 7); the font files next to it are Font Awesome, referenced by its CSS.
      # There are no lazily loaded chunks in 1.0.x; keep the whole dist/ but the
      # CommonJS build and its source map.
      cp -R "$src/dist/." "$out/"
      rm -f "$out"/embed.js "$out"/embed.js.map "$out"/libembed-amd.js
      ;;
    requirejs)
      cp "$src/require.js" "$out/"
      ;;
  esac
  cp "$src/package.json" "$out/"
}

fetch() {  # name npm-package version integrity
  local name=$1 pkg=$2 version=$3 integrity=$4 tmp="$WORK/$1" tarball actual
  mkdir -p "$tmp"
  tarball="$(cd "$tmp" && npm pack --silent --no-fund --no-audit --loglevel=error \
    "$pkg@$version" | tail -n 1)"
  if [[ ! -f "$tmp/$tarball" ]]; then
    echo "vendor_assets: npm pack $pkg@$version gave no tarball" >&2
    return 1
  fi
  actual="sha512-$(node -e 'const c=require("crypto"),f=require("fs");
    process.stdout.write(c.createHash("sha512").update(f.readFileSync(process.argv[1]))
    .digest("base64"))' "$tmp/$tarball")"
  if [[ "$actual" != "$integrity" ]]; then
    echo "vendor_assets: integrity mismatch for $pkg@$version" >&2
    echo "  expected $integrity" >&2
    echo "  got      $actual" >&2
    return 1
  fi
  mkdir -p "$tmp/unpacked" "$tmp/out"
  tar -xzf "$tmp/$tarball" -C "$tmp/unpacked"
  select_files "$name" "$tmp/unpacked/package" "$tmp/out"
  mkdir -p "$DEST"
  rm -rf "$DEST/$name"
  mv "$tmp/out" "$DEST/$name"
  echo "vendor_assets: $pkg@$version -> book/_vendor/vendor/$name"
}

# widgets-setup.js: ours, not npm's, so always (re)written. book/_config.yml loads it
# on widget pages (nb_ipywidgets_js) before require.js and embed-amd.js, after the
# inline `window.MathJax = {...}` configuration and before MathJax (deferred) runs.
write_widgets_setup() {
  mkdir -p "$DEST"
  cat >"$DEST/widgets-setup.js" <<'JS'
/* Make the Jupyter widgets HTML manager work from the book's own files.
 * Written by scripts/vendor_assets.sh.
 *
 * 1. RequireJS configuration: embed-amd.js defines "@jupyter-widgets/html-manager/
 *    dist/..." modules and takes its webpack public path (where its Font Awesome fonts
 *    are) from their RequireJS address, by default relative to the page. Map that
 *    name to the vendored folder next to this script, wherever the page is.
 * 2. @jupyter-widgets typesets labels with the MathJax 2 API,
 *    MathJax.Hub.Queue(["Typeset", Hub, el]); the book loads MathJax 3. */
(function () {
  "use strict";
  var here = document.currentScript.src.replace(/[?#].*$/, "").replace(/[^/]*$/, "");
  window.require = {
    paths: { "@jupyter-widgets/html-manager/dist": here + "html-manager" },
  };

  var pending = [];
  function typeset(el) {
    var mj = window.MathJax;
    if (!mj || !mj.typesetPromise || !mj.startup) {
      pending.push(el);
      return;
    }
    mj.startup.promise = mj.startup.promise
      .then(function () { return mj.typesetPromise(el ? [el] : undefined); })
      .catch(function (err) { console.warn("MathJax typeset failed:", err); });
  }
  var hub = { Queue: function (job) { typeset(job && job[2]); } };
  function install(mj) {  // not enumerable: MathJax 3 reads its configuration by keys
    if (!mj.Hub) Object.defineProperty(mj, "Hub", { value: hub, configurable: true });
  }
  var mj = (window.MathJax = window.MathJax || {});
  install(mj);
  if (mj.version) return;  // MathJax 3 is already running
  // Still the configuration object, which MathJax 3 replaces when it starts.
  mj.startup = mj.startup || {};
  var ready = mj.startup.ready;
  mj.startup.ready = function () {
    if (ready) ready(); else window.MathJax.startup.defaultReady();
    install(window.MathJax);
    pending.splice(0).forEach(typeset);
  };
})();
JS
  rm -f "$DEST/widgets-mathjax3.js"
}
write_widgets_setup

missing=()
for entry in "${PACKAGES[@]}"; do
  IFS='|' read -r name pkg version integrity <<<"$entry"
  if [[ $FORCE == 0 && "$(installed_version "$name")" == "$version" ]]; then
    continue
  fi
  missing+=("$entry")
done

if [[ ${#missing[@]} == 0 ]]; then
  echo "vendor_assets: mathjax, html-manager and requirejs already in book/_vendor"
  exit 0
fi

if ! command -v npm >/dev/null 2>&1 || ! command -v node >/dev/null 2>&1; then
  echo "vendor_assets: npm (and node) not found; cannot vendor the JavaScript" >&2
  exit 2
fi

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
for entry in "${missing[@]}"; do
  IFS='|' read -r name pkg version integrity <<<"$entry"
  fetch "$name" "$pkg" "$version" "$integrity"
done
