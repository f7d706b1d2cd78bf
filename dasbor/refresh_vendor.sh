#!/usr/bin/env bash
# Refresh the dashboard's vendored chart library from the npm registry (run by hand, then commit the result):
#   dasbor/refresh_vendor.sh [VERSION]
# Fetches the chart.js package with the npm client, keeps its UMD build and licence, and rewrites the two web
# addresses in the build's banner comments to package names: the page is served with `default-src 'self'` and
# tests/test_dasbor.py refuses any web address in a served file. Fails if one is left.
set -euo pipefail
VERSION=${1:-4.5.1}
HERE="$(cd "$(dirname "$0")" && pwd)"
OUT="$HERE/static/vendor"
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
(cd "$WORK" && npm pack --silent "chart.js@$VERSION" >/dev/null && tar xzf "chart.js-$VERSION.tgz")
sed -e 's#https://www\.chartjs\.org#(npm package chart.js)#' \
    -e 's#https://github\.com/kurkle/color\#readme#(npm package @kurkle/color)#' \
    "$WORK/package/dist/chart.umd.min.js" > "$OUT/chart.umd.min.js"
cp "$WORK/package/LICENSE.md" "$OUT/chart.js-LICENSE.txt"
echo "$VERSION" > "$OUT/chart.js-VERSION"
if grep -Eq 'https?://' "$OUT/chart.umd.min.js" "$OUT/chart.js-LICENSE.txt"; then
  echo "FAIL: a web address is left in the vendored files" >&2
  exit 1
fi
echo "chart.js $VERSION vendored into $OUT"
