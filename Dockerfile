# appidgate container image: a static binary on distroless, run as a non-root user.
# Builds from the repository root, with `docker build .`, Code Engine's `--strategy dockerfile` and
# `ibmcloud ce application create --build-source .`. Plain Dockerfile syntax only (no BuildKit-only
# features such as cache mounts), so every builder Code Engine uses accepts it.

FROM golang:1.26 AS build
WORKDIR /src
# Modules first: this layer stays cached until go.mod or go.sum change.
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# TARGETOS/TARGETARCH are set by BuildKit for multi-platform builds; empty values mean the builder's own.
ARG TARGETOS=linux
ARG TARGETARCH
# The version and commit `appidgate version` and /metrics report (.dockerignore leaves .git out, so Go cannot
# read the commit itself), e.g. docker build --build-arg VERSION=v0.14.0 --build-arg REVISION=$(git rev-parse HEAD) .
ARG VERSION=devel
ARG REVISION=
RUN CGO_ENABLED=0 GOOS=${TARGETOS} GOARCH=${TARGETARCH} \
    go build -trimpath -ldflags "-s -w -X github.com/appidgate/appidgate/internal/buildinfo.version=${VERSION} \
    -X github.com/appidgate/appidgate/internal/buildinfo.revision=${REVISION}" \
    -o /out/appidgate ./cmd/appidgate

# distroless/static holds CA certificates, tzdata and /etc/passwd with the nonroot user, nothing else:
# no shell, no package manager.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/appidgate /appidgate
# Numeric uid:gid (nonroot = 65532) so that Kubernetes' runAsNonRoot can verify it.
USER 65532:65532
EXPOSE 8080
# Code Engine injects PORT (8080). APPIDGATE_REQUIRE_APPID=1: missing App ID settings are a start-up error
# naming each one; the embedded local provider and its demo users never start by accident in a container.
# APPIDGATE_STRICT_ENV=true: a misspelled APPIDGATE_* or APPID_* variable is a start-up error, not a warning.
ENV PORT=8080 \
    APPIDGATE_REQUIRE_APPID=1 \
    APPIDGATE_STRICT_ENV=true \
    APPIDGATE_LOG_FORMAT=json
ENTRYPOINT ["/appidgate"]
CMD ["demo"]
