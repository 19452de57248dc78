"""Benchmark harness: v6pilot against a pipeline of fast C tools on a lab corpus.

See docs/benchmark.md.
"""
