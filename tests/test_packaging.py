"""The pip and conda descriptions of the environment agree."""

import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def pins(requirements):
    out = {}
    for line in requirements:
        match = re.fullmatch(r"([A-Za-z0-9_.\-]+)==([^\s;]+)", line.strip())
        if match:
            out[match.group(1).lower()] = match.group(2)
    return out


def test_environment_yml_lists_every_runtime_dependency_with_the_same_pin():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    runtime = project["dependencies"]
    assert len(pins(runtime)) == len(runtime), "every runtime dependency in pyproject.toml must be pinned with =="
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip_section = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict) and "pip" in d)
    conda_pins = pins(pip_section)
    for name, version in pins(runtime).items():
        assert conda_pins.get(name) == version, f"environment.yml pins {name} to {conda_pins.get(name)}, pyproject to {version}"
    # the development tools that environment.yml installs carry the pins of pyproject.toml
    every = pins(runtime) | pins(project["optional-dependencies"]["dev"])
    for name, version in conda_pins.items():
        assert every.get(name) == version, f"environment.yml pins {name} to {version}, pyproject to {every.get(name)}"
    assert "python=3.11" in env["dependencies"]


def test_the_book_tools_are_pinned_and_jupyter_book_stays_on_version_1():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    every = pins(project["dependencies"]) | pins(project["optional-dependencies"]["dev"])
    assert int(every["jupyter-book"].split(".")[0]) < 2
    for needed in ("jupytext", "nbval", "matplotlib", "scikit-learn", "keras", "sphinx", "sphinx-design",
                   "sphinx-togglebutton"):
        assert needed in every, f"{needed} is not pinned"
