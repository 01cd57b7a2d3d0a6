# HIE all-in-one / control plane: manager API + portal (+ an engine node) — `hie start`.
# Build from the repo root:  docker build -f docker/manager.Dockerfile -t hie-manager .
# Two stages: the build stage compiles the server to dist/ (npm run build) and the portal to
# apps/portal/.next (next build); the runtime stage holds those, the production dependencies and
# no server TypeScript: it never runs tsx.
FROM node:20-bookworm-slim AS build
WORKDIR /app
ENV NEXT_TELEMETRY_DISABLED=1
COPY package.json package-lock.json ./
COPY apps/ apps/
COPY libs/ libs/
COPY tools/ tools/
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build
# The portal is built at image build time, so the first start does not build it.
RUN node node_modules/next/dist/bin/next build apps/portal

FROM node:20-bookworm-slim
WORKDIR /app
# HIE_BUILD=on: run dist/ (there are no server sources here to compare it with), or fail; never tsx.
ENV NODE_ENV=production NEXT_TELEMETRY_DISABLED=1 HIE_PORT=8080 HIE_DATA_DIR=/data HIE_BUILD=on
COPY package.json package-lock.json ./
COPY apps/engine/package.json apps/engine/
COPY apps/manager/package.json apps/manager/
COPY apps/portal/package.json apps/portal/
COPY libs/ libs/
COPY tools/bench/package.json tools/bench/
COPY tools/docs/package.json tools/docs/
COPY plugins/sftp/package.json plugins/sftp/
RUN npm ci --omit=dev --no-audit --no-fund && rm -rf libs/*/src
COPY --from=build /app/dist/ dist/
# The portal as built (its .next, config, public files, and the sources `hie start` checks the
# build against: from the build stage, so .next stays newer than them and is never rebuilt).
COPY --from=build /app/apps/portal/ apps/portal/
COPY bin/hie.mjs bin/build-state.mjs bin/
COPY examples/ examples/
# The manual the portal serves at /docs.
COPY docs/ docs/
# The embedded database holds patient data: its folder is the node user's alone.
RUN mkdir -p /data && chown node:node /data && chmod 700 /data
VOLUME ["/data"]
EXPOSE 8080 2575
USER node
HEALTHCHECK --interval=10s --timeout=3s CMD node -e "fetch('http://127.0.0.1:8080/healthz').then(r=>process.exit(r.ok?0:1)).catch(()=>process.exit(1))"
ENTRYPOINT ["node", "bin/hie.mjs"]
CMD ["start"]
