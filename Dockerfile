# syntax=docker/dockerfile:1
# Volley: one static binary on a distroless base, running as a non-root
# user, with its data directory as a volume. See docs/operating.md.
#
#   docker build --build-arg VERSION=v1.2.3 -t volley .
#   docker run -p 8080:8080 -v volley-data:/data volley

FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=""
# Pure Go (the SQLite driver included): a static binary that needs no libc.
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/volley ./cmd/volley \
 && mkdir -p /out/data

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/volley /volley
COPY --from=build --chown=65532:65532 /out/data /data
ENV VOLLEY_DATA_DIR=/data \
    VOLLEY_ADDR=0.0.0.0:8080
VOLUME /data
EXPOSE 8080
USER 65532:65532
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 CMD ["/volley", "health"]
ENTRYPOINT ["/volley"]
CMD ["serve"]
