# syntax=docker/dockerfile:1
# labelport-gateway container image: the HTTP/JSON gateway (gateway/), a static Go binary on
# Debian 12 slim. The sidecar of deploy/kubernetes/components/http-gateway.
#
# Build from the repository root (the gateway module and the Go client it uses):
#   docker build -f deploy/gateway.Dockerfile -t labelport-gateway:0.1.0 .
#
# Base images are pinned by tag, not by digest, for the reason deploy/Dockerfile gives; pin
# them where you build (`docker buildx imagetools inspect <image>`).
# Not built on the machine these files are maintained on (no registry access): the same
# `go build` runs in the tests (tests/integration/gateway), the image steps do not.

# ---- builder: the Go toolchain of gateway/go.mod ---------------------------------
FROM golang:1.26-bookworm AS builder
WORKDIR /src
COPY client/go/ client/go/
COPY gateway/ gateway/
WORKDIR /src/gateway
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/labelport-gateway \
      ./cmd/labelport-gateway \
 && /out/labelport-gateway --help 2> /dev/null

# ---- runtime -------------------------------------------------------------------------
FROM debian:12.12-slim AS runtime
ARG DEBIAN_FRONTEND=noninteractive
# CA roots for --backend_tls.
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/*
COPY --from=builder /out/labelport-gateway /usr/local/bin/labelport-gateway
ARG VERSION=0.1.0
LABEL org.opencontainers.image.title="labelport-gateway" \
      org.opencontainers.image.description="HTTP/JSON gateway for labelport-server (grpc-gateway)" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.base.name="docker.io/library/debian:12.12-slim"
# In a container the gateway listens on every interface; it then refuses API calls without
# an Authorization header (the server checks the token).
ENV LABELPORT_GATEWAY_LISTEN=0.0.0.0:8080
USER 10001:10001
EXPOSE 8080
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/labelport-gateway"]
