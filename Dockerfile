# srctl's container image: one static binary on an empty base, run as a non-root user.
#
#   make image                          (docker build -t srctl:VERSION .)
#   make image-offline                  (no registry: builds the binary on this machine)
#   make image-shadow                   (srctl:VERSION-shadow: the shadow-only build, less memory)
#
# The build stage needs a Go image; the final stage is `scratch` plus CA certificates, /etc/passwd
# with user 65532, /tmp and /var/lib/srctl (mount a volume there for `srctl collect --state-dir`).
ARG GO_IMAGE=golang:1.26-bookworm

FROM ${GO_IMAGE} AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
# BUILD_TAGS=shadowonly: the shadow-only srctl (make image-shadow).
ARG BUILD_TAGS=
RUN SRCTL_BUILD_TAGS="${BUILD_TAGS}" sh deploy/image/rootfs.sh /rootfs "${VERSION}"

# The final stage. make image-offline and the image test build this stage alone from a rootfs
# assembled on the host (the line "COPY --from=build /rootfs/ /" becomes "COPY rootfs/ /").
FROM scratch
COPY --from=build /rootfs/ /
USER 65532:65532
# 9030: srctl shadow's MySQL listener; 9091: srctl collect's metrics and probes; 9092: srctl
# shadow's metrics (loopback unless --metrics-addr says otherwise).
EXPOSE 9030 9091 9092
ENTRYPOINT ["/srctl"]
CMD ["--help"]
