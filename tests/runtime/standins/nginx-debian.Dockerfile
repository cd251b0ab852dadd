# Stands in for nginx:1.27-bookworm (no registry here): Debian's nginx on the
# debootstrap base, with the image's entrypoint as tests/nginx_image/ models it
# (/docker-entrypoint.d/*.envsh sourced, 20-envsubst-on-templates.sh).
# Build context: tests/nginx_image.
ARG BASE
FROM ${BASE}
COPY --chmod=755 docker-entrypoint.sh /docker-entrypoint.sh
COPY --chmod=755 20-envsubst-on-templates.sh /docker-entrypoint.d/20-envsubst-on-templates.sh
RUN mkdir -p /etc/nginx/templates /etc/nginx/conf.d \
    && ln -sf /dev/stdout /var/log/nginx/access.log \
    && ln -sf /dev/stderr /var/log/nginx/error.log
ENV ENTRYPOINT_D=/docker-entrypoint.d
ENTRYPOINT ["/docker-entrypoint.sh"]
STOPSIGNAL SIGQUIT
CMD ["nginx", "-g", "daemon off;"]
