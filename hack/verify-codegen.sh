#!/usr/bin/env bash
# Fails when the generated code of pkg/apis (zz_generated.*.go) is out of date.
# It regenerates in place and compares only the generated files, so it never
# touches anything written by hand; when it fails, the tree already holds the
# fresh output, ready to commit.
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
snapshot() {
  find pkg/apis -name 'zz_generated.*.go' | sort | while read -r f; do
    printf '%s ' "$f"; sha256sum < "$f"
  done
}
snapshot > "$tmp/before"
hack/update-codegen.sh
snapshot > "$tmp/after"
if ! diff -u "$tmp/before" "$tmp/after"; then
  echo "generated code in pkg/apis was stale and has been regenerated: review and commit it" >&2
  exit 1
fi
