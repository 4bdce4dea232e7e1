#!/usr/bin/env bash
# npm test: install the test peers that are missing (Debian packages, when root), run
# `bun test` over tests/ core/ plugins/ and end with the plain line "N passed, N failed"
# computed from the junit report. Exit status non-zero if anything failed.
# Arguments replace the default paths (e.g. `npm test -- ./tests/cli`).
set -uo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$PATH"

# ---- test peers: real clients other people wrote (DESIGN.md "Testing against real peers")
PEERS=(swaks python3-aiosmtpd isync fetchmail opendkim-tools python3-dkim)
installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }
if command -v dpkg-query >/dev/null; then
  missing=()
  for p in "${PEERS[@]}"; do installed "$p" || missing+=("$p"); done
  if [ "${#missing[@]}" -gt 0 ]; then
    if [ "$(id -u)" = 0 ]; then
      echo "installing test peers: ${missing[*]}"
      export DEBIAN_FRONTEND=noninteractive
      apt-get install -y -q "${missing[@]}" >/dev/null ||
        { apt-get update -q >/dev/null && apt-get install -y -q "${missing[@]}" >/dev/null; } ||
        echo "warning: apt-get could not install ${missing[*]}; tests that need them will fail"
    else
      echo "not root: skipping apt-get install of ${missing[*]}; tests that need them will fail"
    fi
  fi
else
  echo "no dpkg: cannot check the test peers (${PEERS[*]}); install them by hand"
fi

# ---- the run
out=.test-results
mkdir -p "$out"
junit="$out/junit.xml"
log="$out/bun-test.log"
rm -f "$junit"
# bunfig.toml's [test] timeout is not honoured by bun 1.4.4: give e2e tests room here.
if [ "$#" -eq 0 ]; then set -- ./tests ./core ./plugins; fi
bun test --parallel --timeout=60000 --reporter=junit --reporter-outfile="$junit" "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}

bun scripts/junit-summary.ts "$junit" "$log" "$status"
