#!/usr/bin/env bash
# Writes the krew manifest of release VERSION to stdout from its template
# (cmd/kubectl-verification/krew.yaml, the first argument): the version,
# the homepage, and for each platform the archive's download URL under
# RELEASE_URL and the sha256 of that archive in dist/. A platform of the
# template with no archive fails it, unless KREW_PARTIAL=true (a snapshot
# release, built for one platform), which leaves the platform out.
set -euo pipefail
template=$1
fill=(-e "s|{{VERSION}}|$VERSION|g" -e "s|{{URL_BASE}}|$RELEASE_URL|g" -e "s|{{HOMEPAGE}}|https://$RELEASE_REPO|g")
for archive in dist/kubectl-verification_"$VERSION"_*.tar.gz; do
	platform=${archive#dist/kubectl-verification_"$VERSION"_}
	platform=${platform%.tar.gz}
	fill+=(-e "s|{{SHA256_$platform}}|$(sha256sum "$archive" | cut -d' ' -f1)|")
done
# The template's leading comment is about the template.
manifest=$(sed -e '1,/^apiVersion/{/^#/d;}' "${fill[@]}" "$template")
if [ "${KREW_PARTIAL:-}" = true ]; then
	# An entry runs from its "- selector:" line to the next one.
	manifest=$(awk '/^    - selector:/ { if (entry !~ /{{SHA256_/) printf "%s", entry; entry = "" }
		{ entry = entry $0 "\n" }
		END { if (entry !~ /{{SHA256_/) printf "%s", entry }' <<<"$manifest")
fi
if grep -n '{{' <<<"$manifest" >&2; then
	echo "krew manifest: no archive in dist/ for the placeholders above (RELEASE_PLUGIN_PLATFORMS)" >&2
	exit 1
fi
printf '%s\n' "$manifest"
