#!/usr/bin/env bash
# Install everything, bring the lab (the simulated IPv6 internet) up and show it.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
.venv/bin/v6pilot lab up
.venv/bin/v6pilot lab list
