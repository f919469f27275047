#!/usr/bin/env bash
# Debian's Node.js and npm for the Postman collection's newman run (tests/devdocs), which then
# installs newman from npm into .tools/. Idempotent and quiet: nothing to do when both are there.
set -euo pipefail
if command -v node >/dev/null && command -v npm >/dev/null; then
  exit 0
fi
"$(dirname "$0")/apt_install.sh" nodejs npm
command -v node >/dev/null && command -v npm >/dev/null
