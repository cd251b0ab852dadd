#!/bin/sh
# hostgw-snippet-nginx-step: hostgw render --nginx as a /docker-entrypoint.d/ step
#
# The nginx image's /docker-entrypoint.sh runs every executable
# /docker-entrypoint.d/*.sh in order (and sources *.envsh). Copied over the
# image's own template step, this file renders the same templates with hostgw,
# and every other step (10-listen-on-ipv6-by-default.sh,
# 15-local-resolvers.envsh, 30-tune-worker-processes.sh and your own) keeps
# running; the image's ENTRYPOINT stays:
#
#   hostgw snippet nginx-step -o 20-envsubst-on-templates.sh
#   COPY --chmod=755 20-envsubst-on-templates.sh /docker-entrypoint.d/
#
# It reads what the image's step reads (NGINX_ENVSUBST_TEMPLATE_DIR,
# _TEMPLATE_SUFFIX, _OUTPUT_DIR, _FILTER and the stream templates), with
# hostgw's ${VAR:-default} forms, HOSTGW_IP and HOSTGW_HOST, and atomic
# writes; an error stops the container before nginx starts (the entrypoint
# runs under set -e). The HOSTGW_* settings of `hostgw render` apply
# (HOSTGW_STRICT, HOSTGW_RAW, ...). HOSTGW_WAIT='8000 db:5432' then waits
# until those targets answer (HOSTGW_WAIT_TIMEOUT, default 30s).
# HOSTGW_BIN is the hostgw to run (default: hostgw on PATH, else
# /opt/hostgw/bin/hostgw).
set -eu

hostgw=${HOSTGW_BIN:-$(command -v hostgw || echo /opt/hostgw/bin/hostgw)}
quiet=
if [ -n "${NGINX_ENTRYPOINT_QUIET_LOGS:-}" ]; then quiet=-q; fi

"$hostgw" render --nginx $quiet
if [ -n "${HOSTGW_WAIT:-}" ]; then
    # shellcheck disable=SC2046  # one target per word
    "$hostgw" wait $quiet $(printf '%s\n' "$HOSTGW_WAIT" | tr ',' ' ')
fi
