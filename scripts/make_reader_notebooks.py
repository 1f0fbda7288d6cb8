"""Write the reader notebooks: plain-Jupyter versions of the site's pages, for Colab and JupyterLab.

The chapters are MyST Markdown, which only the site builder understands: Colab and plain
Jupyter show its roles and directives as raw text.  This script turns each chapter into
``notebooks/NN_name.ipynb`` with ordinary Jupyter Markdown:

- glued numbers become the values the built site shows (values that depend on the machine
  that built the site, such as timings, are marked with a dagger and explained at the top);
- hidden answers (``toggle``) become collapsed ``<details>`` blocks;
- admonitions become block quotes with a bold title;
- framework tabs become consecutive cells, each under a "PyTorch" or "TensorFlow" heading;
- figures read from files are embedded as cell attachments, with their captions;
- code included from the support package (``literalinclude``) is copied in as a code block;
- links to other pages point at the other reader notebooks;
- the hidden setup cell becomes visible: it imports the support package, and installs it
  at this release's tag where it is missing (Colab).

Glued values are read from the executed notebooks the site build leaves in
``_build/jupyter_execute``, so run ``make book`` first.  Unknown MyST syntax is an error,
never passed through.

    python scripts/make_reader_notebooks.py            # write notebooks/
    python scripts/make_reader_notebooks.py --check    # exit 1 when notebooks/ is stale
"""

from __future__ import annotations

import argparse
import ast
import base64
import hashlib
import json
import mimetypes
import re
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

import jupytext
import nbformat
import yaml

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "notebooks"
EXECUTED = ROOT / "_build" / "jupyter_execute"

#: Glued values that depend on the machine that built the site (timings, its core count,
#: its device).  They are marked so a reader does not expect to see the same numbers.
MACHINE_VALUES = frozenset({
    "bench_optimized_seconds", "cnn_device", "cnn_seconds", "compiled_epoch_s", "compiled_ms",
    "cnn_gpu_summary", "cores", "device_name", "eager_50_min", "eager_epoch_s", "eager_ms",
    "fit_epoch_s", "fit_xla", "gpu_here",
    "load_average", "loader_epoch_seconds", "loading_share", "loop_epoch_s", "lstm_seconds",
    "macs_per_second", "mlp_seconds", "optimized_seconds", "rnn_seconds", "seconds_per_epoch",
    "rnn_wide_seconds", "single_process_speedup", "speedup", "step_operations", "step_ratio", "time_ratio",
    "workers_effect",
})
MACHINE_MARK = "†"
FRAMEWORK_HEADINGS = {"pytorch": "PyTorch", "tensorflow": "TensorFlow"}

FENCE_OPEN = re.compile(r"^(?P<fence>`{3,}|:{3,})\{(?P<name>[\w:-]+)\}[ \t]*(?P<argument>.*)$")
GLUE_ROLE = re.compile(r"\{glue(?::text)?\}`(?P<name>[^`:]+)(?::(?P<spec>[^`]*))?`")
ANY_ROLE = re.compile(r"\{[a-z][\w:-]*\}`")
TARGET = re.compile(r"^\([\w.-]+\)=\s*$", re.MULTILINE)
PAGE_LINK = re.compile(r"\]\((?P<page>(?:\.\./)?(?:chapters/)?\d\d_[\w]+)\.md(?:#(?P<anchor>[\w-]+))?\)")


class ReaderNotebookError(ValueError):
    """A chapter uses MyST syntax this script does not know how to write as plain Markdown."""


def project_settings() -> tuple[str, str]:
    """The repository URL (named once, in ``_config.yml``) and this release's git tag."""
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    return config["repository"]["url"].rstrip("/"), f"v{version}"


def site_url(repository: str) -> str:
    """Where GitHub Pages publishes the site of ``https://github.com/OWNER/NAME``."""
    match = re.fullmatch(r"https://github\.com/([^/]+)/([^/]+?)(?:\.git)?", repository)
    if not match:
        raise ReaderNotebookError(f"repository.url in _config.yml is not a GitHub repository: {repository}")
    return f"https://{match.group(1)}.github.io/{match.group(2)}/"


def setup_source(repository: str, tag: str) -> str:
    """The visible first code cell of every reader notebook (the chapters' hidden one)."""
    return (
        "try:\n"
        "    from lesson4_support import runtime\n"
        "except ModuleNotFoundError:  # on Colab: install the course's support package first\n"
        f"    %pip install -q --no-deps git+{repository}@{tag}\n"
        "    from lesson4_support import runtime\n"
        "runtime.setup(seed=0)"
    )


# --------------------------------------------------------------------------- glued values


def glued_values(executed: Path) -> tuple[dict[str, str], dict[str, str]]:
    """What a chapter glued, from the ``NAME.glue.json`` the build writes beside its executed
    notebook: ``name -> text/plain`` and ``name -> PNG (base64)``."""
    if not executed.is_file():
        raise FileNotFoundError(f"{executed} is missing: build the site with `make book` first")
    record = executed.with_suffix(".glue.json")
    values, images = {}, {}
    if not record.is_file():              # the chapter glued nothing
        return values, images
    for name, output in json.loads(record.read_text()).items():
        values[name] = output["data"].get("text/plain", "")
        if "image/png" in output["data"]:
            images[name] = output["data"]["image/png"]
    return values, images


def format_glued(text: str, spec: str | None) -> str:
    """Format a glued value as MyST-NB's ``{glue:text}`` role does."""
    if not spec:
        return text.strip("'\"") if text[:1] in "'\"" else text
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError) as error:
        raise ReaderNotebookError(f"cannot apply format {spec!r} to the glued value {text!r}") from error
    return format(value, spec)


def paste_glue(text: str, values: dict[str, str], where: str) -> str:
    def paste(match: re.Match) -> str:
        name = match.group("name")
        if name not in values:
            raise ReaderNotebookError(f"{where}: nothing was glued under {name!r}")
        shown = format_glued(values[name], match.group("spec"))
        return shown + MACHINE_MARK if name in MACHINE_VALUES else shown

    return GLUE_ROLE.sub(paste, text)


# --------------------------------------------------------------------------- directives


@dataclass
class Directive:
    name: str
    argument: str
    options: dict
    body: str


def split_directive(lines: list[str], start: int, where: str) -> tuple[Directive, int]:
    """Parse the directive opening at ``lines[start]``; return it and the line after its end."""
    opening = FENCE_OPEN.match(lines[start])
    fence = opening.group("fence")
    end = start + 1
    while end < len(lines) and lines[end].rstrip() != fence:
        end += 1
    if end == len(lines):
        raise ReaderNotebookError(f"{where}: the {{{opening.group('name')}}} directive is never closed")
    content = lines[start + 1:end]
    options: dict = {}
    if content and content[0].strip() == "---":
        close = content.index("---", 1)
        options = yaml.safe_load("\n".join(content[1:close])) or {}
        content = content[close + 1:]
    else:
        while content and re.match(r"^:[\w-]+:", content[0]):
            key, _, value = content.pop(0)[1:].partition(":")
            options[key] = value.strip()
    body = "\n".join(content).strip("\n")
    return Directive(opening.group("name"), opening.group("argument").strip(), options, body), end + 1


def quote(text: str) -> str:
    return "\n".join(f"> {line}" if line.strip() else ">" for line in text.splitlines())


@dataclass
class Page:
    """What converting one chapter needs to know."""

    where: str
    values: dict[str, str]
    images: dict[str, str]
    headings: dict[str, dict[str, str]]
    site: str
    attachments: dict

    def attach(self, path: Path) -> str:
        if not path.is_file():
            raise ReaderNotebookError(f"{self.where}: the figure {path} does not exist")
        mime = mimetypes.guess_type(path.name)[0]
        self.attachments[path.name] = {mime: base64.b64encode(path.read_bytes()).decode()}
        return f"attachment:{path.name}"


def included_source(directive: Directive, folder: Path, where: str) -> str:
    """The code a ``literalinclude`` shows: the whole file, or the one definition its ``:pyobject:`` names."""
    path = (folder / directive.argument).resolve()
    if not path.is_file():
        raise ReaderNotebookError(f"{where}: the included file {path} does not exist")
    source = path.read_text()
    name = directive.options.get("pyobject")
    if not name:
        return source.rstrip("\n")
    for node in ast.parse(source).body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)) and node.name == name:
            lines = source.splitlines()[node.lineno - 1 - len(node.decorator_list):node.end_lineno]
            return "\n".join(lines)
    raise ReaderNotebookError(f"{where}: {path.name} defines no {name!r} to include")


def render_directive(directive: Directive, page: Page, folder: Path) -> str:
    body = convert_markdown(directive.body, page, folder)
    if directive.name == "admonition":
        return quote(f"**{directive.argument}**\n\n{body}")
    if directive.name in ("note", "tip", "warning", "important", "hint"):
        return quote(f"**{directive.name.capitalize()}**\n\n{body}")
    if directive.name == "toggle":
        return f"<details>\n<summary>Show the answer</summary>\n\n{body}\n\n</details>"
    if directive.name == "figure":
        alt = " ".join(str(directive.options.get("alt", "")).split())
        source = page.attach((folder / directive.argument).resolve())
        return f"![{alt}]({source})\n\n*{' '.join(body.split())}*"
    if directive.name == "frame-player":
        alt = " ".join(str(directive.options.get("alt", "")).split())
        source = page.attach((folder / directive.argument).resolve())
        anchor = f"#{directive.options['name']}" if directive.options.get("name") else ""
        return (f"![{alt}]({source})\n\n*{' '.join(body.split())}*\n\n"
                f"*On the site this animation is a player that you can pause, step frame by frame and "
                f"scrub: [open it there]({page.site}chapters/{Path(page.where).stem}.html{anchor}).*")
    if directive.name == "glue:figure":
        if directive.argument not in page.images:
            raise ReaderNotebookError(f"{page.where}: no figure was glued under {directive.argument!r}")
        name = f"{directive.argument}.png"
        page.attachments[name] = {"image/png": page.images[directive.argument]}
        alt = " ".join(str(directive.options.get("alt", "")).split())
        return f"![{alt}](attachment:{name})\n\n*{' '.join(body.split())}*"
    if directive.name == "literalinclude":
        return "```{}\n{}\n```".format(directive.options.get("language", ""),
                                       included_source(directive, folder, page.where))
    if directive.name == "raw" and 'class="l4-playground"' in directive.body:
        preset = re.search(r'data-preset="([^"]*)"', directive.body)
        fragment = f"#playground:{preset.group(1)}" if preset else ""
        return (f"*On the site this page has an interactive playground that runs in the browser: "
                f"[open it there]({page.site}chapters/{Path(page.where).stem}.html{fragment}).*")
    if directive.name == "nb-exec-table":
        return (f"The table of every page's last run is made by the site builder: see "
                f"[this page on the site]({page.site}chapters/14_execution_report.html).")
    raise ReaderNotebookError(f"{page.where}: no plain-Markdown form for the {{{directive.name}}} directive")


def link_to_notebook(match: re.Match, page: Page) -> str:
    stem = Path(match.group("page")).name
    anchor = match.group("anchor")
    if anchor is None:
        return f"]({stem}.ipynb)"
    heading = page.headings.get(stem, {}).get(anchor)
    if heading is None:
        raise ReaderNotebookError(f"{page.where}: the link to {stem}.md#{anchor} names no heading there")
    return f"]({stem}.ipynb#{heading.replace(' ', '-')})"


def convert_markdown(text: str, page: Page, folder: Path) -> str:
    lines = text.splitlines()
    out: list[str] = []
    i = 0
    while i < len(lines):
        if FENCE_OPEN.match(lines[i]):
            directive, i = split_directive(lines, i, page.where)
            out.append(render_directive(directive, page, folder))
        else:
            out.append(lines[i])
            i += 1
    converted = paste_glue("\n".join(out), page.values, page.where)
    converted = PAGE_LINK.sub(lambda m: link_to_notebook(m, page), converted)
    leftover = ANY_ROLE.search(converted) or TARGET.search(converted)
    if leftover:
        raise ReaderNotebookError(f"{page.where}: no plain-Markdown form for {leftover.group(0)!r}")
    return converted


# --------------------------------------------------------------------------- notebooks


def slug(text: str) -> str:
    """MyST's heading anchor for ``text`` (lower case, punctuation dropped, spaces as dashes)."""
    text = re.sub(r"[^\w\s-]", "", text.strip().lower())
    return re.sub(r"\s", "-", text)


def chapter_headings(chapters: list[Path]) -> dict[str, dict[str, str]]:
    found = {}
    for md in chapters:
        titles = re.findall(r"^#{1,6} (.+)$", md.read_text(), flags=re.MULTILINE)
        found[md.stem] = {slug(title): title.strip() for title in titles}
    return found


def cell_id(number: int, source: str) -> str:
    """An id from the cell's position and text, leaving out the build machine's values, so
    that a rebuild on another machine changes only those values."""
    stable = re.sub(r"[\w.,%+-]+" + MACHINE_MARK, MACHINE_MARK, source)
    return hashlib.sha1(f"{number}:{stable}".encode()).hexdigest()[:12]


def reader_notebook(md: Path, glued: tuple[dict, dict], headings: dict, repository: str, tag: str):
    """The reader notebook for chapter ``md``, as an nbformat notebook."""
    values, images = glued
    page = Page(md.name, values, images, headings, site_url(repository), {})
    source = jupytext.read(md)
    cells = []
    setup_done = False
    for cell in source.cells:
        tags = cell.metadata.get("tags", [])
        if cell.cell_type == "markdown":
            page.attachments = {}
            markdown = nbformat.v4.new_markdown_cell(convert_markdown(cell.source, page, md.parent))
            if page.attachments:
                markdown.attachments = page.attachments
            cells.append(markdown)
            if not setup_done and cell.source.startswith("# "):
                cells.append(nbformat.v4.new_markdown_cell(preface(page.site, md.stem, values)))
            continue
        if not setup_done and "remove-cell" in tags and "lesson4_support" in cell.source:
            cells.append(nbformat.v4.new_code_cell(setup_source(repository, tag)))
            setup_done = True
            continue
        framework = next((t for t in tags if t in FRAMEWORK_HEADINGS), None)
        if framework:
            cells.append(nbformat.v4.new_markdown_cell(f"#### {FRAMEWORK_HEADINGS[framework]}"))
        code = nbformat.v4.new_code_cell(cell.source)
        if tags:
            code.metadata["tags"] = list(tags)
        cells.append(code)
        caption = cell.metadata.get("mystnb", {}).get("figure", {}).get("caption")
        if caption:
            text = convert_markdown(" ".join(str(caption).split()), page, md.parent)
            cells.append(nbformat.v4.new_markdown_cell(f"*Figure: {text}*"))
    if not setup_done:
        raise ReaderNotebookError(f"{md.name} has no hidden setup cell to replace")
    notebook = nbformat.v4.new_notebook(cells=cells)
    notebook.metadata = {
        "kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"},
        # JupyterLab writes the kernel's language_info into a notebook it opens, which marks
        # the notebook as changed unless it is already there: the chapter pair's, from the
        # kernel of the project's environment that computed its reference outputs
        "language_info": nbformat.read(md.with_suffix(".ipynb"), as_version=4).metadata["language_info"],
    }
    for number, cell in enumerate(notebook.cells):
        cell.id = cell_id(number, cell.source)
    return notebook


def preface(site: str, stem: str, values: dict[str, str]) -> str:
    text = (f"> This notebook is the runnable version of [a page of the Lesson 4 course site]"
            f"({site}chapters/{stem}.html). Run the cells from the top; the first one makes the "
            f"course's support package available.")
    if any(name in MACHINE_VALUES for name in values):
        text += (f"\n>\n> Numbers marked {MACHINE_MARK} were measured on the machine that built the "
                 f"site (its timings, its processor count), in one run of the page. They change from run "
                 f"to run, so the same page's stored outputs in the repository, made in another run, can "
                 f"show slightly different values; on your machine they will differ.")
    return text


def chapters() -> list[Path]:
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [entry["file"] for part in toc["parts"] for entry in part["chapters"]]
    return [ROOT / f"{name}.md" for name in files]


def build_all(executed_root: Path = EXECUTED) -> dict[str, str]:
    """``file name -> JSON text`` of every reader notebook."""
    repository, tag = project_settings()
    pages = chapters()
    headings = chapter_headings(pages)
    written = {}
    for md in pages:
        executed = executed_root / md.relative_to(ROOT).with_suffix(".ipynb")
        notebook = reader_notebook(md, glued_values(executed), headings, repository, tag)
        written[md.with_suffix(".ipynb").name] = nbformat.writes(notebook) + "\n"
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="report stale notebooks instead of writing")
    parser.add_argument("--executed", type=Path, default=EXECUTED, help="the build's executed notebooks")
    args = parser.parse_args(argv)
    try:
        written = build_all(args.executed)
    except (ReaderNotebookError, FileNotFoundError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    stale = [name for name, text in written.items()
             if not (OUT / name).is_file() or (OUT / name).read_text() != text]
    if args.check:
        for name in stale:
            print(f"stale: notebooks/{name} (run `make reader-notebooks`)")
        return 1 if stale else 0
    OUT.mkdir(exist_ok=True)
    for name, text in written.items():
        (OUT / name).write_text(text)
    print(f"wrote {len(written)} reader notebooks to notebooks/ ({len(stale)} changed)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
