# flowbridge collector image (docs/deploy.md). Build: docker build -t flowbridge .
# The build stage runs the README's own commands; the runtime stage keeps only what `node dist/main.js`
# loads (dist/, production node_modules, package.json for the version) and runs as a non-root user.

FROM node:24.21.0-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json tsconfig.json tsconfig.build.json ./
COPY src ./src
# the README's build; `npm ci` runs the prepare script (the same build) once more, which is harmless
RUN npm ci --no-audit --no-fund && npm run build
# drop the dev dependencies (TypeScript, tap, playwright) before the runtime stage copies node_modules
RUN npm prune --omit=dev --no-audit --no-fund

FROM node:24.21.0-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /src/package.json ./package.json
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/dist ./dist
# the image's `node` user (uid 1000) owns only the state directory
RUN mkdir -p /var/lib/flowbridge /etc/flowbridge && chown node:node /var/lib/flowbridge
USER node
# NetFlow v5/v9 and IPFIX, sFlow, the web page (/healthz, /metrics)
EXPOSE 2055/udp 6343/udp 8080/tcp
VOLUME ["/var/lib/flowbridge"]
# /healthz answers 200 once the collector runs, 503 while it starts or stops (docs/web.md); the web
# server must listen on the container's interfaces (web.listen 0.0.0.0:8080, deploy/flowbridge.yaml)
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:8080/healthz').then((r) => process.exit(r.status === 200 ? 0 : 1), () => process.exit(1))"]
# 8 MB semi-spaces: under a steady datagram stream V8 otherwise grows them to 16 MB each, about 30 MB
# more RSS for no measured gain (docs/performance.md); npm start passes the same
ENTRYPOINT ["node", "--max-semi-space-size=8", "dist/main.js"]
CMD ["--config", "/etc/flowbridge/flowbridge.yaml"]
