#!/usr/bin/env bash
# Fails when go.mod is not tidy, or when the Kubernetes modules released
# together (k8s.io/api, apimachinery, client-go, apiserver, ...) are not at
# one version: a mix builds, but runs code from two releases.
set -euo pipefail
cd "$(dirname "$0")/.."
go mod tidy -diff
# The modules of the packages built and tested, not every module in the
# graph: a module no package of ours uses may lag behind harmlessly.
used=$(go list -deps -test -f '{{with .Module}}{{.Path}} {{.Version}}{{end}}' ./... |
	awk '$1 ~ /^k8s\.io\// && $2 ~ /^v0\.[0-9]+\.[0-9]+$/' | sort -u)
if [ "$(echo "$used" | awk '{print $2}' | sort -u | wc -l)" -ne 1 ]; then
	echo "k8s.io modules at several versions; align them (go get k8s.io/<module>@<version>):" >&2
	echo "$used" >&2
	exit 1
fi
