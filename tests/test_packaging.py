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
    assert pip_section[-1] == "-e .", "environment.yml must install the support package the chapters import"


def test_the_book_tools_are_pinned_and_jupyter_book_stays_on_version_1():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    every = pins(project["dependencies"]) | pins(project["optional-dependencies"]["dev"])
    assert int(every["jupyter-book"].split(".")[0]) < 2
    for needed in ("jupytext", "nbval", "matplotlib", "scikit-learn", "keras", "sphinx", "sphinx-design",
                   "sphinx-togglebutton"):
        assert needed in every, f"{needed} is not pinned"


CPU_INDEX = "https://download.pytorch.org/whl/cpu"


def pip_requirements(path: Path) -> list[str]:
    env = yaml.safe_load(path.read_text())
    return [str(line).strip() for d in env["dependencies"] if isinstance(d, dict) and "pip" in d for line in d["pip"]]


def test_binder_installs_the_same_pins_with_cpu_only_pytorch_and_no_editable_install():
    binder = ROOT / "binder" / "environment.yml"
    env = yaml.safe_load(binder.read_text())
    assert "python=3.11" in env["dependencies"]
    requirements = pip_requirements(binder)
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    runtime = pins(project["dependencies"])
    dev = pins(project["optional-dependencies"]["dev"])
    binder_pins = pins(requirements)

    # the CPU builds of PyTorch carry a local version label (2.14.1+cpu); the rest are PyPI's
    for name in ("torch", "torchvision"):
        assert binder_pins.get(name, "").endswith("+cpu"), f"Binder must install the CPU-only {name}"
    release = {name: version.split("+")[0] for name, version in binder_pins.items()}
    for name, version in runtime.items():
        assert release.get(name) == version, f"binder/environment.yml pins {name} to {binder_pins.get(name)}, pyproject to {version}"
    for name in ("jupytext", "jupyterlab"):
        assert release.get(name) == dev[name], f"binder/environment.yml pins {name} to {binder_pins.get(name)}, pyproject to {dev[name]}"
    for name, version in release.items():
        assert (runtime | dev).get(name) == version, f"binder/environment.yml pins {name} to {version}, pyproject to {(runtime | dev).get(name)}"
    editable = [line for line in requirements if line.startswith(("-e", "--editable", ".", "/"))
                or "file:" in line or "git+" in line]
    assert not editable, f"an editable or local install defeats Binder's image cache: {editable}"
    assert f"--extra-index-url {CPU_INDEX}" in requirements, "Binder must take PyTorch from the CPU-only index"
    unpinned = [line for line in requirements
                if line != f"--extra-index-url {CPU_INDEX}" and not pins([line])]
    assert not unpinned, f"binder/environment.yml installs something without a pin: {unpinned}"


def lock_entries() -> dict[str, list[tuple[str, list[str]]]]:
    """requirements.lock as {name: [(version, hashes), ...]}.

    A package can be locked at different versions for different Pythons (after a marker
    such as ``; python_full_version >= '3.12'``); each gets its own entry.
    """
    text = (ROOT / "requirements.lock").read_text().replace("\\\n", " ")
    entries: dict[str, list[tuple[str, list[str]]]] = {}
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        requirement, *options = line.split(" --hash=")
        match = re.fullmatch(r"([A-Za-z0-9_.\-]+)==(\S+)(\s*;.*)?", requirement.strip())
        assert match, f"requirements.lock: {requirement.strip()!r} is not pinned with =="
        name = re.sub(r"[-_.]+", "-", match.group(1).lower())
        entries.setdefault(name, []).append((match.group(2), [option.split()[0] for option in options]))
    return entries


def test_the_lock_pins_every_package_with_hashes_and_agrees_with_pyproject():
    entries = lock_entries()
    assert len(entries) > 100, "the lock should hold the whole environment, dependencies included"
    for name, versions in entries.items():
        for version, hashes in versions:
            assert hashes, f"requirements.lock has no hash for {name}=={version}"
            assert all(re.fullmatch(r"sha256:[0-9a-f]{64}", h) for h in hashes), f"bad hash for {name}"
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = pins(project["dependencies"]) | pins(project["optional-dependencies"]["dev"])
    for name, version in wanted.items():
        locked = [v for v, _ in entries.get(re.sub(r"[-_.]+", "-", name), [])]
        assert locked, f"{name} is pinned in pyproject.toml but missing from requirements.lock: run make lock"
        assert set(locked) == {version}, (
            f"pyproject.toml pins {name}=={version}, requirements.lock has {locked}: run make lock")


def test_make_env_installs_only_from_the_hashed_lock():
    makefile = (ROOT / "Makefile").read_text()
    recipe = makefile.split("$(STAMP): pyproject.toml requirements.lock\n", 1)[1].split("\n\n", 1)[0]
    installs = [line.strip() for line in recipe.splitlines() if "pip install" in line]
    assert installs[0].endswith("pip install --quiet --require-hashes -r requirements.lock"), installs
    assert installs[1:] == ["$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e ."], installs
    assert "uv pip compile pyproject.toml --extra dev --generate-hashes" in makefile.split("\nlock:", 1)[1]


def test_binder_installs_the_support_package_after_the_environment_without_resolving_anything():
    post_build = ROOT / "binder" / "postBuild"
    commands = [line for line in post_build.read_text().splitlines() if line and not line.startswith("#")]
    assert post_build.stat().st_mode & 0o111, "binder/postBuild must be executable"
    assert commands[-1] == "python -m pip install --no-deps -e .", commands
