#!/usr/bin/env bash
# Install Debian's chromium for the browser tests if it is missing.
# Playwright drives it via executable_path=/usr/bin/chromium (no browser download).
set -euo pipefail
if [ -x /usr/bin/chromium ]; then
  exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    echo "chromium fehlt und es gibt keine Root-Rechte: 'apt-get install chromium' bitte selbst ausführen." >&2
    exit 1
  fi
fi
echo "Installiere Debian-Paket chromium für die Browser-Tests …"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium fonts-dejavu-core >/dev/null
