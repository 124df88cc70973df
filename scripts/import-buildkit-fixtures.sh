#!/usr/bin/env bash
# Imports BuildKit's Dockerfile parser corpus and shell-lexer tables into fixtures/buildkit/,
# byte for byte, from a moby/buildkit git directory (bare or not):
#
#   scripts/import-buildkit-fixtures.sh /path/to/buildkit/.git [commit]
#
# commit defaults to the one fixtures/buildkit/README.md names. What is taken:
#   frontend/dockerfile/parser/testfiles/<case>/{Dockerfile,result} -> parser/<case>/
#   frontend/dockerfile/parser/testfiles-negative/<case>/Dockerfile -> parser-negative/<case>/
#   frontend/dockerfile/parser/testfile-line/Dockerfile             -> parser-line/Dockerfile
#   frontend/dockerfile/shell/{envVarTest,wordsTest}                -> shell/
#   LICENSE (Apache-2.0)                                            -> LICENSE
# The imported files are not committed (fixtures/buildkit/.gitignore); tests that need them skip
# with a message naming this script when they are absent.
set -euo pipefail

if [[ $# -lt 1 || $# -gt 2 ]]; then
  echo "usage: $0 <buildkit git dir> [commit]" >&2
  exit 2
fi
gitdir=$1
here=$(cd "$(dirname "$0")/.." && pwd)
dest=$here/fixtures/buildkit
commit=${2:-$(sed -n 's/^Source commit: `\([0-9a-f]\{40\}\)`.*/\1/p' "$dest/README.md")}
if [[ -z $commit ]]; then
  echo "no commit given and none found in $dest/README.md" >&2
  exit 2
fi
git_() { git --git-dir="$gitdir" "$@"; }
commit=$(git_ rev-parse --verify "$commit^{commit}")

# copy <path in repo> <path under fixtures/buildkit>
copy() {
  mkdir -p "$(dirname "$dest/$2")"
  git_ cat-file blob "$commit:$1" >"$dest/$2"
}

rm -rf "$dest/parser" "$dest/parser-negative" "$dest/parser-line" "$dest/shell"
src=frontend/dockerfile/parser
for kind in testfiles:parser testfiles-negative:parser-negative; do
  from=${kind%%:*}
  to=${kind##*:}
  git_ ls-tree -r --name-only "$commit" -- "$src/$from" | while read -r path; do
    copy "$path" "$to/${path#"$src/$from/"}"
  done
done
copy "$src/testfile-line/Dockerfile" parser-line/Dockerfile
copy frontend/dockerfile/shell/envVarTest shell/envVarTest
copy frontend/dockerfile/shell/wordsTest shell/wordsTest
copy LICENSE LICENSE
echo "$commit" >"$dest/.source-commit"

cases=$(find "$dest/parser" -name Dockerfile | wc -l)
negative=$(find "$dest/parser-negative" -name Dockerfile | wc -l)
echo "imported $cases parser cases, $negative negative cases and the lexer tables from $commit"
