# syntax=docker/dockerfile:1
# Build: compile isolated-vm and better-sqlite3 (need python3, make, g++: present in the full node image), the TypeScript,
# and native/no-exec.c, the grading workers' second seccomp filter (gcc and libc6-dev: present in the full node image too).
FROM node:20-bookworm AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
COPY scripts ./scripts
# The build derives TypeScript types from the JSON Schemas (scripts/schema-modules.mjs).
COPY submissions-schema ./submissions-schema
COPY test ./test
COPY bench ./bench
COPY console ./console
COPY native ./native
# The build goes on without the no-exec filter when it finds no C compiler; here there is one, so its absence is an error.
RUN npm run build && test -f dist/native/no-exec.so && npm prune --omit=dev

# Run: the same Node 20 and glibc, no compilers, a non-root user, and bubblewrap for the second wall around the
# grading workers (prlimit comes with util-linux, already in the image). CONFINEMENT=required (the default)
# refuses to start without it.
FROM node:20-bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends bubblewrap && rm -rf /var/lib/apt/lists/*
ENV NODE_ENV=production HOST=0.0.0.0 PORT=3000
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist/src ./dist/src
# The compiled no-exec filter: each confined worker preloads it (no compiler needed here).
COPY --from=build /app/dist/native ./dist/native
# The instructor console's bundle (esbuild, at npm run build), served under /console/assets.
COPY --from=build /app/dist/console ./dist/console
COPY package.json ./
COPY submissions-schema ./submissions-schema
COPY graders ./graders
# data/ holds the SQLite store and API keys (DATA_DIR): mount a volume there to keep submissions across containers.
RUN useradd --system --uid 10001 --home-dir /app gradebox && mkdir -p /app/data && chown -R gradebox /app/graders /app/data
VOLUME /app/data
USER gradebox
EXPOSE 3000
# Run with the confinement working (see the README's "Security model: the second wall"):
#   docker run -p 3000:3000 \
#     --security-opt seccomp=unconfined \      Docker's default profile refuses clone/unshare of namespaces and mount
#                                              without CAP_SYS_ADMIN; each worker gets gradebox's stricter filter.
#     --security-opt apparmor=unconfined \     docker-default AppArmor denies mount (bubblewrap's tmpfs and binds).
#     --security-opt systempaths=unconfined \  Docker masks parts of /proc, and the kernel then refuses a new procfs
#                                              for the worker's PID namespace.
#     gradebox
# No capability is added and the service still runs as the gradebox user; bubblewrap uses a user namespace.
# No --no-node-snapshot here: isolated-vm needs it, but only the grading workers load isolated-vm, and
# pool.ts starts them with it (test/imports.test.ts checks that the HTTP process never loads it).
CMD ["node", "dist/src/server.js"]
