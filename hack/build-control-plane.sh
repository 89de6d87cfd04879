#!/usr/bin/env bash
# Builds kube-apiserver and etcd from Go modules into $1 (default bin/k8s),
# once. Prebuilt envtest archives are not reachable from every machine; the
# Go module proxy is. The versions are pinned in hack/tools/envtest/go.mod.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$root/bin/k8s}
mkdir -p "$out"

if [[ -x $out/kube-apiserver && -x $out/etcd ]]; then
  exit 0
fi

echo "Building kube-apiserver and etcd from source into $out (once; about 6-8 minutes cold on 2 cores)..." >&2
cd "$root/hack/tools/envtest"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Stamp the version a release build would, so the API server reports (and
# emulates) v1.36.3 rather than v0.0.0-master.
version=$(go list -m -f '{{.Version}}' k8s.io/kubernetes)
minor=$(echo "$version" | cut -d. -f2)
pkg=k8s.io/component-base/version
go build -ldflags "-X $pkg.gitVersion=$version -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor -X $pkg.gitTreeState=clean" \
  -o "$tmp/kube-apiserver" k8s.io/kubernetes/cmd/kube-apiserver
go build -o "$tmp/etcd" go.etcd.io/etcd/server/v3
# Move into place only when both built, so an interrupted build is retried.
mv "$tmp/kube-apiserver" "$tmp/etcd" "$out/"
echo "Control plane ready in $out" >&2
