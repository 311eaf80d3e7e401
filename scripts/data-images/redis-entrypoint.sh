#!/bin/sh
# docker-entrypoint.sh of localhost/fargo-redis: what the official redis image's entrypoint does.
# Flags (or a .conf file) alone mean `redis-server ...`; as root, redis-server's working
# directory (/data) is handed to the redis user and the entrypoint runs itself again as that
# user. Like the official image, the server starts with protected mode off (a container is
# reached through its published port); a later `--protected-mode yes` still wins.
set -eu

case "${1:-}" in
-* | *.conf) set -- redis-server "$@" ;;
esac

if [ "${1:-}" = redis-server ]; then
    if [ "$(id -u)" = 0 ]; then
        chown -R redis:redis .
        exec gosu redis "$0" "$@"
    fi
    shift
    case "${1:-}" in
    *.conf)
        conf="$1"
        shift
        set -- redis-server "$conf" --protected-mode no "$@"
        ;;
    *) set -- redis-server --protected-mode no "$@" ;;
    esac
    umask 0077
fi

exec "$@"
