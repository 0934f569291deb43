# Sourced by scripts/demo and scripts/test: make sure .venv exists with Python >= 3.12 and the
# project installed (re-installed when pyproject.toml changes).
find_python() {
    local candidates=("${GONGZHI_PYTHON:-}" python3.13 python3.12 python3)
    local c
    for c in "${candidates[@]}"; do
        [ -n "$c" ] || continue
        if command -v "$c" >/dev/null 2>&1 && "$c" -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; then
            command -v "$c"; return 0
        fi
    done
    # pyenv-managed interpreters that are installed but not selected
    for c in "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.1[2-9]*/bin/python3 /usr/local/bin/python3.1[2-9] /usr/bin/python3.1[2-9]; do
        if [ -x "$c" ] && "$c" -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; then
            echo "$c"; return 0
        fi
    done
    return 1
}

ensure_venv() {
    local extras="$1"
    if [ ! -x .venv/bin/python ] || ! .venv/bin/python -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; then
        local py
        py=$(find_python) || { echo "Gongzhi needs Python 3.12 or newer (Django 6). Install it, or set GONGZHI_PYTHON." >&2; exit 1; }
        echo "==> creating .venv with $py"
        rm -rf .venv
        "$py" -m venv .venv
        .venv/bin/python -m pip install --quiet --upgrade pip
    fi
    local stamp=".venv/.gongzhi-installed-$extras"
    local want
    want=$(cat pyproject.toml | sha1sum | cut -d' ' -f1)
    if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
        echo "==> installing Gongzhi and its dependencies into .venv"
        .venv/bin/python -m pip install --quiet --disable-pip-version-check -e ".[$extras]"
        echo "$want" > "$stamp"
    fi
}
