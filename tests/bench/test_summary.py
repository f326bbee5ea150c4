"""The last line of `make bench` carries every field the issues ask for.

In the normal suite, not marked `bench`: it formats figures and reads the docs,
it starts no server.
"""

import re
from pathlib import Path

import pytest

from bench import fanout

ROOT = Path(__file__).resolve().parents[2]

# Issue 5's fields, then issue 11's.
ASKED = [
    "sockets",
    "rate",
    "p50_ms",
    "p99_ms",
    "floor_p99_ms",
    "ratio",
    "burst_p99_ms",
    "lost",
    "http_p95_ms",
    "cpu_ms_per_click",
    "floor_cpu_ms_per_click",
    "cpu_ratio",
    "page_cpu_ms",
    "card_bytes",
    "step_bytes",
]


def figures():
    return {name: 1 for name, _ in fanout.SUMMARY_FIELDS} | {"rate": 50.0, "p99_ms": 41.26}


def test_summary_line_carries_every_asked_field():
    line = fanout.summary_line(figures())

    fields = dict(pair.split("=") for pair in line.removeprefix("fanout ").split(" "))
    assert line.startswith("fanout ")
    assert set(ASKED) <= set(fields)
    assert fields["rate"] == "50"
    assert fields["p99_ms"] == "41.3"


def test_summary_line_refuses_a_missing_field():
    incomplete = figures()
    del incomplete["card_bytes"]

    with pytest.raises(KeyError, match="card_bytes"):
        fanout.summary_line(incomplete)


def test_summary_line_is_one_line_of_name_value_pairs():
    line = fanout.summary_line(figures() | {"floor_p99_ms": float("nan")})

    assert "\n" not in line
    assert re.fullmatch(r"fanout( [a-z0-9_]+=[^ =]+)+", line)


@pytest.mark.parametrize("document", ["docs/performance.md", "README.md"])
def test_documents_name_every_field_of_the_summary(document):
    text = (ROOT / document).read_text()

    missing = [name for name, _ in fanout.SUMMARY_FIELDS if f"{name}=" not in text]
    assert not missing, f"{document} does not explain {missing}"
