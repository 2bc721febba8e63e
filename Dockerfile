# Switchyard on Node 24 LTS. Node runs the TypeScript sources itself (type stripping), as `npm start` does.
FROM node:24-bookworm-slim
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm install --omit=dev --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
COPY machines ./machines
COPY templates ./templates
ENV PORT=8000 SWITCHYARD_DATA_DIR=/data
EXPOSE 8000
CMD ["node", "--max-semi-space-size=16", "--memory-reducer-gc-count=1", "src/main.ts"]
