# The upshift sidecar as a container image.
#
#   docker build -t upshift .                                  # from node:20-bookworm-slim
#   docker build --build-arg BASE_IMAGE=upshift-node-base:local -t upshift .   # no registry
#   (test/docker/build-sidecar-image.sh does this with PREBUILT=1: a lean context)
#
# BASE_IMAGE must provide `node` (>= 20), `npm` and `/bin/sh`. Where no
# registry is reachable, test/docker/build-node-base.sh makes such a base
# from the host's own node binary.
#
# Run it with host networking (the proxy dials version containers on their
# published 127.0.0.1 ports) and the engine's socket, as a member of the
# socket's group:
#
#   docker run -d --network host \
#     -v /var/run/docker.sock:/var/run/docker.sock --group-add "$(stat -c %g /var/run/docker.sock)" \
#     -v /srv/upshift:/etc/upshift -v upshift-state:/var/lib/upshift upshift
#
# /etc/upshift/upshift.json is the config; point its "stateFile" at
# /var/lib/upshift/state.json so runtime changes survive a new container.
ARG BASE_IMAGE=node:20-bookworm-slim

FROM ${BASE_IMAGE} AS build
# PREBUILT=1 takes dist/ and node_modules/ from the build context as they
# are (test/docker/build-sidecar-image.sh assembles such a context: a fresh
# dist/ and the sidecar's packages only). Otherwise src/ is compiled here
# and every other package is dropped afterwards. The sidecar's packages are
# the production dependencies plus dockerode, an optional peer dependency
# of the npm package that the image always needs (scripts/sidecar-modules.mjs).
ARG PREBUILT=0
ENV NPM_CONFIG_UPDATE_NOTIFIER=false NPM_CONFIG_FUND=false NPM_CONFIG_AUDIT=false
WORKDIR /build
COPY . .
# Without node_modules in the context, the locked tree is installed.
RUN if [ "$PREBUILT" = 1 ]; then test -f dist/sidecar/bin.js && test -d node_modules; else \
      { [ -d node_modules ] || npm ci --ignore-scripts; } \
      && rm -rf dist && node node_modules/typescript/bin/tsc -p tsconfig.build.json \
      && node scripts/sidecar-modules.mjs --prune; \
    fi \
 && rm -rf node_modules/.cache

FROM ${BASE_IMAGE}
WORKDIR /app
COPY --from=build /build/package.json /build/package-lock.json ./
COPY --from=build /build/node_modules ./node_modules
COPY --from=build /build/dist ./dist
# The state directory belongs to the user the sidecar runs as.
RUN mkdir -p /var/lib/upshift && chown 10001:10001 /var/lib/upshift
ENV NODE_ENV=production \
    UPSHIFT_HEALTH_URL=http://127.0.0.1:9090/healthz
# A fixed non-root uid; it needs no passwd entry. Give it the Docker
# socket's group with --group-add.
USER 10001:10001
VOLUME ["/var/lib/upshift"]
# Healthy while the config API answers /healthz (set UPSHIFT_HEALTH_URL when
# configService.port is not 9090).
HEALTHCHECK --interval=10s --timeout=3s --start-period=15s --retries=3 \
  CMD ["node", "-e", "fetch(process.env.UPSHIFT_HEALTH_URL).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["node", "/app/dist/sidecar/bin.js"]
CMD ["--config", "/etc/upshift/upshift.json"]
