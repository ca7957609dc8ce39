# Shared by scripts/demo and scripts/test: a virtual environment with GeoSIGAP installed.
# Sourced, not run. Honours $PYTHON (default python3) and $VENV (default .venv).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PYTHON="${PYTHON:-python3}"
VENV="${VENV:-$ROOT/.venv}"

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else return 1; fi; }

apt_install() {  # apt_install PKG… : install the Debian packages that are missing
  command -v apt-get >/dev/null || return 1
  local missing=()
  for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "==> apt-get install ${missing[*]}"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
}

ensure_venv() {  # $1: pip extras, e.g. "[test]"
  if [ ! -x "$VENV/bin/python" ]; then
    echo "==> creating $VENV"
    if ! "$PYTHON" -m venv "$VENV" 2>/dev/null; then
      apt_install python3-venv || { echo "python3 -m venv failed: install python3-venv"; exit 1; }
      rm -rf "$VENV"; "$PYTHON" -m venv "$VENV"
    fi
  fi
  local stamp="$VENV/.geo_sigap-installed$1"
  if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
    echo "==> installing GeoSIGAP$1 into $VENV"
    "$VENV/bin/python" -m pip install -q --upgrade pip
    "$VENV/bin/python" -m pip install -q -e ".$1"
    touch "$stamp"
  fi
  # GeoSIGAP's own bytecode, written now (only what changed): an editable install leaves
  # none, and where PYTHONDONTWRITEBYTECODE is set every start would compile its ~190
  # modules again (~0.4 s of a service start)
  "$VENV/bin/python" -m compileall -q -j 0 geo_sigap >/dev/null 2>&1 || true
  export PATH="$VENV/bin:$PATH"
}
