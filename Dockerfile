# Base images are pinned by digest (the tag says which release the digest
# is), so a rebuild cannot silently pick up a different image; bump both
# together, e.g. with Renovate or Dependabot.
#
# Build the manager binary. The Go version matches go.mod's go directive.
FROM golang:1.26@sha256:3aff6657219a4d9c14e27fb1d8976c49c29fddb70ba835014f477e1c70636647 AS builder
ARG TARGETOS
ARG TARGETARCH
# Stamped into the binary: `manager --version` (make docker-build passes it).
ARG VERSION=dev

WORKDIR /workspace
# Copy the Go module manifests first and download modules before copying the
# sources, so that a source change does not re-download them.
COPY go.mod go.mod
COPY go.sum go.sum
RUN go mod download

# Copy the Go sources.
COPY api/ api/
COPY cmd/ cmd/
COPY controllers/ controllers/
COPY internal/ internal/
COPY providers/ providers/

# Build. GOARCH has no default, so the binary is built for the platform of
# the image being built (docker buildx --platform sets TARGETOS/TARGETARCH);
# without it, for the platform of the host that builds the image.
RUN CGO_ENABLED=0 GOOS=${TARGETOS:-linux} GOARCH=${TARGETARCH} go build -a \
    -ldflags "-X github.com/ordersync/verification-operator/internal/version.Version=${VERSION}" \
    -o manager ./cmd/manager

# Use distroless as a minimal base image to package the manager binary.
# Refer to https://github.com/GoogleContainerTools/distroless for more details.
FROM gcr.io/distroless/static:nonroot@sha256:e2e927ec666bae08560abb3c55d0659eceabb657f56b6782ab500a9fc7f555e3
WORKDIR /
COPY --from=builder /workspace/manager .
# The numeric user lets the kubelet check runAsNonRoot.
USER 65532:65532

ENTRYPOINT ["/manager"]
