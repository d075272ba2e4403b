# jaga: multi-stage image. The code runs on Node 20 and 22; the image uses the current LTS line (22).
# Build:  docker build -t jaga .
# Run:    see README.md, "Running in a container" (mount the PostgreSQL log folder read-only).

FROM node:22-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts=false
COPY tsconfig.json tsconfig.build.json ./
COPY scripts ./scripts
COPY src ./src
RUN npm run build && npm prune --omit=dev

FROM node:22-bookworm-slim
ENV NODE_ENV=production \
    JAGA_STORE_DATA_DIR=/var/lib/jaga \
    JAGA_HTTP_LISTEN=0.0.0.0:7887
WORKDIR /app
# A fixed, non-root user; add it to the group that can read the server's logs with --group-add.
RUN groupadd --system --gid 7887 jaga \
 && useradd --system --uid 7887 --gid jaga --home-dir /var/lib/jaga --shell /usr/sbin/nologin jaga \
 && mkdir -p /var/lib/jaga /etc/jaga && chown jaga:jaga /var/lib/jaga
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY bin ./bin
COPY rules ./rules
COPY dashboards ./dashboards
COPY examples ./examples
USER jaga
VOLUME ["/var/lib/jaga"]
EXPOSE 7887
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:7887/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["node", "/app/bin/jaga.js"]
CMD ["run", "--config", "/etc/jaga/jaga.yaml"]
