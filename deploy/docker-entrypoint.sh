#!/bin/sh
# Entry point of the labelport-server image. The image listens on 0.0.0.0
# (LABELPORT_LISTEN), where the server refuses --auth=none; rather than start
# into that refusal, a bare `docker run` gets one line naming the settings to
# add, and exit status 2. Everything else is handed to labelport-server
# unchanged (exec: the server is PID 1 and receives SIGTERM).
set -eu
server="${LP_SERVER_BINARY:-/usr/local/bin/labelport-server}"  # tests point it elsewhere
for arg in "$@"; do
  case "$arg" in
    # The caller chose (or asked for help): the server decides.
    --auth | --auth=* | -auth | -auth=* | --allow_insecure_remote* | -allow_insecure_remote* | \
      --listen | --listen=* | -listen | -listen=* | --help | -help | -h | --helpfull)
      exec "$server" "$@" ;;
  esac
done
case "${LABELPORT_AUTH:-none}:${LABELPORT_ALLOW_INSECURE_REMOTE:-false}:${LABELPORT_LISTEN:-}" in
  none:false:0.0.0.0:* | none:false:\[::\]:* | none:false::*)
    echo "labelport-server: the container listens on ${LABELPORT_LISTEN}, which needs authentication:" \
      "add -e LABELPORT_AUTH=token -e LABELPORT_TENANTS_FILE=/etc/labelport/tenants/tenants.json" \
      "with that file mounted (or LABELPORT_AUTH=mtls and LABELPORT_TLS_* files), or for a local" \
      "try publish on 127.0.0.1 and add --allow_insecure_remote (see deploy/README.md)" >&2
    exit 2 ;;
esac
exec "$server" "$@"
