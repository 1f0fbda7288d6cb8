"""Every chapter is a Jupytext pair whose two halves hold the same cells."""

import ast
import json
import re
import tomllib
from pathlib import Path

import jupytext
import pytest
import yaml

from site_server import toc_pages
from throwaway_book import FRONT_MATTER

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = sorted((ROOT / "chapters").glob("*.md"))
IDS = [p.stem for p in CHAPTERS]


#: Cell metadata that Jupyter writes into an .ipynb by itself (view state, timing); the
#: author never writes it in the .md, and the site does not use it.
NOTEBOOK_ONLY_METADATA = {"collapsed", "scrolled", "execution", "ExecuteTime", "trusted", "editable", "deletable",
                          "jupyter"}


def site_metadata(metadata) -> str:
    """A cell's metadata as the site reads it (tags, captions, alt text, labels), in a comparable form."""
    kept = {key: value for key, value in metadata.items() if key not in NOTEBOOK_ONLY_METADATA}
    if "tags" in kept:
        kept["tags"] = sorted(kept["tags"])
    return json.dumps(kept, sort_keys=True)


def cells(notebook):
    return [(c.cell_type, c.source.strip(), site_metadata(c.metadata)) for c in notebook.cells]


def first_code_cell(md):
    return next(c for c in jupytext.read(md).cells if c.cell_type == "code")


def test_there_are_chapters():
    assert CHAPTERS, "no chapters/*.md found"


@pytest.mark.parametrize("md", CHAPTERS, ids=IDS)
def test_pair_exists_and_inputs_match(md):
    ipynb = md.with_suffix(".ipynb")
    assert ipynb.is_file(), f"{md.name} has no .ipynb pair: run `make notebooks`"
    text, paired = jupytext.read(md), jupytext.read(ipynb)
    assert cells(paired) == cells(text), (
        f"{ipynb.name} no longer matches {md.name}: run `make notebooks` to refresh the pair")


@pytest.mark.parametrize("md", CHAPTERS, ids=IDS)
def test_front_matter_declares_the_pairing_without_a_version(md):
    header = md.read_text().split("---", 2)[1]
    meta = yaml.safe_load(header)
    assert meta["jupytext"]["formats"] == "ipynb,md:myst"
    assert "jupytext_version" not in header
    assert meta["kernelspec"]["name"] == "python3"


@pytest.mark.parametrize("md", CHAPTERS, ids=IDS)
def test_reference_outputs_are_text_only(md):
    notebook = json.loads(md.with_suffix(".ipynb").read_text())
    for cell in notebook["cells"]:
        for output in cell.get("outputs", []):
            assert not any(k.startswith("image/") for k in output.get("data", {})), (
                f"{md.with_suffix('.ipynb').name} embeds an image: refresh it with `make notebooks`")
        assert "execution" not in cell.get("metadata", {}), "timing metadata is stored"


@pytest.mark.parametrize("md", CHAPTERS, ids=IDS)
def test_every_chapter_starts_with_the_hidden_setup_cell(md):
    title, first = jupytext.read(md).cells[:2]
    reference = first_code_cell(ROOT / "chapters" / "04_activations.md")
    assert title.cell_type == "markdown" and title.source.startswith("# "), f"{md.name} does not open with its title"
    assert first.cell_type == "code", f"{md.name}: the setup cell must follow the title directly"
    assert "remove-cell" in first.metadata.get("tags", [])
    assert first.source == reference.source, f"{md.name}: the setup cell differs from the other chapters'"


def test_setup_cell_installs_this_release_from_the_configured_repository():
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    setup = first_code_cell(ROOT / "chapters" / "04_activations.md").source
    assert re.search(r"%pip install -q --no-deps git\+(\S+)$", setup, re.M).group(1) == (
        f"{config['repository']['url']}@v{version}")


def test_every_chapter_is_in_the_table_of_contents_and_every_entry_exists():
    listed = toc_pages(ROOT / "_toc.yml")
    for entry in listed:
        assert (ROOT / f"{entry}.md").is_file(), f"_toc.yml lists {entry}, which does not exist"
    for md in CHAPTERS:
        assert f"chapters/{md.stem}" in listed, f"{md.name} is not in _toc.yml"


PAIRED_CHAPTER = FRONT_MATTER + """# A figure

```{code-cell} ipython3
---
mystnb:
  image:
    alt: A straight line rising from left to right.
  figure:
    caption: The line y = x.
    name: fig-line
tags: [hide-input]
---
import matplotlib.pyplot as plt
plt.plot([0, 1], [0, 1]);
```
"""


@pytest.mark.parametrize("old, new", [
    ("alt: A straight line rising from left to right.", "alt: A straight line falling from left to right."),
    ("caption: The line y = x.", "caption: The line y = -x."),
    ("name: fig-line", "name: fig-other-line"),
    ("tags: [hide-input]", "tags: [remove-input]"),
])
def test_a_changed_caption_alt_text_or_label_counts_as_drift(tmp_path, old, new):
    md = tmp_path / "figure.md"
    md.write_text(PAIRED_CHAPTER)
    jupytext.write(jupytext.read(md), md.with_suffix(".ipynb"), fmt="ipynb")
    assert cells(jupytext.read(md.with_suffix(".ipynb"))) == cells(jupytext.read(md))
    md.write_text(PAIRED_CHAPTER.replace(old, new))
    assert cells(jupytext.read(md.with_suffix(".ipynb"))) != cells(jupytext.read(md)), f"{old!r} -> {new!r} went unseen"


def test_metadata_that_only_jupyter_writes_is_not_drift(tmp_path):
    md = tmp_path / "figure.md"
    md.write_text(PAIRED_CHAPTER)
    notebook = jupytext.read(md)
    notebook.cells[1].metadata.update(scrolled=True, collapsed=False, ExecuteTime={"end_time": "now"})
    assert cells(notebook) == cells(jupytext.read(md))


CODE_WIDTH = 88  # characters: what the site's code cell shows at 1280 px without scrolling


@pytest.mark.parametrize("md", CHAPTERS, ids=IDS)
def test_code_lines_fit_the_code_cell(md):
    long = [f"{len(line)} characters: {line.strip()[:60]}..."
            for cell in jupytext.read(md).cells if cell.cell_type == "code"
            for line in cell.source.splitlines() if len(line) > CODE_WIDTH]
    assert not long, f"{md.name} has code lines wider than {CODE_WIDTH} characters:\n  " + "\n  ".join(long)


INCLUDE = re.compile(r"^```\{literalinclude\} (?P<path>\S+)\n(?P<options>(?::[\w-]+:.*\n)+)", re.MULTILINE)


@pytest.mark.parametrize("md", CHAPTERS, ids=IDS)
def test_included_code_fits_the_code_cell(md):
    """Code a page shows from the support package (``literalinclude``) keeps the same width."""
    for match in INCLUDE.finditer(md.read_text()):
        source = (md.parent / match["path"]).resolve().read_text()
        name = re.search(r":pyobject: (\w+)", match["options"])
        lines = source.splitlines()
        if name:
            node = next(n for n in ast.parse(source).body if getattr(n, "name", None) == name[1])
            lines = lines[node.lineno - 1:node.end_lineno]
        long = [line.strip()[:60] for line in lines if len(line) > CODE_WIDTH]
        assert not long, f"{md.name} includes lines of {match['path']} wider than {CODE_WIDTH}: {long}"
