"""Performance benchmarks for the points ledger and the leaderboards (``make bench``).

They never run in ``make test`` (see ``tests/conftest.py``). ``test_ledger_benchmarks``
is the only pytest module: it drives ``python -m tests.benchmarks <step>`` subprocesses,
each a Django process pointed at a dedicated benchmark database (never the pytest
test database), then writes ``docs/benchmarks.md`` and asserts the targets. Running the
steps as separate processes keeps each vendor's settings, connections and caches apart,
and lets the award benchmark use real concurrent processes instead of threads.
"""
