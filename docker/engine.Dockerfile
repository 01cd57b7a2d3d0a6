# HIE engine node: `hie run <production>` (default: the demo production). Build from the repo root:
#   docker build -f docker/engine.Dockerfile -t hie-engine .
# Two stages: the build stage installs everything and compiles TypeScript to dist/ (npm run build);
# the runtime stage holds dist/, the production dependencies and no TypeScript: it never runs tsx.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
COPY apps/engine/package.json apps/engine/
COPY apps/manager/package.json apps/manager/
COPY libs/ libs/
COPY tools/bench/package.json tools/bench/
COPY tools/docs/package.json tools/docs/
COPY plugins/sftp/package.json plugins/sftp/
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build

FROM node:20-bookworm-slim
WORKDIR /app
# HIE_BUILD=on: run dist/ (there are no sources here to compare it with), or fail; never tsx.
ENV NODE_ENV=production HIE_BUILD=on
COPY package.json package-lock.json ./
COPY apps/engine/package.json apps/engine/
COPY apps/manager/package.json apps/manager/
COPY libs/ libs/
COPY tools/bench/package.json tools/bench/
COPY tools/docs/package.json tools/docs/
COPY plugins/sftp/package.json plugins/sftp/
RUN npm ci --omit=dev --no-audit --no-fund && rm -rf libs/*/src
COPY --from=build /app/dist/ dist/
COPY bin/hie.mjs bin/build-state.mjs bin/
COPY examples/ examples/
# Without DATABASE_URL the embedded store lives here (/app is root's): patient data, the node user's alone.
ENV HIE_DATA_DIR=/data
RUN mkdir -p /data && chown node:node /data && chmod 700 /data
VOLUME ["/data"]
EXPOSE 2575 8080
USER node
ENTRYPOINT ["node", "bin/hie.mjs"]
CMD ["run", "examples/adt-feed.json"]
