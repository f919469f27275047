#!/usr/bin/env bash
# Debian's Node.js and npm for the Postman collection's newman run (tests/devdocs), which then
# installs newman from npm into .tools/. Idempotent and quiet: nothing to do when both are there.
set -euo pipefail
if command -v node >/dev/null && command -v npm >/dev/null; then
  exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "install_node: need root or sudo to apt-get nodejs npm" >&2; exit 1; }
  SUDO="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
if ! { $SUDO apt-get update -qq && \
       $SUDO apt-get install -y -qq --no-install-recommends nodejs npm; } >"$log" 2>&1; then
  cat "$log" >&2
  exit 1
fi
command -v node >/dev/null && command -v npm >/dev/null
