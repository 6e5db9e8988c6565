# syntax=docker/dockerfile:1
# ChatAPI: one self-contained binary (migrations embedded) on a slim glibc base.
#   docker build -t chatapi .
#   docker run -d --name chatapi -p 8080:8080 -v chatapi-data:/var/chatapi --stop-timeout 30 chatapi

# ---- build ------------------------------------------------------------------------------------
FROM oven/bun:1.4.4 AS build
WORKDIR /app
COPY package.json bun.lock ./
RUN bun install --frozen-lockfile
COPY tsconfig.json bunfig.toml ./
COPY migrations ./migrations
COPY src ./src
RUN bun run build && ./dist/chatapi version

# ---- runtime ----------------------------------------------------------------------------------
# debian slim rather than distroless: the binary needs glibc, and `chatapi healthcheck` runs in
# the image without curl. ca-certificates for HTTPS webhook targets.
FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 chatapi \
 && useradd --system --uid 10001 --gid chatapi --home-dir /var/chatapi --no-create-home \
      --shell /usr/sbin/nologin chatapi \
 && mkdir -p /var/chatapi \
 && chown chatapi:chatapi /var/chatapi \
 && chmod 0700 /var/chatapi
COPY --from=build /app/dist/chatapi /usr/local/bin/chatapi

ENV DATA_DIR=/var/chatapi \
    LISTEN_ADDR=:8080
VOLUME /var/chatapi
EXPOSE 8080
USER chatapi
WORKDIR /var/chatapi
# SIGTERM starts the graceful drain (SHUTDOWN_DRAIN_TIMEOUT, 10 s by default): give `docker stop`
# more than that, e.g. --stop-timeout 30.
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
  CMD ["/usr/local/bin/chatapi", "healthcheck"]
ENTRYPOINT ["/usr/local/bin/chatapi"]
CMD ["serve"]
