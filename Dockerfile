# MaxQ image: the local runner (API + scheduler loop in one process) on Node 20.
#   docker build -t maxq:latest .        (or ./scripts/docker-build.sh)
#   docker run -p 3000:3000 -e MAXQ_DATABASE_URL=postgresql://... -v /path/to/flows:/flows maxq:latest
#   docker run -p 3000:3000 -e MAXQ_SQLITE_PATH=/data/maxq.db -v /path/to/flows:/flows -v /path/to/data:/data maxq:latest

# --- build: compile TypeScript, better-sqlite3 and MaxQ's posix_spawn addon, drop dev dependencies
FROM node:20-bookworm-slim AS build
WORKDIR /app
# The image carries Node's headers: node-gyp need not download them. The addon must build here.
ENV npm_config_nodedir=/usr/local MAXQ_REQUIRE_NATIVE=1
# better-sqlite3 falls back to compiling from source when no prebuilt binary fits.
RUN apt-get update \
  && apt-get install -y --no-install-recommends python3 make g++ \
  && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
# --ignore-scripts: `prepare` would compile before the sources are copied; the one install script
# we need (better-sqlite3's) is run explicitly.
RUN npm ci --ignore-scripts && npm rebuild better-sqlite3
COPY . .
RUN npm run build && npm prune --omit=dev

# --- runtime: scripts need bash, curl and jq; tini reaps the detached supervisors' orphans
FROM node:20-bookworm-slim
RUN apt-get update \
  && apt-get install -y --no-install-recommends bash curl jq ca-certificates tini \
  && rm -rf /var/lib/apt/lists/*
WORKDIR /app
ENV NODE_ENV=production \
  MAXQ_FLOWS_ROOT=/flows \
  MAXQ_PORT=3000 \
  MAXQ_HOST=0.0.0.0
# The whole app, not only dist/: migrations (*.sql), runtime/maxq.sh and bin/ are read at run time.
COPY --from=build --chown=node:node /app /app
# The examples are the default flows; mount your own at /flows.
COPY --from=build --chown=node:node /app/examples /flows
RUN mkdir -p /data /app/data && chown node:node /data /app/data \
  && ln -s /app/bin/maxq.js /usr/local/bin/maxq
USER node
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
  CMD curl -fsS "http://127.0.0.1:${MAXQ_PORT}/health" >/dev/null || exit 1
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["node", "dist/wrangler-free-local/main.js"]
