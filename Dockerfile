# Build stage: the Swift toolchain image builds the release binary with the same command CI uses.
ARG SWIFT_VERSION=6.1
FROM swift:${SWIFT_VERSION}-bookworm AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends libsqlite3-dev libpq-dev pkg-config \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY Package.swift ./
COPY Sources ./Sources
COPY Tests ./Tests
RUN swift build -c release --static-swift-stdlib \
 && cp "$(swift build -c release --show-bin-path)/trade-tracker" /trade-tracker

# Runtime stage: slim Debian with the system SQLite (linked) and libpq (opened at run time for a postgres:// database), a non-root user and a volume
# for the database.
FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends libsqlite3-0 libpq5 curl ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin tradetracker \
 && mkdir -p /app/data \
 && chown tradetracker /app/data
WORKDIR /app
COPY --from=build /trade-tracker /usr/local/bin/trade-tracker
COPY migrations ./migrations
COPY openapi.yaml ./openapi.yaml
COPY demo ./demo
USER tradetracker
VOLUME ["/app/data"]
ENV TRADE_TRACKER_HOST=0.0.0.0 \
    TRADE_TRACKER_PORT=8080 \
    TRADE_TRACKER_DATABASE=/app/data/trade-tracker.sqlite
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
  CMD curl -fsS http://127.0.0.1:8080/healthz || exit 1
STOPSIGNAL SIGTERM
ENTRYPOINT ["trade-tracker"]
CMD ["serve"]
