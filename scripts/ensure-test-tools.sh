#!/usr/bin/env bash
# Install the Debian packages the test suite needs, if they are missing:
#   chromium (+ fonts)  – the browser tests (Playwright drives /usr/bin/chromium; no browser download)
#   poppler-utils       – pdftotext/pdftoppm, to read and render the council report PDF
#   postgresql-15 + postgresql-15-postgis-3 – the data store tests on PostGIS start a throwaway
#                         cluster from /usr/lib/postgresql/15/bin (tests/store_backends.py)
set -euo pipefail
need=()
[ -x /usr/bin/chromium ] || need+=(chromium fonts-dejavu-core)
command -v pdftoppm >/dev/null 2>&1 || need+=(poppler-utils)
[ -x /usr/lib/postgresql/15/bin/initdb ] || need+=(postgresql-15)
[ -f /usr/share/postgresql/15/extension/postgis.control ] || need+=(postgresql-15-postgis-3)
if [ ${#need[@]} -eq 0 ]; then
  exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    echo "Es fehlen ${need[*]} und es gibt keine Root-Rechte: 'apt-get install ${need[*]}' bitte selbst ausführen." >&2
    exit 1
  fi
fi
echo "Installiere Debian-Pakete für die Tests: ${need[*]} …"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
