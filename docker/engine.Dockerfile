# HIE engine node (cluster member) or all-in-one (`hie start`). Build from the repo root:
#   docker build -f docker/engine.Dockerfile -t hie-engine .
FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production NEXT_TELEMETRY_DISABLED=1
COPY package.json package-lock.json ./
COPY apps/engine/package.json apps/engine/
COPY libs/ libs/
COPY tools/bench/package.json tools/bench/
RUN npm ci --no-audit --no-fund
COPY . .
# Without DATABASE_URL the embedded store lives here (/app is root's): patient data, the node user's alone.
ENV HIE_DATA_DIR=/data
RUN mkdir -p /data && chown node:node /data && chmod 700 /data
VOLUME ["/data"]
EXPOSE 2575 8080
USER node
ENTRYPOINT ["node", "bin/hie.mjs"]
CMD ["run", "examples/adt-feed.json"]
