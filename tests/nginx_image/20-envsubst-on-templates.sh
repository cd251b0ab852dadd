#!/bin/sh
# A stand-in for the nginx image's 20-envsubst-on-templates.sh: every
# TEMPLATE_DIR/**/*SUFFIX becomes OUTPUT_DIR/** through GNU envsubst,
# restricted to the names defined in the environment (so nginx's own $host
# stays). Like the image's script it has no ${VAR:-default}.
set -e

template_dir=${NGINX_ENVSUBST_TEMPLATE_DIR:-/etc/nginx/templates}
suffix=${NGINX_ENVSUBST_TEMPLATE_SUFFIX:-.template}
output_dir=${NGINX_ENVSUBST_OUTPUT_DIR:-/etc/nginx/conf.d}

# shellcheck disable=SC2016,SC2046  # literal ${NAME} list, one word per name
defined=$(printf '${%s} ' $(awk 'END { for (name in ENVIRON) print name }' </dev/null))

[ -d "$template_dir" ] || exit 0
find "$template_dir" -follow -type f -name "*$suffix" -print | while read -r template; do
    relative=${template#"$template_dir/"}
    output=$output_dir/${relative%"$suffix"}
    mkdir -p "$(dirname "$output")"
    echo "$0: Running envsubst on $template to $output"
    envsubst "$defined" < "$template" > "$output"
done
