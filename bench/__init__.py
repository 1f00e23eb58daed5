"""Benchmarks for ``scripts/bench``: one module per suite, each with ``run(quick)``."""
