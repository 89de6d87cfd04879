# Build the manager binary. The Go version matches go.mod's go directive.
FROM golang:1.26 AS builder
ARG TARGETOS
ARG TARGETARCH

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
COPY providers/ providers/

# Build. GOARCH has no default, so the binary is built for the platform of
# the image being built (docker buildx --platform sets TARGETOS/TARGETARCH);
# without it, for the platform of the host that builds the image.
RUN CGO_ENABLED=0 GOOS=${TARGETOS:-linux} GOARCH=${TARGETARCH} go build -a -o manager ./cmd/manager

# Use distroless as a minimal base image to package the manager binary.
# Refer to https://github.com/GoogleContainerTools/distroless for more details.
FROM gcr.io/distroless/static:nonroot
WORKDIR /
COPY --from=builder /workspace/manager .
# The numeric user lets the kubelet check runAsNonRoot.
USER 65532:65532

ENTRYPOINT ["/manager"]
