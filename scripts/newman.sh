#!/usr/bin/env bash
# Run newman (Postman's CLI runner) from a project-local install under .tools/, installing it
# from the npm registry the first time. Usage: scripts/newman.sh run <collection> [options...]
# Needs node and npm; nothing is installed globally.
set -euo pipefail
cd "$(dirname "$0")/.."
TOOLS=".tools"
NEWMAN_VERSION="${NEWMAN_VERSION:-6}"
BIN="$TOOLS/node_modules/.bin/newman"

if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  echo "newman.sh: node and npm are required (apt-get install nodejs npm)" >&2
  exit 127
fi
if [ ! -x "$BIN" ]; then
  echo "newman.sh: installing newman@$NEWMAN_VERSION into $TOOLS/ …" >&2
  mkdir -p "$TOOLS"
  npm install --no-save --no-audit --no-fund --loglevel=error --prefix "$TOOLS" \
    "newman@$NEWMAN_VERSION" >&2
fi
exec "$BIN" "$@"
