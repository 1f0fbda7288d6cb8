"""The reader notebooks (notebooks/*.ipynb) are plain Jupyter, complete and up to date.

Colab and plain Jupyter render Markdown cells as CommonMark: any MyST role or directive
left in a reader notebook shows as raw text there.  These checks render every Markdown
cell with a CommonMark renderer and look for MyST leftovers, check the images, answers and
setup cell, and regenerate the notebooks from the chapters and the built site to prove the
committed ones are current.
"""

import base64
import importlib.util
import io
import re
import sys
import tomllib
from pathlib import Path

import nbformat
import pytest
import yaml
from markdown_it import MarkdownIt
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
SPEC = importlib.util.spec_from_file_location("make_reader_notebooks", ROOT / "scripts" / "make_reader_notebooks.py")
readers = importlib.util.module_from_spec(SPEC)
sys.modules[SPEC.name] = readers          # dataclasses look their module up by name
SPEC.loader.exec_module(readers)

CHAPTERS = readers.chapters()
IDS = [md.stem for md in CHAPTERS]
COMMONMARK = MarkdownIt("commonmark").enable("table")

#: What MyST syntax looks like once a CommonMark renderer has been over it.
LEFTOVER_PATTERNS = {
    "a MyST role": re.compile(r"\{[a-z][\w:-]*\}<code>"),
    "a fenced directive": re.compile(r'<code class="language-\{'),
    "a colon-fenced directive": re.compile(r":::\{"),
    "a glue reference": re.compile(r"\{glue"),
    "a cross-reference role": re.compile(r"\{(numref|ref|doc|eq|numref|cite|term|download)\}"),
    "a target label": re.compile(r"<p>\([\w.-]+\)=</p>"),
    "directive options": re.compile(r"<p>:(class|name|alt|tags|caption):"),
}


def myst_leftovers(markdown: str) -> list[str]:
    """The kinds of MyST syntax still present in ``markdown`` rendered as CommonMark."""
    html = COMMONMARK.render(markdown)
    return [kind for kind, pattern in LEFTOVER_PATTERNS.items() if pattern.search(html)]


def reader(md: Path) -> Path:
    return ROOT / "notebooks" / md.with_suffix(".ipynb").name


def markdown_cells(md: Path):
    return [c for c in nbformat.read(reader(md), as_version=4).cells if c.cell_type == "markdown"]


@pytest.mark.parametrize("text, kind", [
    ("The loss is {glue:text}`loss:.2f` here.", "a MyST role"),
    ("```{admonition} Title\n:class: tip\nBody\n```", "a fenced directive"),
    ("```{toggle}\nHidden\n```", "a fenced directive"),
    (":::{note}\nBody\n:::", "a colon-fenced directive"),
    ("See {numref}`fig-x`.", "a MyST role"),
    ("(my-label)=\n\n## Heading", "a target label"),
])
def test_the_leftover_check_catches_myst(text, kind):
    assert kind in myst_leftovers(text)


def test_the_leftover_check_passes_plain_markdown():
    plain = ("> **Tip**\n>\n> Body with $x^2$ and `code`.\n\n<details>\n<summary>Show the answer</summary>\n\n"
             "Yes.\n\n</details>\n\n```python\nprint({'a': 1})\n```")
    assert myst_leftovers(plain) == []


def test_every_page_has_a_reader_notebook_and_nothing_else_is_there():
    expected = {reader(md).name for md in CHAPTERS}
    present = {p.name for p in (ROOT / "notebooks").glob("*.ipynb")}
    assert present == expected


@pytest.mark.parametrize("md", CHAPTERS, ids=IDS)
def test_no_myst_is_left_in_the_markdown(md):
    for number, cell in enumerate(markdown_cells(md)):
        found = myst_leftovers(cell.source)
        assert not found, f"{reader(md).name}, Markdown cell {number}: {', '.join(found)} left in\n{cell.source[:400]}"


@pytest.mark.parametrize("md", CHAPTERS, ids=IDS)
def test_every_hidden_answer_is_a_collapsed_details_block(md):
    toggles = len(re.findall(r"^`{3,}\{toggle\}", md.read_text(), flags=re.MULTILINE))
    text = "\n".join(c.source for c in markdown_cells(md))
    assert text.count("<details>") == text.count("</details>") == toggles
    assert "<details open" not in text


@pytest.mark.parametrize("md", CHAPTERS, ids=IDS)
def test_every_embedded_image_is_attached_and_decodes(md):
    for cell in markdown_cells(md):
        names = re.findall(r"\]\(attachment:([^)]+)\)", cell.source)
        attachments = cell.get("attachments", {})
        assert sorted(names) == sorted(attachments), f"{reader(md).name}: attachments and references differ"
        for name in names:
            (mime, data), = attachments[name].items()
            assert mime.startswith("image/")
            with Image.open(io.BytesIO(base64.b64decode(data))) as image:
                image.verify()
        for alt in re.findall(r"!\[([^\]]*)\]\(attachment:", cell.source):
            assert len(alt) > 20, f"{reader(md).name}: an image has no real alt text"


@pytest.mark.parametrize("md", CHAPTERS, ids=IDS)
def test_setup_cell_is_visible_and_installs_this_release(md):
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    code = [c for c in nbformat.read(reader(md), as_version=4).cells if c.cell_type == "code"]
    setup = code[0]
    assert "remove-cell" not in setup.metadata.get("tags", [])
    assert f"%pip install -q --no-deps git+{config['repository']['url']}@v{version}\n" in setup.source
    assert len(setup.source.splitlines()) <= 6


@pytest.mark.parametrize("md", CHAPTERS, ids=IDS)
def test_framework_cells_sit_under_their_own_headings(md):
    cells = nbformat.read(reader(md), as_version=4).cells
    for before, cell in zip(cells, cells[1:], strict=False):
        tags = cell.metadata.get("tags", [])
        for tag, heading in readers.FRAMEWORK_HEADINGS.items():
            if tag in tags:
                assert before.cell_type == "markdown" and before.source == f"#### {heading}"


@pytest.mark.parametrize("md", CHAPTERS, ids=IDS)
def test_links_to_other_pages_open_their_reader_notebooks(md):
    for cell in markdown_cells(md):
        for target in re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", cell.source):
            if target.startswith(("http", "attachment:")):
                continue
            assert target.endswith(".ipynb") and (ROOT / "notebooks" / target).is_file(), target


MACHINE_VALUE = re.compile(r"[\w.,%+-]+" + readers.MACHINE_MARK)


def masked(text: str) -> str:
    """Values that depend on the machine that built the site, masked for comparison."""
    return MACHINE_VALUE.sub("MEASURED" + readers.MACHINE_MARK, text)


def test_the_reader_notebooks_are_up_to_date(built_site):
    executed = built_site.parent / "jupyter_execute"
    regenerated = readers.build_all(executed)
    for name, text in regenerated.items():
        committed = (ROOT / "notebooks" / name).read_text()
        assert masked(committed) == masked(text), (
            f"notebooks/{name} is stale: run `make reader-notebooks` after `make book`")


def test_machine_values_are_marked_and_explained():
    marked = [md for md in CHAPTERS if readers.MACHINE_MARK in reader(md).read_text()]
    assert marked, "no reader notebook marks a timing as measured on the build machine"
    for md in marked:
        first = markdown_cells(md)[1].source
        assert readers.MACHINE_MARK in first and "machine that built the site" in first


@pytest.mark.parametrize("md", CHAPTERS, ids=IDS)
def test_built_page_launches_and_downloads_its_reader_notebook(built_site, md):
    page = md.relative_to(ROOT).with_suffix("")
    html = (built_site / page.with_suffix(".html")).read_text()
    repository, _ = readers.project_settings()
    owner_and_name = repository.removeprefix("https://github.com/")
    colab = re.findall(r'href="(https://colab\.research\.google\.com/[^"]+)"', html)
    assert colab == [f"https://colab.research.google.com/github/{owner_and_name}/blob/main/notebooks/{md.stem}.ipynb"]
    binder = re.findall(r'href="(https://mybinder\.org/[^"]+)"', html)
    assert len(binder) == 1 and binder[0].endswith(f"urlpath=tree/notebooks/{md.stem}.ipynb")
    download = built_site / "_sources" / page.with_suffix(".ipynb")
    assert download.read_bytes() == reader(md).read_bytes(), "the download button serves another notebook"
