# syntax=docker/dockerfile:1
# paperbell: multi-stage image. Stage 1 builds wheels (dependencies in their own cached layer),
# stage 2 is a slim runtime with a non-root user, the data directory as a volume and a HEALTHCHECK
# against the web app's /healthz.

FROM python:3.11-slim AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
WORKDIR /src
# Dependencies first: this layer is rebuilt only when pyproject.toml changes.
COPY pyproject.toml README.md ./
RUN python - <<'PY' > requirements.txt
import tomllib
print("\n".join(tomllib.load(open("pyproject.toml", "rb"))["project"]["dependencies"]))
PY
RUN pip wheel --wheel-dir /wheels -r requirements.txt
# Then the project itself.
COPY bot ./bot
COPY digest ./digest
COPY storage ./storage
COPY templates ./templates
RUN pip wheel --no-deps --wheel-dir /wheels .

FROM python:3.11-slim AS runtime
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PAPERBELL_DATA_DIR=/data PAPERBELL_WEB_HOST=0.0.0.0 PAPERBELL_WEB_PORT=8080
RUN groupadd --system paperbell && useradd --system --gid paperbell --home-dir /data paperbell \
    && mkdir -p /data && chown paperbell:paperbell /data
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir --no-index --find-links /wheels paperbell && rm -rf /wheels
USER paperbell
WORKDIR /data
VOLUME ["/data"]
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD python -c "import os, urllib.request; urllib.request.urlopen(f'http://127.0.0.1:{os.environ.get(\"PAPERBELL_WEB_PORT\", \"8080\")}/healthz', timeout=4)"
CMD ["paperbell", "run"]
