# syntax=docker/dockerfile:1
# placer-scheduler as a container image: `make image` (docker, or
# CONTAINER_TOOL=podman). Built by `make scheduler` inside the builder, so the
# binary carries the same -ldflags (version, commit, build date) as a local
# build; the Makefile passes them in as build arguments because .git is not
# part of the build context.

# The Go of go.mod's `go` line; `make image` passes it.
ARG GO_VERSION=1.24

# The builder runs on the build machine's platform and cross-compiles for
# the target's (docker buildx build --platform linux/arm64 works too).
FROM --platform=$BUILDPLATFORM golang:${GO_VERSION} AS build
WORKDIR /src
# Modules first: this layer is reused until go.mod or go.sum change.
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
ARG TARGETOS TARGETARCH
ARG VERSION=v0.0.0-unknown
ARG COMMIT=unknown
ARG BUILD_DATE=1970-01-01T00:00:00Z
# Static binary for distroless/static: no cgo.
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 GOOS=${TARGETOS} GOARCH=${TARGETARCH} \
    make scheduler VERSION="${VERSION}" COMMIT="${COMMIT}" BUILD_DATE="${BUILD_DATE}"

# No shell, no package manager, uid 65532.
FROM gcr.io/distroless/static:nonroot
COPY --from=build /src/bin/placer-scheduler /usr/local/bin/placer-scheduler
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/placer-scheduler"]
