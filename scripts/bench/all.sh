#!/usr/bin/env bash
# npm run bench: every scripts/bench/*.ts, each printing one JSON line of figures.
set -uo pipefail
cd "$(dirname "$0")/../.."
export PATH="$PWD/node_modules/.bin:$PATH"
status=0
for f in scripts/bench/*.ts; do
  [ -e "$f" ] || continue
  bun "$f" || { echo "{\"bench\":\"$(basename "$f" .ts)\",\"error\":\"exit $?\"}"; status=1; }
done
exit $status
