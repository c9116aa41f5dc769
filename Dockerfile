# The image of `broadside agent` (issue 10; docs/agent.md, "The image"). These machines reach no image
# registry, so this file is not built by the tests; the Helm chart and deploy/broadside.yaml name the image.
#
#   docker build -t broadside:dev .
#
# Three stages: compile with the dev dependencies, install the runtime dependencies alone, then copy
# both into a slim image that runs as a non-root user and needs no writable file system.

# The active Node LTS line (26 since October 2026), the one every test tier runs on (ADR 0021).
ARG NODE_IMAGE=node:26-trixie-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
# --ignore-scripts: `prepare` would compile before the sources are here; the build runs below.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY scripts/bundle.mjs ./scripts/
# As `npm run build`: bin/broadside.js runs the bundle (dist/bundle/, ADR 0020), and the board serves its
# page from dist/board-ui/ (`broadside agent --board-listen`, ADR 0036).
RUN npx tsc -p tsconfig.build.json && node scripts/bundle.mjs

FROM ${NODE_IMAGE} AS runtime-deps
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund

# crictl, which the node daemon asks for a container's process (docs/daemon.md, "In a cluster"); built from
# its Go module, as the sandbox builds Kubernetes.
FROM golang:1.26-trixie AS crictl
RUN CGO_ENABLED=0 GOBIN=/out go install sigs.k8s.io/cri-tools/cmd/crictl@v1.34.0

# The node daemon's image: `docker build --target daemon -t broadside-daemon:dev .` The agent's image plus
# the tools the daemon runs by argv inside pods' namespaces: tc (iproute2), nft (nftables), nsenter
# (util-linux), crictl. The chart runs it privileged as root (nodeDaemons.enabled).
FROM ${NODE_IMAGE} AS daemon
RUN apt-get update && apt-get install -y --no-install-recommends iproute2 nftables util-linux \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /opt/broadside
COPY --from=runtime-deps /src/node_modules ./node_modules
COPY --from=build /src/dist ./dist
COPY --from=crictl /out/crictl /usr/local/bin/crictl
COPY bin ./bin
COPY package.json LICENSE* ./
ENV NODE_ENV=production
ENV MALLOC_ARENA_MAX=2
ENTRYPOINT ["node", "/opt/broadside/bin/broadside.js"]
CMD ["daemon"]

# The agent's image, the default target (the last stage).
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
# glibc's malloc gives each thread that allocates an arena of its own and rarely returns their memory;
# two arenas hold the agent's resident set about 8 MiB lower (ADR 0018).
ENV MALLOC_ARENA_MAX=2
# Metrics and health (loopback by default; the chart passes --metrics-bind-address and
# --health-probe-bind-address 0.0.0.0:8080 inside the pod).
EXPOSE 8080
# Heap settings for a resident agent with a large pod cache (ADR 0018, docs/benchmarks.md "Memory"):
# a 1 MiB semi-space (the default grows to 16 MiB, kept for the life of the process) and V8's
# optimize-for-size heuristics, which collect the start-up LIST's garbage promptly instead of leaving
# the heap at its peak: with 10,000 pods and MALLOC_ARENA_MAX above, 130 MiB resident instead of 215-245 MiB.
ENTRYPOINT ["node", "--max-semi-space-size=1", "--optimize-for-size", "/opt/broadside/bin/broadside.js"]
CMD ["agent"]
