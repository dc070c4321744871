#!/usr/bin/env bash
# Fails when the generated code of pkg/apis/config is out of date.
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp -a pkg/apis "$tmp/before"
hack/update-codegen.sh
if ! diff -r "$tmp/before" pkg/apis >/dev/null; then
  diff -ru "$tmp/before" pkg/apis || true
  echo "generated code in pkg/apis is stale: run hack/update-codegen.sh and commit the result" >&2
  # put the tree back as it was, so verifying changes nothing
  rm -rf pkg/apis && cp -a "$tmp/before" pkg/apis
  exit 1
fi
