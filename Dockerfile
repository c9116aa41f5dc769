# The image of `broadside agent` (issue 10; docs/agent.md, "The image"). These machines reach no image
# registry, so this file is not built by the tests; the Helm chart and deploy/broadside.yaml name the image.
#
#   docker build -t broadside:dev .
#
# Three stages: compile with the dev dependencies, install the runtime dependencies alone, then copy
# both into a slim image that runs as a non-root user and needs no writable file system.

# The active Node LTS line (26 since October 2026); the CLI itself is also tested on Node 20 (ADR 0001).
ARG NODE_IMAGE=node:26-trixie-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
# --ignore-scripts: `prepare` would compile before the sources are here; the build runs below.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npx tsc -p tsconfig.build.json

FROM ${NODE_IMAGE} AS runtime-deps
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund

FROM ${NODE_IMAGE}
WORKDIR /opt/broadside
COPY --from=runtime-deps /src/node_modules ./node_modules
COPY --from=build /src/dist ./dist
COPY bin ./bin
COPY package.json LICENSE* ./
# The image's `node` user (uid 1000); the chart also sets runAsNonRoot, readOnlyRootFilesystem and drops
# every capability. Nothing under /opt/broadside is writable by it.
USER 1000:1000
ENV NODE_ENV=production
# Metrics and health (loopback by default; the chart passes --metrics-bind-address and
# --health-probe-bind-address 0.0.0.0:8080 inside the pod).
EXPOSE 8080
ENTRYPOINT ["node", "/opt/broadside/bin/broadside.js"]
CMD ["agent"]
