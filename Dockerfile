# One hub instance. Runs the TypeScript sources with tsx (no build step).
FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
COPY shared/package.json shared/
COPY server/package.json server/
COPY client/package.json client/
RUN npm ci --omit=dev --workspaces --include-workspace-root && npm cache clean --force
# tsconfig.json's "paths" point @slotcast/shared and @slotcast/client at their sources for tsx and esbuild.
COPY tsconfig.json ./
COPY shared shared
COPY server server
COPY client client
USER node
EXPOSE 3000
STOPSIGNAL SIGTERM
CMD ["node", "--import", "tsx", "server/src/main.ts"]
