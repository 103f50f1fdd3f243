# syntax=docker/dockerfile:1
# Build: compile isolated-vm (needs python3, make, g++: present in the full node image) and the TypeScript.
FROM node:20-bookworm AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
COPY scripts ./scripts
COPY test ./test
COPY bench ./bench
RUN npm run build && npm prune --omit=dev

# Run: the same Node 20 and glibc, no compilers, a non-root user.
FROM node:20-bookworm-slim
ENV NODE_ENV=production HOST=0.0.0.0 PORT=3000
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist/src ./dist/src
COPY package.json ./
COPY submissions-schema ./submissions-schema
COPY graders ./graders
# data/ holds gradebox.db (API keys): mount a volume there to keep it across containers.
RUN useradd --system --uid 10001 --home-dir /app gradebox && mkdir -p /app/data && chown -R gradebox /app/graders /app/data
USER gradebox
EXPOSE 3000
# --no-node-snapshot is required wherever isolated-vm loads (the workers inherit nothing else from here).
CMD ["node", "--no-node-snapshot", "dist/src/server.js"]
