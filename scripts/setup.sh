#!/usr/bin/env bash
# What `npm start` and `npm test` need besides Node, checked at the start of each (so it must stay
# fast and silent when everything is there). On Debian as root it installs what is missing with
# apt-get; anywhere else it names what to install in one line and fails.
#   usage: scripts/setup.sh start   Java, Maven and the wire server's jars (skipped when MONGODB_URI is set)
#          scripts/setup.sh test    the same, plus redis-server (unless REDIS_URL) and chromium (or CHROMIUM_PATH)
set -euo pipefail
# Builtins only until the checks are done: with a bare PATH the message below must still come out.
case $0 in */*) cd "${0%/*}/.." ;; *) cd .. ;; esac

purpose=${1:-}
if [[ $purpose != start && $purpose != test ]]; then
  echo "usage: scripts/setup.sh start|test" >&2
  exit 2
fi

missing=()   # what is missing, with the way around it, for the one-line message
packages=()  # the Debian packages that provide it
need() {     # need <command> <debian package> <alternative>
  if ! command -v "$1" >/dev/null 2>&1; then
    missing+=("$1 ($3)")
    packages+=("$2")
  fi
}

if [[ -z ${MONGODB_URI:-} ]]; then
  # The embedded/test MongoDB is mongo-java-server, run as a single-file Java program (needs a JDK 17+).
  need java default-jdk-headless "a JDK 17+, or set MONGODB_URI"
  need mvn maven "Maven, or set MONGODB_URI"
fi
if [[ $purpose == test ]]; then
  [[ -n ${REDIS_URL:-} ]] || need redis-server redis-server "Redis, or set REDIS_URL"
  # The Redis Cluster tests start their own cluster, whatever REDIS_URL says.
  need redis-cli redis-tools "redis-cli 7+, for the Redis Cluster tests"
  # The browser test drives Debian's chromium, never a downloaded browser.
  chromium=${CHROMIUM_PATH:-/usr/bin/chromium}
  if [[ ! -x $chromium ]]; then
    if [[ -n ${CHROMIUM_PATH:-} ]]; then
      echo "slotcast setup: CHROMIUM_PATH=$CHROMIUM_PATH is not an executable file" >&2
      exit 1
    fi
    missing+=("chromium (at /usr/bin/chromium, or set CHROMIUM_PATH)")
    packages+=(chromium)
  fi
fi

if ((${#packages[@]})); then
  listed=$(printf '%s, ' "${missing[@]}")
  listed=${listed%, }
  if ((EUID == 0)) && command -v apt-get >/dev/null 2>&1; then
    log=${TMPDIR:-/tmp}/slotcast-setup-apt.log
    echo "slotcast setup: installing ${packages[*]} with apt-get (once; log in $log)"
    export DEBIAN_FRONTEND=noninteractive
    if ! { apt-get update -q && apt-get install -y -q --no-install-recommends "${packages[@]}"; } >"$log" 2>&1; then
      tail -n 20 "$log" >&2
      echo "slotcast setup: apt-get could not install ${packages[*]} (log above and in $log)" >&2
      exit 1
    fi
  elif command -v apt-get >/dev/null 2>&1; then
    echo "slotcast setup: missing ${listed}; install them: sudo apt-get install -y ${packages[*]}" >&2
    exit 1
  else
    echo "slotcast setup: missing ${listed}; install them with your package manager (Debian names: ${packages[*]})" >&2
    exit 1
  fi
fi

# mongo-java-server's jars, from Maven Central into tests/wire-server/target/lib (Maven caches them in ~/.m2).
if [[ -z ${MONGODB_URI:-} ]] && ! compgen -G 'tests/wire-server/target/lib/mongo-java-server-memory-backend-*.jar' >/dev/null; then
  if ! output=$(cd tests/wire-server && mvn -q -B dependency:copy-dependencies -DoutputDirectory=target/lib 2>&1); then
    echo "$output" | tail -n 20 >&2
    echo "slotcast setup: Maven could not fetch mongo-java-server into tests/wire-server/target/lib (output above; needs Maven Central, or set MONGODB_URI)" >&2
    exit 1
  fi
fi
