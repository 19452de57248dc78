#!/usr/bin/env bash
# Install everything, then run the linters, the type checker and the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
.venv/bin/ruff check v6pilot tests
.venv/bin/ruff format --check v6pilot tests
.venv/bin/mypy
.venv/bin/pytest -q "$@"
