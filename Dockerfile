# One image for every Verity program; the command picks the program (verity balancer, …).
FROM node:20-bookworm-slim

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
