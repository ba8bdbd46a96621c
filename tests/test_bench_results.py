"""`make bench` merges each benchmark's rows into one results table, keeping them in order."""

from __future__ import annotations

import json
from pathlib import Path

from bench.harness import Row, write_results


def names(path: Path) -> list[str]:
    return [row["name"] for row in json.loads(path.read_text(encoding="utf-8"))]


def test_rows_replace_by_name_and_new_ones_join_their_benchmark(tmp_path: Path) -> None:
    write_results([Row("a1", 1, "s", None, "lower"), Row("a2", 2, "s", None, "lower")], tmp_path)
    write_results([Row("b1", 3, "s", 5, "lower")], tmp_path)
    path = write_results(
        [
            Row("a1", 10, "s", None, "lower"),
            Row("a1_new", 11, "s", None, "lower"),
            Row("a2", 12, "s", None, "lower"),
            Row("a3", 13, "s", None, "lower"),
        ],
        tmp_path,
    )
    assert names(path) == ["a1", "a1_new", "a2", "a3", "b1"]
    rows = {row["name"]: row for row in json.loads(path.read_text(encoding="utf-8"))}
    assert rows["a1"]["value"] == 10 and rows["b1"]["met"] is True
    table = (tmp_path / "latest.md").read_text(encoding="utf-8")
    assert table.index("| a1_new |") < table.index("| b1 |")
