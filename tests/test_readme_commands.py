"""Every command the README tells a reader to type works as written.

Each fenced ``bash``, ``sh``, ``shell`` or ``console`` block is split into commands, and
each command is checked by the rule for its kind:

- ``make TARGET ... [VAR=value]``: ``make -n`` accepts the targets, and the Makefile reads
  every variable set;
- ``.venv/bin/PROGRAM``: the program exists in the environment these tests run in;
- ``python3 -m MODULE`` or ``.venv/bin/python -m MODULE``: the module is importable here;
- ``sed ... FILES``: ``sed`` is installed and every file pattern names files in the clone;
- ``NAME=value`` before a command: the project (or CUDA, for ``CUDA_VISIBLE_DEVICES``)
  reads that variable.

Any other command fails the test with a message saying so: a new kind of command in the
README needs a rule here first.  The JupyterLab the README starts is checked for real: its
version matches the pin in pyproject.toml, and Jupytext's extensions are installed.
"""

from __future__ import annotations

import functools
import importlib.util
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
ENV_BIN = Path(sys.executable).parent
SHELL_LANGUAGES = frozenset({"bash", "sh", "shell", "console"})
#: Variables read by something other than this project, which commands may set.
OUTSIDE_VARIABLES = frozenset({"CUDA_VISIBLE_DEVICES"})

FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})[ \t]*(?P<info>[^\s`]*)")
ASSIGNMENT = re.compile(r"""^(?P<name>[A-Za-z_]\w*)=(?P<value>\$\([^)]*\)|"[^"]*"|'[^']*'|\S*)(?:\s+|$)""")
ANSI = re.compile(r"\x1b\[[0-9;]*m")


@dataclass
class Command:
    """One command from a README code block: where it is, what it sets, and its words."""

    line: int
    text: str
    assignments: dict[str, str] = field(default_factory=dict)
    words: list[str] = field(default_factory=list)

    def __str__(self):
        return f"README line {self.line}: {self.text}"


def shell_blocks(text: str) -> list[tuple[int, str, list[str]]]:
    """``(first line number, language, lines)`` of every fenced shell block in ``text``."""
    blocks, lines, number = [], text.splitlines(), 0
    while number < len(lines):
        opening = FENCE.match(lines[number])
        number += 1
        if not opening:
            continue
        fence, indent = opening.group("fence"), len(opening.group("indent"))
        language = opening.group("info").lower()
        body, start = [], number + 1
        while number < len(lines):
            closing = FENCE.match(lines[number])
            if closing and closing.group("fence").startswith(fence) and not closing.group("info"):
                break
            body.append(lines[number][indent:] if lines[number][:indent].isspace() else lines[number].lstrip())
            number += 1
        number += 1
        if language in SHELL_LANGUAGES:
            blocks.append((start, language, body))
    return blocks


def strip_comment(line: str) -> str:
    """``line`` without a ``#`` comment (one that starts a word outside quotes)."""
    quote = None
    for index, char in enumerate(line):
        if quote:
            if char == quote:
                quote = None
        elif char in "'\"":
            quote = char
        elif char == "#" and (index == 0 or line[index - 1].isspace()):
            return line[:index].rstrip()
    return line.rstrip()


def split_operators(line: str) -> list[str]:
    """Split a command line at ``&&``, ``||``, ``;`` and ``|`` outside quotes and ``$(...)``."""
    parts, current, quote, depth, index = [], [], None, 0, 0
    while index < len(line):
        char = line[index]
        if quote:
            quote = None if char == quote else quote
        elif char in "'\"":
            quote = char
        elif line.startswith("$(", index):
            depth += 1
        elif char == ")" and depth:
            depth -= 1
        elif depth == 0 and (line.startswith("&&", index) or line.startswith("||", index)):
            parts.append("".join(current))
            current, index = [], index + 2
            continue
        elif depth == 0 and char in ";|":
            parts.append("".join(current))
            current, index = [], index + 1
            continue
        current.append(char)
        index += 1
    parts.append("".join(current))
    return [part.strip() for part in parts if part.strip()]


def parse_command(line_number: int, text: str) -> Command:
    """Split ``NAME=value`` assignments off the front, then the rest into words."""
    command, rest = Command(line_number, text), text
    while (assignment := ASSIGNMENT.match(rest)) is not None:
        command.assignments[assignment.group("name")] = assignment.group("value")
        rest = rest[assignment.end():]
    try:
        command.words = shlex.split(rest)
    except ValueError:
        command.words = [rest]  # left for the checks to reject
    return command


def readme_commands(text: str) -> list[Command]:
    """Every command in the fenced shell blocks of the README's ``text``, in order."""
    commands = []
    for start, language, body in shell_blocks(text):
        logical: list[tuple[int, str]] = []
        continued = False
        for offset, raw in enumerate(body):
            line = raw.strip()
            if language == "console" and not continued:
                if not line.startswith("$ "):
                    continue  # a line of output, not a command
                line = line[2:]
            line = strip_comment(line)
            if continued:
                logical[-1] = (logical[-1][0], logical[-1][1] + " " + line.rstrip("\\").strip())
            elif line:
                logical.append((start + offset, line.rstrip("\\").strip()))
            continued = line.endswith("\\")
        for number, line in logical:
            commands.extend(parse_command(number, part) for part in split_operators(line))
    return commands


@functools.cache
def project_variables() -> str:
    """The text of everything that could read an environment or make variable."""
    sources = [ROOT / "Makefile", *sorted((ROOT / "lesson4_support").glob("*.py")),
               *sorted((ROOT / "scripts").glob("*"))]
    return "\n".join(path.read_text(encoding="utf-8", errors="replace") for path in sources if path.is_file())


def module_after_dash_m(words: list[str]) -> str | None:
    if "-m" in words[1:-1]:
        return words[words.index("-m") + 1]
    return None


def check_make(command: Command) -> str | None:
    targets = [word for word in command.words[1:] if not word.startswith("-") and "=" not in word]
    settings = [word for word in command.words[1:] if "=" in word and not word.startswith("-")]
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    for setting in settings:
        name = setting.split("=", 1)[0]
        if not re.search(rf"\$\({re.escape(name)}\)|^{re.escape(name)}\s*[?:]?=", makefile, re.MULTILINE):
            return f"{command}: the Makefile does not read the variable {name}"
    env = {name: value for name, value in os.environ.items() if not name.startswith("MAKE")}
    result = subprocess.run(["make", "-n", *targets, *settings], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=60)
    if result.returncode != 0:
        return f"{command}: `make -n {' '.join(targets)}` failed: {result.stderr.strip()}"
    return None


def check_module(command: Command, module: str) -> str | None:
    try:
        found = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        found = None
    if found is None:
        return f"{command}: the module {module} is not importable in {sys.prefix}"
    return None


def check_venv_program(command: Command) -> str | None:
    name = command.words[0].removeprefix(".venv/bin/")
    program = ENV_BIN / name
    if not (program.is_file() and os.access(program, os.X_OK)):
        return f"{command}: no program {name} in the environment ({ENV_BIN})"
    module = module_after_dash_m(command.words)
    if name.startswith("python") and module:
        return check_module(command, module)
    return None


def check_sed(command: Command) -> str | None:
    if shutil.which("sed") is None:
        return f"{command}: sed is not installed"
    operands = [word for word in command.words[1:] if not word.startswith("-")]
    if len(operands) < 2:
        return f"{command}: expected a sed script and the files it edits"
    for pattern in operands[1:]:
        if not list(ROOT.glob(pattern)):
            return f"{command}: no file in the clone matches {pattern}"
    return None


def check_command(command: Command, variables_text: str) -> str | None:
    """``None`` when ``command`` passes the rule for its kind, else what is wrong."""
    for name in command.assignments:
        if name not in OUTSIDE_VARIABLES and not re.search(rf"\b{name}\b", variables_text):
            return f"{command}: nothing in the project reads the variable {name}"
    if not command.words:
        return f"{command}: only sets variables; the test does not know how to check that"
    program = command.words[0]
    if program == "make":
        return check_make(command)
    if program.startswith(".venv/bin/"):
        return check_venv_program(command)
    if program in ("python", "python3") and module_after_dash_m(command.words):
        return check_module(command, module_after_dash_m(command.words))
    if program == "sed":
        return check_sed(command)
    return (f"{command}: the test does not know how to check this command; "
            "teach tests/test_readme_commands.py a rule for it")


README_TEXT = README.read_text(encoding="utf-8")
COMMANDS = readme_commands(README_TEXT)


def test_the_readme_has_commands():
    assert {"make book", "make test", "make lab"} <= {command.text for command in COMMANDS}


@pytest.mark.parametrize("command", COMMANDS, ids=lambda command: f"line{command.line}-{command.text}")
def test_readme_command(command):
    problem = check_command(command, project_variables())
    assert problem is None, problem


# --- the checks themselves, on a README with mistakes in it -------------------------------

BROKEN_README = """\
Some prose with `make inline` that is not a command.

```bash
make book          # a target that exists
make no-such-target
make lab PORT=8890 NO_SUCH_SETTING=1
.venv/bin/no-such-program --version

# a comment line, then a blank one

python3 -m no_such_module_anywhere
.venv/bin/python -m json.tool && curl https://example.org
LESSON4_MEDIA=$(mktemp -d) make lab
NO_SUCH_VARIABLE=1 make book
sed -i 's#a#b#' no/such/file.md
```

```python
print("not a shell block")
```

   ```console
   $ make unit \\
       THREADS=4
   output line that is not a command
   $ jupyter notebook
   ```
"""


def broken_results():
    variables_text = project_variables()
    return [(command.text, check_command(command, variables_text)) for command in readme_commands(BROKEN_README)]


def test_parsing_finds_the_commands_and_skips_comments_output_and_other_languages():
    assert [text for text, _ in broken_results()] == [
        "make book", "make no-such-target", "make lab PORT=8890 NO_SUCH_SETTING=1",
        ".venv/bin/no-such-program --version", "python3 -m no_such_module_anywhere",
        ".venv/bin/python -m json.tool", "curl https://example.org",
        "LESSON4_MEDIA=$(mktemp -d) make lab", "NO_SUCH_VARIABLE=1 make book",
        "sed -i 's#a#b#' no/such/file.md", "make unit THREADS=4", "jupyter notebook",
    ]


def test_each_rule_rejects_what_it_should():
    problems = dict(broken_results())
    assert problems["make book"] is None
    assert problems["make unit THREADS=4"] is None
    assert problems["LESSON4_MEDIA=$(mktemp -d) make lab"] is None
    assert problems[".venv/bin/python -m json.tool"] is None
    assert "make -n no-such-target` failed" in problems["make no-such-target"]
    assert "does not read the variable NO_SUCH_SETTING" in problems["make lab PORT=8890 NO_SUCH_SETTING=1"]
    assert "no program no-such-program" in problems[".venv/bin/no-such-program --version"]
    assert "no_such_module_anywhere is not importable" in problems["python3 -m no_such_module_anywhere"]
    assert "reads the variable NO_SUCH_VARIABLE" in problems["NO_SUCH_VARIABLE=1 make book"]
    assert "no file in the clone matches no/such/file.md" in problems["sed -i 's#a#b#' no/such/file.md"]
    for unknown in ("curl https://example.org", "jupyter notebook"):
        assert "does not know how to check" in problems[unknown]


# --- the JupyterLab that `make lab` starts ------------------------------------------------

def pinned_version(package: str, pyproject_text: str) -> str:
    """The version ``package`` is pinned to (``==``) in the dev extra of ``pyproject_text``."""
    dev = tomllib.loads(pyproject_text)["project"]["optional-dependencies"]["dev"]
    for requirement in dev:
        name, _, version = requirement.partition("==")
        if name.strip().lower() == package:
            return version.strip()
    raise LookupError(f"{package} is not pinned with == in pyproject.toml's dev extra")


def env_program_output(*arguments: str) -> str:
    """stdout and stderr of a program from this environment's bin/ folder, colours removed."""
    program = ENV_BIN / arguments[0]
    assert program.is_file(), f"{arguments[0]} is not installed in {ENV_BIN} (pip install -e '.[dev]')"
    result = subprocess.run([str(program), *arguments[1:]], capture_output=True, text=True, timeout=120,
                            env={**os.environ, "NO_COLOR": "1"})
    assert result.returncode == 0, f"{' '.join(arguments)} failed: {result.stderr}"
    return ANSI.sub("", result.stdout + result.stderr)


def version_problem(output: str, expected: str, what: str) -> str | None:
    found = output.strip().splitlines()[-1].strip() if output.strip() else ""
    return None if found == expected else f"{what} prints {found!r}, but pyproject.toml pins {expected}"


PYPROJECT = (ROOT / "pyproject.toml").read_text(encoding="utf-8")


@pytest.mark.parametrize("arguments", [("jupyter", "lab", "--version"), ("jupyter-lab", "--version")],
                         ids=" ".join)
def test_jupyterlab_version_matches_the_pin(arguments):
    problem = version_problem(env_program_output(*arguments), pinned_version("jupyterlab", PYPROJECT),
                              " ".join(arguments))
    assert problem is None, problem


def test_jupytext_version_matches_the_pin():
    problem = version_problem(env_program_output("jupytext", "--version"), pinned_version("jupytext", PYPROJECT),
                              "jupytext --version")
    assert problem is None, problem


def test_version_and_pin_checks_can_fail():
    assert version_problem("4.6.5\n", "4.6.6", "jupyter lab --version") is not None
    assert version_problem("", "4.6.6", "jupyter lab --version") is not None
    broken = PYPROJECT.replace('"jupyterlab==', '"jupyterlab>=')
    with pytest.raises(LookupError):
        pinned_version("jupyterlab", broken)


def enabled_extension_problem(listing: str, name: str) -> str | None:
    for line in listing.splitlines():
        if name in line:
            return None if "enabled" in line and "disabled" not in line else f"{name} is listed but not enabled: {line.strip()}"
    return f"{name} is not installed:\n{listing}"


def test_jupytext_lab_extension_is_enabled():
    problem = enabled_extension_problem(env_program_output("jupyter", "labextension", "list"), "jupyterlab-jupytext")
    assert problem is None, problem


def test_jupytext_server_extension_is_enabled():
    problem = enabled_extension_problem(env_program_output("jupyter", "server", "extension", "list"),
                                        "jupyterlab_jupytext")
    assert problem is None, problem


def test_extension_check_can_fail():
    assert enabled_extension_problem("JupyterLab v4.6.6\n  other v1 enabled OK\n", "jupyterlab-jupytext")
    assert enabled_extension_problem("  jupyterlab-jupytext v1.4.6 disabled OK\n", "jupyterlab-jupytext")


def make_lab_line(*settings: str) -> str:
    result = subprocess.run(["make", "-s", "-n", "lab", *settings], cwd=ROOT, capture_output=True, text=True,
                            timeout=60, env={k: v for k, v in os.environ.items() if not k.startswith("MAKE")})
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_make_lab_serves_this_machine_only_from_the_clone():
    line = make_lab_line()
    for option in ("--no-browser", "--ServerApp.ip=127.0.0.1", "--ServerApp.port=8888",
                   f'--ServerApp.root_dir="{ROOT}"', "--LabApp.default_url=/lab/tree/notebooks",
                   f"{ROOT}/.jupyter"):
        assert option in line, f"`make lab` lacks {option}:\n{line}"
    assert "--ServerApp.port=8890" in make_lab_line("PORT=8890")


def test_markdown_files_open_as_notebooks_in_make_lab():
    overrides = json.loads((ROOT / ".jupyter" / "labconfig" / "default_setting_overrides.json").read_text())
    viewers = overrides["@jupyterlab/docmanager-extension:plugin"]["defaultViewers"]
    assert viewers["markdown"] == "Jupytext Notebook"
