"""Benchmarks: a seeded data set generator (`bench.dataset`) and the measurements that reuse it.

Speed claims are ratios measured side by side in one run, never timed tests; see bench/README.md.
"""
