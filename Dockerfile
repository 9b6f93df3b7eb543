# syntax=docker/dockerfile:1
# Node.js 24 is an LTS line maintained until April 2028 (Node 20 reached its end of life in April 2026).
# The code itself runs on Node 20.19 and newer (package.json "engines"); CI runs the built service
# on the newest Node 24 as well (test/deploy/node-lts.test.ts).
# Build stage: full install, compile TypeScript to dist/.
FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

# Runtime stage: production dependencies and the compiled service only, as a non-root user.
FROM node:24-bookworm-slim AS runtime
ENV NODE_ENV=production HOST=0.0.0.0 PORT=3000
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
# The operator console's page and scripts, read once at start (src/http/routes/console.ts).
COPY console ./console
USER node
EXPOSE 3000
HEALTHCHECK --interval=10s --timeout=3s --start-period=5s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# node itself is the main process (no npm wrapper), so SIGTERM reaches the graceful shutdown.
# Its flags are src/node-flags.ts's, as in npm start.
CMD ["node", "--single-threaded-gc", "--initial-old-space-size=64", "dist/server.js"]
