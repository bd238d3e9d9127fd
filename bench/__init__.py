"""The sopflow benchmark (`make bench`): bulk data on PostgreSQL, then pages, engine, HTTP, PDF, import.

See docs/performance.md for what each figure means; `python -m bench.run` is the entry point.
"""
