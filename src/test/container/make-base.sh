#!/usr/bin/env bash
# Builds a stand-in for the Dockerfile's UBI base from Debian packages, for ContainerImageIT on machines that reach no
# container registry: a JRE 17 image shaped like ubi9/openjdk-17-runtime (user 185, /deployments owned by it, java on
# the PATH). Writes an OCI archive to $1 (skipped when it exists: the IT caches it between runs).
#
#   src/test/container/make-base.sh OUT.tar      # needs mmdebstrap (Debian), 1-1.5 min (downloads), ~380 MB
set -euo pipefail
out=$1
rm -f "$out.rootfs.tar"
[ -s "$out" ] && exit 0
mkdir -p "$(dirname "$out")"
rootfs_tar="$out.rootfs.tar"
# man1 must exist, or the JRE's postinst fails creating its man-page alternative (essential has no man pages).
mmdebstrap --variant=essential --include=openjdk-17-jre-headless,ca-certificates \
  --essential-hook='mkdir -p "$1/usr/share/man/man1"' \
  --customize-hook='echo "jboss:x:185:" >> "$1/etc/group"' \
  --customize-hook='echo "jboss:x:185:185:JBoss user:/home/jboss:/sbin/nologin" >> "$1/etc/passwd"' \
  --customize-hook='mkdir -p "$1/home/jboss" && chown 185:185 "$1/home/jboss"' \
  --customize-hook='mkdir -p "$1/deployments" && chown 185:185 "$1/deployments"' \
  --customize-hook='rm -rf "$1/var/cache/apt/archives"/*.deb "$1/var/lib/apt/lists"/*' \
  bookworm "$rootfs_tar" >/dev/null
mv "$rootfs_tar" "$out"
