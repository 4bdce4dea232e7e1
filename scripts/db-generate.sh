#!/usr/bin/env bash
# Regenerate core/db/migrations/ from core/db/schema.ts and the embedding module
# core/db/migrations.gen.ts. Nothing is released yet, so there is ONE initial
# migration: it is deleted and generated afresh each time.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$PATH"
rm -rf core/db/migrations
bun --bun x drizzle-kit generate --config core/db/drizzle.config.ts --name init
bun scripts/db-embed.ts
