#!/usr/bin/env bash
# Runs a command on another QGIS release, inside a Debian chroot built with mmdebstrap:
#   scripts/qgis_chroot.sh 3.40 make test-qgis-here
# QGIS 3.40 LTR is Debian 13 (trixie, Python 3.13); QGIS 3.44 is Debian sid (Python 3.14).
# The chroot is built once and cached under $PHOTO_GEOLOCATOR_CHROOTS
# (default ~/.cache/photo-geolocator/chroots; delete the folder to reclaim the ~1-5 GB).
# The checkout is copied into the chroot at /work/photo-geolocator (its .venv there is kept between runs),
# ../shared (the real photos) is bound read-only beside it. Needs root (mounts, chroot) and mmdebstrap.
set -euo pipefail

usage() { echo "usage: $0 {3.40|3.44} command [args...]" >&2; exit 2; }
[ $# -ge 2 ] || usage
qgis_version=$1; shift
case "$qgis_version" in
  3.40) suite=trixie ;;
  3.44) suite=sid ;;
  *) echo "$0: QGIS $qgis_version is not one of the chroot releases (3.40, 3.44); 3.22 is this machine's own" >&2; exit 2 ;;
esac

checkout=$(cd "$(dirname "$0")/.." && pwd)
cache=${PHOTO_GEOLOCATOR_CHROOTS:-${XDG_CACHE_HOME:-$HOME/.cache}/photo-geolocator/chroots}
root=$cache/$suite
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
packages=qgis,python3-qgis,qgis-providers,xvfb,xauth,python3-venv,python3-pip,ca-certificates,make,git,libimage-exiftool-perl,locales-all,mount

if [ "$(id -u)" != 0 ]; then
  echo "$0: needs root (chroot and bind mounts); run it with sudo" >&2; exit 1
fi

if [ ! -e "$root/.photo-geolocator-ready" ]; then
  command -v mmdebstrap >/dev/null || { echo "$0: mmdebstrap is missing: apt-get install mmdebstrap" >&2; exit 1; }
  mkdir -p "$cache"
  rm -rf "$root.partial"
  echo "Building the $suite chroot (QGIS $qgis_version) in $root from $mirror (a few minutes, once)" >&2
  # sid's Release files can carry a Valid-Until that a snapshot-synced mirror has passed
  if ! mmdebstrap --variant=apt --include="$packages" --aptopt='Acquire::Check-Valid-Until "false"' \
       --aptopt='Acquire::Retries "3"' --dpkgopt='path-exclude=/usr/share/doc/*' \
       "$suite" "$root.partial" "$mirror" >"$cache/$suite.build.log" 2>&1; then
    tail -n 25 "$cache/$suite.build.log" >&2
    echo "$0: could not build the $suite chroot from $mirror (is the Debian mirror reachable? full log:" \
         "$cache/$suite.build.log)" >&2
    rm -rf "$root.partial"
    exit 1
  fi
  rm -rf "$root"
  mv "$root.partial" "$root"
  touch "$root/.photo-geolocator-ready"
fi

# A fresh copy of the checkout (tracked and untracked files git does not ignore); the chroot's .venv stays.
dest=$root/work/photo-geolocator
mkdir -p "$dest" "$root/work/shared"
find "$dest" -mindepth 1 -maxdepth 1 ! -name .venv -exec rm -rf {} +
if git -C "$checkout" rev-parse --git-dir >/dev/null 2>&1; then
  (cd "$checkout" && git ls-files -z --cached --others --exclude-standard \
     | while IFS= read -r -d '' file; do
         case "$file" in .venv|.venv/*) continue ;; esac  # a link named .venv is not matched by .venv/
         [ -e "$file" ] && printf '%s\0' "$file"
       done \
     | tar --null -T - -cf -) | tar -xf - -C "$dest"
else
  tar -C "$checkout" --exclude=./.venv --exclude=./.qgis-profile --exclude=./dist -cf - . | tar -xf - -C "$dest"
fi
# a repository of its own, so that what lists the checkout's files (make package: git ls-files) works there
git init -q "$dest"
# pip inside the chroot trusts what the host trusts (a proxy's certificate authority included)
host_ca=${PIP_CERT:-/etc/ssl/certs/ca-certificates.crt}
[ -f "$host_ca" ] && cp "$host_ca" "$root/etc/ssl/host-ca-certificates.crt"
cp /etc/resolv.conf "$root/etc/resolv.conf" 2>/dev/null || true

shared=$(dirname "$checkout")/shared
quoted=$(printf '%q ' "$@")
# A private mount namespace: the mounts vanish with the command, even when it is killed.
exec unshare --mount --propagation private /bin/bash -euo pipefail -c '
  root=$1 shared=$2 command=$3
  mount -t proc proc "$root/proc"
  mount --rbind /dev "$root/dev"
  mount --rbind /sys "$root/sys"
  if [ -d "$shared" ]; then mount --bind "$shared" "$root/work/shared"; mount -o remount,bind,ro "$root/work/shared"; fi
  exec chroot "$root" /usr/bin/env -i HOME=/root PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    LANG=C.UTF-8 CI="${CI:-}" PIP_CERT=/etc/ssl/host-ca-certificates.crt PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_DEFAULT_TIMEOUT=180 /bin/bash -c "cd /work/photo-geolocator && $command"
' chroot-run "$root" "$shared" "$quoted"
