# syntax=docker/dockerfile:1
# Kozak Agent container: `docker build -t kozak-agent .`
# The same image runs the agent (default) and the mock monitoring server (`deno task mock`).
ARG DENO_VERSION=2.9.6

# --- stage 1: fetch every dependency exactly as locked -------------------------------
FROM denoland/deno:${DENO_VERSION} AS deps
WORKDIR /app
COPY deno.json deno.lock ./
COPY main.ts launcher.ts mock_monitoring.ts healthcheck.ts ./
COPY bin/ bin/
COPY src/ src/
COPY checks/ checks/
COPY schema/ schema/
COPY mock/ mock/
# --frozen: fail instead of resolving anything that deno.lock does not pin.
RUN deno install --frozen \
 && deno cache --frozen main.ts launcher.ts mock_monitoring.ts healthcheck.ts

# --- stage 2: the runtime image -----------------------------------------------------------
FROM denoland/deno:${DENO_VERSION}
WORKDIR /app
COPY --from=deps --chown=deno:deno /deno-dir /deno-dir
COPY --from=deps --chown=deno:deno /app /app
# Written by the agent every 5 s; read by the HEALTHCHECK below.
ENV AGENT_STATUS_FILE=/tmp/kozak-agent.status \
    LOG_FORMAT=json \
    NO_COLOR=1
USER deno
# Healthy = the agent's loop wrote its status within 30 s (being cut off from the
# monitoring server is not unhealthy: the agent queues meanwhile).
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 \
  CMD ["deno", "run", "--cached-only", "--no-prompt", "--allow-env=AGENT_STATUS_FILE", "--allow-read=/tmp/kozak-agent.status", "healthcheck.ts"]
# `deno task start` runs bin/kozak-supervise: a short-lived `launcher.ts plan`
# computes the least-privilege flags for the configured modules, and the shell
# starts `deno run <flags> main.ts` (never -A) and stays as its small supervisor.
CMD ["deno", "task", "start"]
