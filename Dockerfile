# One image for both servers: `anyray serve gateway` (the default) or `anyray serve optimizer`.
#   docker build -t anyray:0.1.0 .
#   docker run --rm -p 8787:8787 anyray:0.1.0                      # gateway, in-process optimizer
#   docker run --rm anyray:0.1.0 serve optimizer                   # optimizer only
# Configuration comes from a mounted anyray.yaml (ANYRAY_CONFIG) and env vars; no secret is baked in.

FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY src ./src
RUN pip wheel --no-cache-dir --no-deps --wheel-dir /wheels .

# LiteLLM as the front door (deploy.litellm: true): LiteLLM's own image with anyray installed, so its proxy
# loads the adapter (anyray.adapters.litellm). Built only when asked for:
#   docker build --target litellm -t anyray-litellm:0.1.0 .
FROM ghcr.io/berriai/litellm:main-stable AS litellm
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir "$(echo /wheels/anyray-*.whl)" && rm -rf /wheels

# The product image (the last stage: what a plain `docker build` makes).
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    HOME=/var/lib/anyray
COPY --from=build /wheels /wheels
# the core install and the extras a cluster uses: several replicas share a PostgreSQL spend store and a
# Redis cache (store.url / cache.url); [k8s] (anyray redirect) and [litellm] run elsewhere
RUN pip install "$(echo /wheels/anyray-*.whl)[postgres,redis]" && rm -rf /wheels \
 && groupadd --system --gid 10001 anyray \
 && useradd --system --uid 10001 --gid 10001 --home-dir /var/lib/anyray --shell /usr/sbin/nologin anyray \
 && mkdir -p /var/lib/anyray /etc/anyray && chown 10001:10001 /var/lib/anyray
WORKDIR /var/lib/anyray
# numeric, so Kubernetes can verify runAsNonRoot without resolving names
USER 10001:10001
EXPOSE 8787 8088
# containers listen on every interface; the rendered config says the same (gateway.host / optimizer.host)
ENV ANYRAY_GATEWAY__HOST=0.0.0.0 \
    ANYRAY_OPTIMIZER__HOST=0.0.0.0
ENTRYPOINT ["anyray"]
CMD ["serve", "gateway"]
