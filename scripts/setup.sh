#!/usr/bin/env bash
# Set up the project-local Python environment (.venv in the repository root).
#
#   scripts/setup.sh            # run it: makes or updates .venv, prints the PATH line
#   source scripts/setup.sh     # same, and puts .venv/bin on PATH in this shell
#
# .venv holds cmake (HDF5 2.x needs cmake >= 3.26; Debian 12 ships 3.25) and
# the pinned Python stack the interop tests use (scripts/requirements.txt).
#
# Idempotent: .venv is created when missing (or broken, or made by another
# Python version); `pip install -r scripts/requirements.txt` runs only when
# requirements.txt changed since the last successful install (its sha256 is
# kept in .venv/.requirements.sha256). CHUNKREF_VENV_RECREATE=1 forces a fresh
# .venv. PYTHON=/path/to/python3 picks the interpreter (default python3.11,
# then python3). On Debian, a missing venv module is installed with apt-get
# (python3-venv) when running as root.

_chunkref_setup() (
    set -euo pipefail

    root=$1
    venv="$root/.venv"
    req="$root/scripts/requirements.txt"
    stamp="$venv/.requirements.sha256"

    log() { printf 'setup: %s\n' "$*" >&2; }

    py=${PYTHON:-}
    if [[ -z $py ]]; then
        for cand in python3.11 python3; do
            if command -v "$cand" >/dev/null 2>&1; then py=$(command -v "$cand"); break; fi
        done
    fi
    if [[ -z $py ]]; then
        log "no python3 found (set PYTHON=/path/to/python3)"
        return 1
    fi
    if ! "$py" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)'; then
        log "$py is older than Python 3.11"
        return 1
    fi
    [[ -f $req ]] || { log "missing $req"; return 1; }

    want_version=$("$py" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
    want_hash="$(sha256sum "$req" | cut -d' ' -f1) python$want_version"

    # An existing venv is kept only if its interpreter runs and is the same
    # minor version as the one we would create it with.
    if [[ -d $venv ]]; then
        have_version=$("$venv/bin/python" -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null || true)
        if [[ ${CHUNKREF_VENV_RECREATE:-0} == 1 ]]; then
            log "CHUNKREF_VENV_RECREATE=1: removing $venv"
            rm -rf "$venv"
        elif [[ $have_version != "$want_version" ]]; then
            log "$venv is broken or made by another Python (${have_version:-none}, want $want_version): recreating"
            rm -rf "$venv"
        fi
    fi

    if [[ ! -d $venv ]]; then
        log "creating $venv with $py"
        if ! "$py" -m venv "$venv" 2>/dev/null; then
            rm -rf "$venv"
            if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null 2>&1; then
                log "'$py -m venv' failed: installing python3-venv with apt-get"
                export DEBIAN_FRONTEND=noninteractive
                apt-get update -qq
                apt-get install -y -qq python3-venv >/dev/null
            else
                log "'$py -m venv' failed: install your distribution's venv package (Debian: python3-venv)"
                return 1
            fi
            "$py" -m venv "$venv" || { log "'$py -m venv' failed"; rm -rf "$venv"; return 1; }
        fi
    fi

    if [[ -f $stamp && $(cat "$stamp") == "$want_hash" ]]; then
        log "$venv is up to date with scripts/requirements.txt"
    else
        log "installing scripts/requirements.txt into $venv"
        rm -f "$stamp"
        "$venv/bin/python" -m pip install --disable-pip-version-check --no-input -q -r "$req" \
            || { log "pip install failed"; return 1; }
        printf '%s\n' "$want_hash" >"$stamp" || return 1
    fi

    "$venv/bin/cmake" --version >/dev/null || { log "$venv/bin/cmake does not run"; return 1; }
    log "$("$venv/bin/cmake" --version | head -n1)"
)

# Works both when executed and when sourced (bash): never `exit` a sourcing shell.
_chunkref_root=$(cd "$(dirname "${BASH_SOURCE[0]:-$0}")/.." && pwd)
# Called as a plain command (not in `if`/`||`), so `set -e` inside it stays in force.
_chunkref_setup "$_chunkref_root"
_chunkref_status=$?
if [[ $_chunkref_status == 0 ]]; then
    _chunkref_path_line="export PATH=\"$_chunkref_root/.venv/bin:\$PATH\""
    echo "$_chunkref_path_line"
    case ":$PATH:" in
        *":$_chunkref_root/.venv/bin:"*) ;;
        *) export PATH="$_chunkref_root/.venv/bin:$PATH" ;;
    esac
    unset _chunkref_root _chunkref_path_line _chunkref_status
    unset -f _chunkref_setup
    # shellcheck disable=SC2317
    return 0 2>/dev/null || exit 0
else
    echo "setup: failed (status $_chunkref_status)" >&2
    unset _chunkref_root
    unset -f _chunkref_setup
    # shellcheck disable=SC2317
    return "$_chunkref_status" 2>/dev/null || exit "$_chunkref_status"
fi
