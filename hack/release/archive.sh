#!/usr/bin/env bash
# Builds one binary of a release for one platform into dist/: the archive
# <cmd>_<version>_<os>_<arch>.tar.gz, holding the binary, LICENSE and
# README.md at its root (krew installs the plugin's archive as it is, and
# wants the license in it), and the archive's CycloneDX SBOM,
# <archive>.sbom.json. `make release` (hack/release.mk) runs it from the
# repository's root with VERSION, LDFLAGS and CYCLONEDX_GOMOD set:
#
#   hack/release/archive.sh manager linux/arm64
set -euo pipefail
cmd=$1 os=${2%/*} arch=${2#*/}
name=${cmd}_${VERSION}_${os}_${arch}
exe=$cmd
if [ "$os" = windows ]; then exe=$cmd.exe; fi
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT

# A static binary (CGO_ENABLED=0) runs on any distribution and in the
# distroless image; -trimpath keeps the build machine's paths out of it, so
# that a rebuild of the same commit is byte for byte the same. -s -w drop
# the symbol table and DWARF, which only a debugger reads; the build
# information that `go version -m` and SBOM scanners read stays.
export CGO_ENABLED=0 GOOS=$os GOARCH=$arch
go build -trimpath -ldflags "-s -w $LDFLAGS" -o "$stage/$exe" "./cmd/$cmd"
cp LICENSE README.md "$stage/"

# Files in one order, one owner and the commit's time, gzip without a name
# or time stamp: the archive's sha256 changes only when its files do.
mtime=$(git log -1 --format=%ct 2>/dev/null || echo 0)
tar -C "$stage" --owner=0 --group=0 --numeric-owner --mtime="@$mtime" -cf - "$exe" LICENSE README.md |
	gzip -9 -n >"dist/$name.tar.gz"

# With the build's GOOS, GOARCH and CGO_ENABLED (exported above), which
# decide which packages, and so which modules, go into the binary.
# The main component's version comes from git: the tag when HEAD has one.
"$CYCLONEDX_GOMOD" app -json -licenses -std -main "cmd/$cmd" -output "dist/$name.tar.gz.sbom.json" .
