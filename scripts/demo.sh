#!/usr/bin/env bash
# Install everything, bring the lab (the simulated IPv6 internet) up, scan every scenario from
# its dual-stack client and print the results next to the ground truth.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
.venv/bin/v6pilot lab up
.venv/bin/v6pilot lab list
.venv/bin/v6pilot lab scan --profile full
echo
echo "One scenario in detail, scanned by hand from the IPv6-only client:"
ip netns exec v6p-client6 .venv/bin/v6pilot scan www.subres-v4.test --profile full \
    --allow-private --root-hints /run/v6pilot-lab/root.hints --ca-file /run/v6pilot-lab/ca.pem
echo "The lab stays up for more scans; remove it with: .venv/bin/v6pilot lab down"
