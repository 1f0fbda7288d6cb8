"""The README's setup facts (disk, build and test times) are the measured ones.

``scripts/measure_facts.py`` records its measurements in ``tests/readme_facts.json`` and
writes the README's sentence between the facts markers from them; these tests render the
sentence again from the JSON and compare, and re-measure the environment's disk when they
run inside this clone's ``.venv``.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FACTS_JSON = ROOT / "tests" / "readme_facts.json"


def load_script():
    spec = importlib.util.spec_from_file_location("measure_facts", ROOT / "scripts" / "measure_facts.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


measure_facts = load_script()
FACTS = json.loads(FACTS_JSON.read_text(encoding="utf-8"))


def test_the_readme_states_the_recorded_facts():
    stated = measure_facts.readme_sentence((ROOT / "README.md").read_text(encoding="utf-8"))
    expected = measure_facts.facts_sentence(FACTS)
    assert stated == expected, ("the README's facts differ from tests/readme_facts.json; "
                                "run `python3 scripts/measure_facts.py` to rewrite them")


def test_the_record_is_complete():
    assert isinstance(FACTS["environment_gb"], (int, float)) and FACTS["environment_gb"] > 0
    assert {"date", "where", "commit"} <= set(FACTS["environment_measured"])
    times = [FACTS["book_seconds"], FACTS["test_seconds"]]
    assert all(value is None or value > 0 for value in times)
    if any(value is not None for value in times):
        clone = FACTS["fresh_clone"]
        assert {"date", "commit", "nproc", "load_average_before"} <= set(clone)
        assert clone["nproc"] >= 1 and len(clone["load_average_before"]) == 3


def test_unmeasured_times_say_so():
    sentence = measure_facts.facts_sentence({**FACTS, "book_seconds": None, "test_seconds": None})
    assert "not yet measured" in sentence and f"{FACTS['environment_gb']:.1f} GB" in sentence


def test_measured_times_are_stated_in_minutes_with_the_core_count():
    facts = {**FACTS, "book_seconds": 1261.0, "test_seconds": 430.0,
             "fresh_clone": {"date": "2026-01-01T00:00:00+00:00", "commit": "0" * 40, "nproc": 2,
                             "load_average_before": [0.1, 0.2, 0.3]}}
    sentence = measure_facts.facts_sentence(facts)
    assert sentence.startswith("On a 2-core machine, a fresh clone's `make book` took 21 min")
    assert "`make test` 7 min;" in sentence and "not yet measured" not in sentence


def test_the_comparison_can_fail():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    other = {**FACTS, "environment_gb": FACTS["environment_gb"] + 1}
    assert measure_facts.readme_sentence(readme) != measure_facts.facts_sentence(other)
    rewritten = measure_facts.with_sentence(readme, measure_facts.facts_sentence(other))
    assert measure_facts.readme_sentence(rewritten) == measure_facts.facts_sentence(other)
    assert rewritten.replace(measure_facts.facts_sentence(other), "") == \
        readme.replace(measure_facts.facts_sentence(FACTS), "")
    with pytest.raises(ValueError, match="no facts block"):
        measure_facts.readme_sentence(readme.replace(measure_facts.BEGIN, ""))


def test_environment_size_matches_the_record():
    venv = ROOT / ".venv"
    if not venv.is_dir() or Path(sys.prefix).resolve() != venv.resolve():
        pytest.skip("these tests are not running in this clone's .venv")
    measured = measure_facts.environment_bytes(venv) / 1e9
    recorded = FACTS["environment_gb"]
    assert abs(measured - recorded) <= 0.1 * recorded, (
        f".venv takes {measured:.2f} GB, the README says {recorded} GB; "
        "run `python3 scripts/measure_facts.py` to measure it again")


def test_size_counts_each_hard_linked_file_once(tmp_path):
    (tmp_path / "a").write_bytes(b"x" * 1000)
    (tmp_path / "b").hardlink_to(tmp_path / "a")
    (tmp_path / "c").symlink_to(tmp_path / "a")
    assert measure_facts.environment_bytes(tmp_path) == 1000 + len(str(tmp_path / "a"))
    with pytest.raises(FileNotFoundError, match="make env"):
        measure_facts.environment_bytes(tmp_path / "missing")
