"""Benchmarks for playparse: `make bench` runs them all and writes bench/results/latest.*."""
