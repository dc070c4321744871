#!/usr/bin/env bash
# Prints Placer's version from git: the nearest v* tag (git describe), or
# v0.0.0-<commits>-g<sha> before the first tag, with -dirty for a changed tree.
set -uo pipefail
cd "$(dirname "$0")/.."
if v=$(git describe --tags --match 'v*' --dirty 2>/dev/null); then
  echo "$v"
elif sha=$(git rev-parse --short HEAD 2>/dev/null); then
  dirty=""
  [ -n "$(git status --porcelain 2>/dev/null)" ] && dirty="-dirty"
  echo "v0.0.0-$(git rev-list --count HEAD)-g${sha}${dirty}"
else
  echo "v0.0.0-unknown"
fi
