#!/bin/sh
# A stand-in for the nginx image's /docker-entrypoint.sh (no Docker here),
# with the behaviour the sh drop-in depends on:
# - `set -e`;
# - the files of $ENTRYPOINT_D (the image: /docker-entrypoint.d) are walked
#   in `sort -V` order inside a `find | sort | while read` pipeline, so the
#   loop runs in a subshell;
# - executable *.envsh files are SOURCED (variables they export reach the
#   *.sh scripts after them), executable *.sh files are run, others ignored;
# - then `exec "$@"`.
set -e

log() {
    if [ -z "${NGINX_ENTRYPOINT_QUIET_LOGS:-}" ]; then
        echo "$@"
    fi
}

if [ "$1" = "nginx" ] || [ "$1" = "nginx-debug" ] || [ "${ENTRYPOINT_ANY_COMMAND:-}" = 1 ]; then
    find "$ENTRYPOINT_D/" -follow -type f -print | sort -V | while read -r f; do
        case "$f" in
            *.envsh)
                if [ -x "$f" ]; then
                    log "$0: Sourcing $f"
                    # shellcheck disable=SC1090  # the files found above
                    . "$f"
                else
                    log "$0: Ignoring $f, not executable"
                fi
                ;;
            *.sh)
                if [ -x "$f" ]; then
                    log "$0: Launching $f"
                    "$f"
                else
                    log "$0: Ignoring $f, not executable"
                fi
                ;;
            *) log "$0: Ignoring $f" ;;
        esac
    done
    log "$0: Configuration complete; ready for start up"
fi

exec "$@"
