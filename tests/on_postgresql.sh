#!/usr/bin/env bash
# The whole suite again on PostgreSQL (tests/postgres.py: a fresh database per test, or per
# module for a module's server), on a throwaway server of Debian's PostgreSQL (.ci/postgres);
# a test's servers take their database by data directory (tests/postgres.py database_of).
# Left out, each for a reason:
#   test_lab_*.py      their servers run in network namespaces with no route to the host's
#                      loopback, where this PostgreSQL listens (tests/netlab.py);
#   test_netlab.py     the lab itself, no server;
#   test_cluster*.py, test_bus.py, test_counts.py
#                      already on PostgreSQL and Redis of their own in the first pass;
#   test_packaging.py, test_layers.py
#                      build the package and read its source; no database.
set -euo pipefail
cd "$(dirname "$0")/.."
postgres_dir=$(mktemp -d)
trap '.ci/postgres stop "$postgres_dir"' EXIT
postgres=$(.ci/postgres start "$postgres_dir")
BWLIVE_TEST_DATABASE=$postgres python3 -m pytest -q \
  --ignore-glob='tests/test_lab_*.py' --ignore=tests/test_netlab.py \
  --ignore-glob='tests/test_cluster*.py' --ignore=tests/test_bus.py --ignore=tests/test_counts.py \
  --ignore=tests/test_packaging.py --ignore=tests/test_layers.py
