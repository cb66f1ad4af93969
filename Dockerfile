# One Dockerfile for every OneWindow component: build one image per target, e.g.
#   docker build --target intake -t registry.example.org/onewindow/intake:0.1.0 .
# Targets: gateway, intake, approval, delivery, rating (deploy/README.md, "Images").
# The final images hold the Python runtime, the installed wheels and one component's code:
# no compiler, no pip cache, no tests; they run as an unprivileged user on a read-only root.

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# --- build: a virtualenv with the runtime requirements (wheels only need no compiler) -------
FROM ${PYTHON_IMAGE} AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PYTHONDONTWRITEBYTECODE=1
RUN python -m venv /opt/venv
COPY requirements.txt /tmp/requirements.txt
RUN /opt/venv/bin/pip install --no-cache-dir -r /tmp/requirements.txt \
    && /opt/venv/bin/pip uninstall --yes pip setuptools wheel \
    && find /opt/venv -depth -type d -name __pycache__ -exec rm -rf {} + \
    && /opt/venv/bin/python -m compileall -q --invalidation-mode unchecked-hash /opt/venv/lib

# --- source: the code, byte-compiled once (the root filesystem is read-only at run time) ----
FROM build AS source
WORKDIR /app
COPY libs/owkernel/ libs/owkernel/
COPY gateway/ gateway/
COPY services/ services/
RUN python -m compileall -q --invalidation-mode unchecked-hash /app

# --- runtime: what every component shares ----------------------------------------------------
FROM ${PYTHON_IMAGE} AS runtime
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONPATH=/app:/app/libs \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1
RUN groupadd --system --gid 10001 onewindow \
    && useradd --system --uid 10001 --gid onewindow --no-create-home --home-dir /nonexistent \
       --shell /usr/sbin/nologin onewindow
COPY --from=build /opt/venv /opt/venv
WORKDIR /app
COPY --from=source /app/libs/ libs/
USER 10001:10001

# --- one target per component: its own code, port and command ------------------------------
# Kubernetes sets the same command explicitly (deploy/base/<component>.yaml); migrations run
# with `alembic -c <component>/alembic.ini upgrade head` from /app.
FROM runtime AS gateway
COPY --from=source /app/gateway/ gateway/
EXPOSE 8000
CMD ["uvicorn", "--factory", "gateway.app:create_app", "--host", "0.0.0.0", "--port", "8000", "--timeout-graceful-shutdown", "20", "--timeout-keep-alive", "75", "--no-access-log", "--log-level", "warning", "--proxy-headers", "--forwarded-allow-ips", "*"]

FROM runtime AS intake
COPY --from=source /app/services/intake/ services/intake/
EXPOSE 8001
CMD ["uvicorn", "--factory", "services.intake.app:create_app", "--host", "0.0.0.0", "--port", "8001", "--timeout-graceful-shutdown", "20", "--timeout-keep-alive", "75", "--no-access-log", "--log-level", "warning"]

FROM runtime AS approval
COPY --from=source /app/services/approval/ services/approval/
EXPOSE 8002
CMD ["uvicorn", "--factory", "services.approval.app:create_app", "--host", "0.0.0.0", "--port", "8002", "--timeout-graceful-shutdown", "20", "--timeout-keep-alive", "75", "--no-access-log", "--log-level", "warning"]

FROM runtime AS delivery
COPY --from=source /app/services/delivery/ services/delivery/
EXPOSE 8003
CMD ["uvicorn", "--factory", "services.delivery.app:create_app", "--host", "0.0.0.0", "--port", "8003", "--timeout-graceful-shutdown", "20", "--timeout-keep-alive", "75", "--no-access-log", "--log-level", "warning"]

FROM runtime AS rating
COPY --from=source /app/services/rating/ services/rating/
EXPOSE 8004
CMD ["uvicorn", "--factory", "services.rating.app:create_app", "--host", "0.0.0.0", "--port", "8004", "--timeout-graceful-shutdown", "20", "--timeout-keep-alive", "75", "--no-access-log", "--log-level", "warning"]
