# Stands in for nginx:1.27-alpine: the nginx stand-in with busybox as sh and
# awk, the two the sh drop-in runs on in Alpine. Build context: any.
ARG BASE
FROM ${BASE}
RUN ln -sf /bin/busybox /bin/sh && ln -sf /bin/busybox /usr/bin/awk
