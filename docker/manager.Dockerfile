# HIE all-in-one / control plane: manager API + portal (+ an engine node) — `hie start`.
# Build from the repo root:  docker build -f docker/manager.Dockerfile -t hie-manager .
FROM node:20-bookworm-slim AS build
WORKDIR /app
ENV NEXT_TELEMETRY_DISABLED=1
COPY package.json package-lock.json ./
COPY apps/ apps/
COPY libs/ libs/
COPY tools/ tools/
RUN npm ci --no-audit --no-fund
COPY . .
# The portal is built at image build time, so the first start does not build it.
RUN node node_modules/next/dist/bin/next build apps/portal

FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production NEXT_TELEMETRY_DISABLED=1 HIE_PORT=8080 HIE_DATA_DIR=/data
COPY --from=build /app /app
# The embedded database holds patient data: its folder is the node user's alone.
RUN mkdir -p /data && chown node:node /data && chmod 700 /data
VOLUME ["/data"]
EXPOSE 8080 2575
USER node
HEALTHCHECK --interval=10s --timeout=3s CMD node -e "fetch('http://127.0.0.1:8080/healthz').then(r=>process.exit(r.ok?0:1)).catch(()=>process.exit(1))"
ENTRYPOINT ["node", "bin/hie.mjs"]
CMD ["start"]
