#!/usr/bin/env bash
# Installs the JavaScript runtime the TensorFlow.js export tests load models with:
# @tensorflow/tfjs (pure JavaScript, CPU backend under Node, no native addon) into a cache
# folder outside the repository, so node_modules and the tfjs bundle are never committed.
# The tests find it through NEUROFLOW_TFJS_DIR or the same default path.
set -euo pipefail

TFJS_VERSION="${NEUROFLOW_TFJS_VERSION:-4.22.0}"
CACHE="${NEUROFLOW_CI_CACHE:-$HOME/.cache/neuroflow-ci}"
DEST="${NEUROFLOW_TFJS_DIR:-$CACHE/node}"

if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    echo "install_js_runtimes.sh: node and npm are required (Debian: apt-get install nodejs npm)" >&2
    exit 1
fi

mkdir -p "$DEST"
if [ -f "$DEST/node_modules/@tensorflow/tfjs/package.json" ] && \
   grep -q "\"version\": \"$TFJS_VERSION\"" "$DEST/node_modules/@tensorflow/tfjs/package.json"; then
    echo "@tensorflow/tfjs $TFJS_VERSION already in $DEST"
    exit 0
fi
# A private package.json keeps npm from walking up into another project's manifest.
[ -f "$DEST/package.json" ] || echo '{"name": "neuroflow-js-runtimes", "private": true}' > "$DEST/package.json"
npm install --prefix "$DEST" --no-audit --no-fund --save-exact "@tensorflow/tfjs@$TFJS_VERSION"
echo "installed @tensorflow/tfjs $TFJS_VERSION in $DEST"
