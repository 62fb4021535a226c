# Two images from one file (docs/deploy.md has their sizes):
#   docker build --target node -t verity-node .   what volunteers run: `verity node` only, on Alpine,
#                                                  without Chromium, dashboards or database code
#   docker build -t verity .                       (target full) balancer, auditor, sample origin
#                                                  and every CLI command, with Chromium for the auditor

# ---- the volunteer node ----
FROM node:20-alpine AS node

# The node runs as "verity" and writes only to /home/verity/node (its key pair and cache, where
# its volume is mounted) and reads /bootstrap (docker-compose's first join token).
RUN adduser -D -u 10001 verity \
 && install -d -o verity -g verity /home/verity/node /bootstrap

WORKDIR /app
# Its own dependency list (tsx, pino, yaml, zod, @peculiar/x509 for its TLS certificate): the
# versions of the root lock file.
COPY deploy/node/package.json deploy/node/package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
# Only what `verity node` loads (bin/cli.ts imports the other commands lazily).
COPY tsconfig.json ./
COPY bin/verity bin/cli.ts bin/
COPY common/errors.ts common/listen.ts common/log.ts common/pid-lock.ts common/program.ts common/
COPY common/config common/config
COPY common/domain common/domain
COPY common/http common/http
COPY common/protocol common/protocol
COPY common/tls/x509.ts common/tls/
COPY node node

ENV NODE_ENV=production \
    VERITY_HEALTH_URL=http://127.0.0.1:8091/healthz

USER verity

HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD node -e "fetch(process.env.VERITY_HEALTH_URL).then(r => process.exit(r.ok ? 0 : 1), () => process.exit(1))"

ENTRYPOINT ["node", "bin/verity"]
CMD ["node", "--help"]

# ---- everything else: balancer, auditor, sample origin, CLI ----
FROM node:20-bookworm-slim AS full

# Chromium for the auditor's rendered checks; the other programs never start it.
RUN apt-get update \
 && apt-get install -y --no-install-recommends chromium ca-certificates fonts-dejavu-core \
 && rm -rf /var/lib/apt/lists/*

# The programs run as "verity". The code stays root's and read-only to them (no chown of /app,
# which would copy every file into a second layer); they write only to their own folders,
# which exist here with the right owner so that a volume mounted on them starts out writable:
# /home/verity/node (a node's key pair and cache) and /bootstrap (docker-compose's first join token).
RUN useradd --create-home --uid 10001 verity \
 && install -d -o verity -g verity /home/verity/node /bootstrap

WORKDIR /app
COPY package.json package-lock.json .puppeteerrc.cjs ./
RUN npm ci --omit=dev --no-audit --no-fund
COPY . .

ENV NODE_ENV=production \
    PUPPETEER_EXECUTABLE_PATH=/usr/bin/chromium \
    VERITY_HEALTH_URL=http://127.0.0.1:8081/healthz

USER verity

# Each service sets VERITY_HEALTH_URL to its own health endpoint.
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD node -e "fetch(process.env.VERITY_HEALTH_URL).then(r => process.exit(r.ok ? 0 : 1), () => process.exit(1))"

ENTRYPOINT ["node", "bin/verity"]
CMD ["--help"]
