"""The book configuration keeps the settings that make builds strict and repeatable."""

import re
from pathlib import Path

import nbformat
import pytest
import yaml
from nbval.plugin import get_sanitize_patterns

ROOT = Path(__file__).resolve().parents[1]
CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text())


def test_execution_is_cached_and_strict():
    execute = CONFIG["execute"]
    assert execute["execute_notebooks"] == "cache"
    assert execute["raise_on_error"] is True
    assert execute["stderr_output"] == "warn"
    assert CONFIG["only_build_toc_files"] is True


def test_notebook_pairs_and_build_folders_are_excluded():
    patterns = CONFIG["exclude_patterns"]
    assert "chapters/*.ipynb" in patterns and "**/_build" in patterns


def test_repository_launch_buttons_and_download_button_are_configured():
    # The launch links are built from repository.url; tests/test_site_browser.py checks the
    # built links and tests/test_notebook_pairs.py the setup cells against this same URL.
    assert re.fullmatch(r"https://github\.com/[\w.-]+/[\w.-]+", CONFIG["repository"]["url"])
    assert not CONFIG["repository"]["url"].endswith(".git")
    assert CONFIG["launch_buttons"]["binderhub_url"].startswith("https://")
    assert CONFIG["launch_buttons"]["colab_url"].startswith("https://")
    assert CONFIG["html"]["use_repository_button"] and CONFIG["html"]["use_download_button"]


def test_math_admonitions_and_tabs_are_enabled():
    extensions = CONFIG["parse"]["myst_enable_extensions"]
    assert {"dollarmath", "amsmath", "colon_fence"} <= set(extensions)
    extensions = set(CONFIG["sphinx"]["config"]["extensions"])
    assert {"myst_nb", "sphinx_design", "sphinx_togglebutton", "sphinx-mathjax-offline"} <= extensions
    # the site's own extensions live in _ext/, outside the package a learner installs
    local = CONFIG["sphinx"]["local_extensions"]
    assert {"sphinx_tabs", "sphinx_reader_links", "browser_assets", "frame_player", "accessible_names"} <= set(local)
    assert set(local) <= extensions, "the extension list replaces the one local_extensions adds to"
    for name, folder in local.items():
        assert (ROOT / folder / f"{name}.py").is_file(), f"{folder}/{name}.py is missing"
    assert not list((ROOT / "lesson4_support").glob("sphinx_*.py"))
    assert "sphinx_thebe" not in extensions  # its inline script is written twice per page under Sphinx 7
    # Jupyter Book always sets comments_config; without sphinx_comments a -W build stops on it
    assert "sphinx_comments" in extensions


def test_the_readme_names_the_two_commands_and_ci_runs_the_test_one():
    readme = (ROOT / "README.md").read_text()
    assert "make book" in readme and "make test" in readme
    ci = (ROOT / ".ci" / "run").read_text()
    assert "make test" in ci


def sanitized(text):
    for regex, replace in get_sanitize_patterns((ROOT / "tests" / "sanitize.cfg").read_text()):
        text = re.sub(regex, replace, text)
    return text


def test_nbval_reads_every_sanitize_rule():
    text = (ROOT / "tests" / "sanitize.cfg").read_text()
    sections = re.findall(r"^\[[^\]]+\]$", text, flags=re.MULTILINE)
    assert len(get_sanitize_patterns(text)) == len(sections), "a section's regex: or replace: line is not read"


def test_sanitizing_masks_rounding_gaps_but_not_the_lessons_small_results():
    assert sanitized("dense layer, max abs difference: 6.0e-08") == "dense layer, max abs difference: TINY"
    assert sanitized("dense layer, max abs difference: 0.0e+00") == "dense layer, max abs difference: TINY"
    assert sanitized("stride 2, padding 1: shape (14, 14), largest difference 3.4e-07") == (
        "stride 2, padding 1: shape (14, 14), largest difference TINY")
    assert sanitized("largest difference between the two models' weights after 20 steps: 3.0e-08") == (
        "largest difference between the two models' weights after 20 steps: TINY")
    assert sanitized("tanh     largest gap to the numerical slope: 3.3e-11") == (
        "tanh     largest gap to the numerical slope: TINY")
    assert sanitized("best linear fit, no activation: RMS error 2.1e-15") == (
        "best linear fit, no activation: RMS error TINY")
    for result in ("best case through 10 sigmoid layers: 9.5e-07",
                   "float32 machine epsilon: 1.2e-07",
                   "plain RNN, before training first row / last row: 9.6e-09",
                   "LSTM, before training      first row / last row: 5.0e-06",
                   "weights 0.1 / sqrt(d): spread after layers 1, 5, 10: 0.099 9.7e-06 9.3e-11; mean slope 1.00",
                   # the package and the page compute the same gradients: identical, never masked
                   "backprop.two_layer_gradients vs by hand, max abs difference: 0.0e+00",
                   "backprop.two_layer_gradients vs by hand, max abs difference: 3.0e-05"):
        assert sanitized(result) == result
    assert sanitized("torch         2.14.1+cu128") == sanitized("torch         2.14.1")
    # a right-aligned time column is as wide as the slowest run needs
    assert sanitized("plain RNN, 64 units       6,666         93.16%      8.8 s") == \
        sanitized("plain RNN, 64 units       6,666         93.16%     12.4 s")


def test_sanitizing_masks_every_device_name():
    for line, masked in (("TensorFlow device: /CPU:0", "TensorFlow device: DEVICE"),
                         ("Keras 3.15.1 on /GPU:1", "Keras 3.15.1 on DEVICE"),
                         ("PyTorch device:    cpu (2 cores)", "PyTorch device:    DEVICE"),
                         ("PyTorch device:    cuda (NVIDIA H100 80GB HBM3)", "PyTorch device:    DEVICE")):
        assert sanitized(line) == masked


def test_sanitize_sections_are_named_for_what_they_mask():
    """nbval applies every section to every chapter: a name that looks like a chapter's would mislead."""
    sections = re.findall(r"^\[([^\]]+)\]$", (ROOT / "tests" / "sanitize.cfg").read_text(), flags=re.MULTILINE)
    topics = [md.stem.split("_", 1)[1].replace("_", "-") for md in (ROOT / "chapters").glob("*.md")]
    named_after_chapters = [name for name in sections
                            if re.match(r"\d\d[_-]", name) or any(topic in name for topic in topics)]
    assert not named_after_chapters, f"sections named after a chapter: {named_after_chapters}"


def rounding_gap_pattern() -> re.Pattern:
    text = (ROOT / "tests" / "sanitize.cfg").read_text()
    section = re.search(r"^\[rounding-gaps\]\n(?:#.*\n)*regex: (.*)$", text, flags=re.MULTILINE)
    assert section, "tests/sanitize.cfg has no [rounding-gaps] section"
    return re.compile(section[1])


@pytest.mark.parametrize("notebook", sorted((ROOT / "chapters").glob("*.ipynb")), ids=lambda p: p.stem)
def test_every_masked_rounding_gap_is_asserted_by_the_hidden_cell_after_it(notebook):
    """A gap nbval does not compare is checked instead by a hidden assert right after its cell
    (after the TensorFlow twin, for a cell shown in framework tabs)."""
    cells = nbformat.read(notebook, as_version=4).cells
    gap = rounding_gap_pattern()
    unchecked = []
    for index, cell in enumerate(cells):
        printed = "".join(output.get("text", "") for output in cell.get("outputs", []))
        if cell.cell_type != "code" or not gap.search(printed):
            continue
        after = index + 1
        while after < len(cells) and {"pytorch", "tensorflow"} & set(cells[after].metadata.get("tags", [])):
            after += 1
        check = cells[after] if after < len(cells) else None
        if not (check and check.cell_type == "code" and "remove-cell" in check.metadata.get("tags", [])
                and "assert" in check.source):
            unchecked.append(gap.search(printed)[0])
    assert not unchecked, f"{notebook.name}: rounding gaps masked but asserted by no hidden cell: {unchecked}"
