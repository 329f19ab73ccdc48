#!/bin/sh
# Builds the image without a registry: the root file system is assembled on this machine by
# rootfs.sh, and only the Dockerfile's final stage (FROM scratch) is built, from it.
#
#   deploy/image/build-offline.sh TAG [VERSION]     (from the repository's root)
set -eu
tag=${1:?usage: deploy/image/build-offline.sh TAG [VERSION]}
version=${2:-dev}
ctx=$(mktemp -d)
trap 'rm -rf "$ctx"' EXIT
sh deploy/image/rootfs.sh "$ctx/rootfs" "$version"
# The final stage: from its FROM line to the end, copying the local rootfs instead of the build stage's.
awk '/^FROM /{body=""} {body=body $0 "\n"} END{printf "%s", body}' Dockerfile |
  sed 's#^COPY --from=build /rootfs/ /$#COPY rootfs/ /#' > "$ctx/Dockerfile"
grep -q '^COPY rootfs/ /$' "$ctx/Dockerfile" || { echo "build-offline.sh: the Dockerfile's final stage no longer copies /rootfs/ from the build stage" >&2; exit 1; }
docker build -q -t "$tag" "$ctx" >/dev/null
echo "$tag"
