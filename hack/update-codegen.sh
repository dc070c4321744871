#!/usr/bin/env bash
# Regenerates deepcopy, conversion and defaulting code for Placer's plugin
# argument types (pkg/apis/config). Run after changing a type there;
# hack/verify-codegen.sh fails the tests when this was forgotten.
set -euo pipefail
cd "$(dirname "$0")/.."

boilerplate=hack/boilerplate.go.txt
pkgs=(./pkg/apis/config ./pkg/apis/config/v1)

go tool deepcopy-gen --go-header-file "$boilerplate" --output-file zz_generated.deepcopy.go "${pkgs[@]}"
go tool conversion-gen --go-header-file "$boilerplate" --output-file zz_generated.conversion.go \
  --extra-peer-dirs k8s.io/apimachinery/pkg/apis/meta/v1 ./pkg/apis/config/v1
go tool defaulter-gen --go-header-file "$boilerplate" --output-file zz_generated.defaults.go ./pkg/apis/config/v1
