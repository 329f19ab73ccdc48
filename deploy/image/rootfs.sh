#!/bin/sh
# Assembles the container image's root file system in DIR: srctl as a static binary (CGO off,
# stripped), the CA certificates it needs for HTTPS to FEs and object stores, a non-root user
# (65532) and the writable directories. The Dockerfile runs it in its build stage; `make
# image-offline` and the image test run it on the host, so that no registry is needed.
#
#   deploy/image/rootfs.sh DIR [VERSION]     (from the repository's root)
#
# By default /srctl is the split build (-tags splitlake: every command, no Iceberg code, so every
# start, the probes' included, is ~0.13 s and ~35 MB lighter) and /srctl-lake the standard build,
# which /srctl runs in its own place for what reads or writes an Iceberg table.
# SRCTL_BUILD_TAGS=shadowonly builds the shadow-only srctl alone (srctl shadow and healthcheck).
set -eu
out=${1:?usage: deploy/image/rootfs.sh DIR [VERSION]}
version=${2:-dev}
ca=${CA_BUNDLE:-/etc/ssl/certs/ca-certificates.crt}

mkdir -p "$out/etc/ssl/certs" "$out/tmp" "$out/var/lib/srctl"
build() { # TAGS NAME
  CGO_ENABLED=0 go build -trimpath -tags "$1" -ldflags "-s -w -X main.version=$version" -o "$out/$2" ./cmd/srctl
}
if [ -n "${SRCTL_BUILD_TAGS:-}" ]; then
  build "$SRCTL_BUILD_TAGS" srctl
else
  build splitlake srctl
  build "" srctl-lake
fi
cp "$ca" "$out/etc/ssl/certs/ca-certificates.crt"
printf 'srctl:x:65532:65532:srctl:/var/lib/srctl:/sbin/nologin\n' > "$out/etc/passwd"
printf 'srctl:x:65532:\n' > "$out/etc/group"
# COPY makes these root's: writable by anyone (sticky), as the container has one user. In
# Kubernetes --state-dir is a volume whose group is the pod's fsGroup.
chmod 1777 "$out/tmp" "$out/var/lib/srctl"
