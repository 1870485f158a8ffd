#!/usr/bin/env bash
# Runs the PyTorch peer (pytorch_peer.py) the way shared/docs/benchmarks.md measured it:
# Debian's python3-torch with libopenblas0-pthread, OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset for
# this command only (so OpenBLAS picks its best kernel, SkylakeX/AVX-512 on this machine, instead of a
# forced Haswell one), and the BLAS thread count equal to --threads.
#
#   Autograd.Benchmarks/peers/run-pytorch.sh [--install] [pytorch_peer.py options]
#
# Installs nothing unless --install is given (then: apt-get update and apt-get install python3-torch libopenblas0-pthread,
# through sudo when not root). Every other argument goes to pytorch_peer.py unchanged; see --help.
# PYTHON=/path/to/python overrides the interpreter (default: python3, or /usr/bin/python3 when only it has torch).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
python="${PYTHON:-python3}"
packages=(python3-torch libopenblas0-pthread)

if [[ "${1:-}" == "--install" ]]; then
    shift
    sudo=()
    [[ "$(id -u)" == 0 ]] || sudo=(sudo)
    # A fresh machine or container has no (or stale) package lists: install alone would not find them.
    "${sudo[@]}" apt-get update
    "${sudo[@]}" apt-get install -y "${packages[@]}"
fi

# Debian's python3-torch lives in the system interpreter; a python3 earlier on PATH (pyenv, venv) may lack it.
if [[ -z "${PYTHON:-}" ]] && ! python3 -c 'import torch' 2>/dev/null &&
   [[ -x /usr/bin/python3 ]] && /usr/bin/python3 -c 'import torch' 2>/dev/null; then
    python=/usr/bin/python3
fi
if ! "$python" -c 'import torch' 2>/dev/null; then
    echo "run-pytorch.sh: '$python -c \"import torch\"' fails. Install PyTorch and the threaded OpenBLAS:" >&2
    echo "    apt-get install ${packages[*]}" >&2
    echo "(or run this script with --install)" >&2
    exit 1
fi
if command -v dpkg-query >/dev/null 2>&1 &&
   ! dpkg-query -W -f='${Status}' libopenblas0-pthread 2>/dev/null | grep -q 'install ok installed'; then
    echo "run-pytorch.sh: warning: libopenblas0-pthread is not installed; torch may use a slower BLAS" >&2
    echo "    apt-get install libopenblas0-pthread" >&2
fi

# The thread count the peer will use (default 1), so the BLAS pool is sized to match.
threads=1
args=("$@")
for ((i = 0; i < ${#args[@]}; i++)); do
    case "${args[i]}" in
        --threads) threads="${args[i + 1]:-1}" ;;
        --threads=*) threads="${args[i]#--threads=}" ;;
    esac
done

exec env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE \
    OMP_NUM_THREADS="$threads" OPENBLAS_NUM_THREADS="$threads" \
    "$python" "$here/pytorch_peer.py" "$@"
