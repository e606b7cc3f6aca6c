# syntax=docker/dockerfile:1
# paperbell: multi-stage image. Stage 1 builds wheels (dependencies in their own cached layer),
# stage 2 is a slim runtime with a non-root user, the data directory as a volume and a HEALTHCHECK
# against the web app's /healthz.

FROM python:3.11-slim AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
WORKDIR /src
# Dependencies first, at the exact versions the project is tested with (constraints.txt, the pinned
# runtime closure of paperbell[postgres,telegram,matrix], so every channel runs in the image): a
# rebuild never resolves fresh versions. This layer is rebuilt only when constraints.txt changes.
COPY constraints.txt ./
RUN pip wheel --wheel-dir /wheels -r constraints.txt
# Then the project itself.
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY digest ./digest
COPY storage ./storage
COPY templates ./templates
RUN pip wheel --no-deps --wheel-dir /wheels .

FROM python:3.11-slim AS runtime
# 0.0.0.0 inside the container so Docker can forward to it; publish it on the host's loopback only
# (`docker run -p 127.0.0.1:8080:8080`) behind a reverse proxy: docs/operations/deployment.md.
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PAPERBELL_DATA_DIR=/data PAPERBELL_WEB_HOST=0.0.0.0 PAPERBELL_WEB_PORT=8080
RUN groupadd --system paperbell && useradd --system --gid paperbell --home-dir /data paperbell \
    && mkdir -p /data && chown paperbell:paperbell /data
COPY --from=build /wheels /wheels
COPY constraints.txt /tmp/constraints.txt
RUN pip install --no-cache-dir --no-index --find-links /wheels -c /tmp/constraints.txt "paperbell[postgres,telegram,matrix]" \
    && rm -rf /wheels /tmp/constraints.txt
USER paperbell
WORKDIR /data
VOLUME ["/data"]
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD python -c "import os, urllib.request; urllib.request.urlopen(f'http://127.0.0.1:{os.environ.get(\"PAPERBELL_WEB_PORT\", \"8080\")}/healthz', timeout=4)"
CMD ["paperbell", "run"]
