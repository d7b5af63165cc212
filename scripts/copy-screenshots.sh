#!/usr/bin/env bash
# Copy the screenshots the browser tests wrote into the git-ignored test-results/screenshots/ into docs/, on purpose
# (tests never rewrite tracked files). Run the browser tests first (make test), look at the pictures, then:
#   make screenshots
set -euo pipefail
cd "$(dirname "$0")/.."
src=test-results/screenshots
if [ ! -d "$src" ] || [ -z "$(ls -A "$src" 2>/dev/null)" ]; then
  echo "Keine Screenshots in $src: bitte zuerst die Browser-Tests laufen lassen (make test)." >&2
  exit 1
fi
mkdir -p docs/screenshots
for f in "$src"/*.png; do
  name=$(basename "$f")
  if [ "$name" = "app.png" ]; then
    cp "$f" docs/app.png
  else
    cp "$f" "docs/screenshots/$name"
  fi
  echo "kopiert: $name"
done
