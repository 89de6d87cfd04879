#!/usr/bin/env bash
# Fails when git tracks a build output or any file over 1 MiB: every clone
# downloads every tracked byte, forever (a 77 MB `manager` binary once was).
set -euo pipefail
cd "$(dirname "$0")/.."
limit=$((1024 * 1024))
status=0
while IFS= read -r -d '' f; do
	[ -f "$f" ] || continue # deleted in the work tree
	size=$(stat -c %s "$f")
	if [ "$size" -gt "$limit" ]; then
		echo "tracked file over 1 MiB: $f ($size bytes); keep it out of git (.gitignore)" >&2
		status=1
	fi
done < <(git ls-files -z)
for f in manager sandbox kubectl-verification bench; do
	if git ls-files --error-unmatch "$f" >/dev/null 2>&1; then
		echo "build output tracked: $f; git rm --cached it (.gitignore lists it)" >&2
		status=1
	fi
done
exit $status
