#!/usr/bin/env bash
# Refresh the dashboard's vendored chart library from the npm registry (run by hand, then commit the result):
#   dasbor/refresh_vendor.sh [VERSION]
# Fetches the chart.js package with the npm client, keeps its UMD build and licence, and replaces the web address
# in each of the build's banner comments (Chart.js, @kurkle/color) by the words "its npm package": the page is
# served with `default-src 'self'` and tests/test_dasbor.py refuses any web address in a served file. Fails if one
# is left.
set -euo pipefail
VERSION=${1:-4.5.1}
HERE="$(cd "$(dirname "$0")" && pwd)"
OUT="$HERE/static/vendor"
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
(cd "$WORK" && npm pack --silent "chart.js@$VERSION" >/dev/null && tar xzf "chart.js-$VERSION.tgz")
# the line after a banner's " * <name> v<version>" line, when it is an address
sed -e '/^ \* [^ ]* v[0-9][0-9.]*$/{n;s#^ \* [a-z]*://[^ ]*$# * (its npm package)#}' \
    "$WORK/package/dist/chart.umd.min.js" > "$OUT/chart.umd.min.js"
cp "$WORK"/package/LICENSE.* "$OUT/chart.js-LICENSE.txt"  # the package's licence file, as text
echo "$VERSION" > "$OUT/chart.js-VERSION"
if grep -Eq 'https?://' "$OUT/chart.umd.min.js" "$OUT/chart.js-LICENSE.txt"; then
  echo "FAIL: a web address is left in the vendored files" >&2
  exit 1
fi
echo "chart.js $VERSION vendored into $OUT"
