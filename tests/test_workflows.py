"""The GitHub Actions workflows: valid for actionlint, least privilege, and the right steps.

`deploy.yml` builds the site on every push to main, tests it and publishes it to GitHub
Pages; `cold-build.yml` builds and tests everything from nothing once a week.
"""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
WORKFLOWS = ROOT / ".github" / "workflows"
DEPLOY = WORKFLOWS / "deploy.yml"
COLD = WORKFLOWS / "cold-build.yml"


def actionlint() -> str | None:
    """The actionlint binary installed with the development tools, else one on the PATH."""
    beside = Path(sys.executable).parent / "actionlint"
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    return shutil.which("actionlint")


def load(path: Path) -> dict:
    return yaml.safe_load(path.read_text())


def triggers(workflow: dict) -> dict:
    # YAML 1.1 reads the bare key `on` as the boolean true
    found = workflow.get("on", workflow.get(True))
    return {found: None} if isinstance(found, str) else dict(found or {})


def steps(job: dict) -> list[dict]:
    return list(job.get("steps") or [])


def uses(job: dict, action: str) -> list[dict]:
    """The job's steps that run `action` (any version)."""
    return [s for s in steps(job) if str(s.get("uses", "")).split("@")[0] == action]


def commands(job: dict) -> list[str]:
    return [line.strip() for s in steps(job) for line in str(s.get("run", "")).splitlines() if line.strip()]


def writes(job: dict) -> set[str]:
    permissions = job.get("permissions") or {}
    if isinstance(permissions, str):
        return {"*"} if permissions == "write-all" else set()
    return {scope for scope, level in permissions.items() if level == "write"}


def check_actionlint(paths: list[Path]) -> None:
    binary = actionlint()
    if binary is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("actionlint is missing: it is installed with the development tools (pip install -e '.[dev]')")
        pytest.skip("actionlint is not installed")
    result = subprocess.run([binary, "-no-color", *map(str, paths)], capture_output=True, text=True,
                            timeout=120, cwd=ROOT)
    assert result.returncode == 0, f"actionlint found problems:\n{result.stdout}{result.stderr}"


def check_deploy(path: Path) -> None:
    workflow = load(path)
    on = triggers(workflow)
    assert on.get("push", {}).get("branches") == ["main"], "the site must be published on every push to main"
    assert "workflow_dispatch" in on

    # least privilege: read the repository everywhere; only the deploying job may write
    assert workflow.get("permissions") == {"contents": "read"}, \
        f"top-level permissions must be exactly contents: read, not {workflow.get('permissions')}"
    jobs = workflow["jobs"]
    deploying = [name for name, job in jobs.items() if uses(job, "actions/deploy-pages")]
    assert len(deploying) == 1, "exactly one job must run actions/deploy-pages"
    deploy = jobs[deploying[0]]
    assert writes(deploy) == {"pages", "id-token"}, f"the deploy job writes {sorted(writes(deploy))}"
    assert (deploy.get("environment") or {}).get("name") == "github-pages"
    for name, job in jobs.items():
        if name != deploying[0]:
            assert not writes(job), f"job {name} asks for write access: {sorted(writes(job))}"
    assert workflow.get("concurrency", {}).get("group") == "pages", "deployments must queue in one concurrency group"

    building = [name for name, job in jobs.items() if uses(job, "actions/upload-pages-artifact")]
    assert len(building) == 1, "exactly one job must upload the site with actions/upload-pages-artifact"
    build = jobs[building[0]]
    assert building[0] in ([deploy["needs"]] if isinstance(deploy.get("needs"), str) else deploy.get("needs", [])), \
        "the deploy job must wait for the build"
    assert uses(build, "actions/upload-pages-artifact")[0].get("with", {}).get("path") == "_build/html"
    run = commands(build)
    assert "make book" in run and "make unit" in run, f"the build job must run make book and make unit, not {run}"
    assert run.index("make book") < run.index("make unit")

    python = uses(build, "actions/setup-python")
    assert python and str(python[0]["with"]["python-version"]) == "3.11"
    assert python[0]["with"].get("cache") == "pip"

    caches = uses(build, "actions/cache")
    assert len(caches) == 1, "the build job must restore and save the execution cache"
    cache = caches[0]["with"]
    assert cache["path"] == "_build/.jupyter_cache"
    key = cache["key"]
    assert "hashFiles(" in key, f"the cache key must hash the sources: {key}"
    hashed = key.split("hashFiles(", 1)[1]
    for source in ("chapters/", "lesson4_support/", "pyproject.toml"):
        assert source in hashed, f"the execution cache key does not hash {source}: {key}"
    position = {id(step): i for i, step in enumerate(steps(build))}
    book = next(step for step in steps(build) if str(step.get("run", "")).strip() == "make book")
    assert position[id(caches[0])] < position[id(book)], "the execution cache must be restored before the build"


def check_cold_build(path: Path) -> None:
    workflow = load(path)
    on = triggers(workflow)
    assert on.get("schedule") and all("cron" in entry for entry in on["schedule"]), "the cold build must be scheduled"
    assert "workflow_dispatch" in on
    assert workflow.get("permissions") == {"contents": "read"}, \
        f"top-level permissions must be exactly contents: read, not {workflow.get('permissions')}"
    for name, job in workflow["jobs"].items():
        assert not writes(job), f"job {name} asks for write access: {sorted(writes(job))}"
        assert not uses(job, "actions/cache"), f"job {name} restores a cache: the cold build must start from nothing"
        assert not uses(job, "actions/deploy-pages"), f"job {name} deploys: only deploy.yml publishes"
    run = [line for job in workflow["jobs"].values() for line in commands(job)]
    assert "make clean" in run and "make test" in run, f"the cold build must run make clean and make test, not {run}"
    assert run.index("make clean") < run.index("make test")


#: What the tests demand under CI (``CI=true``, as GitHub Actions sets it) and skip elsewhere,
#: with the Debian package that brings it: the browser checks and the PDF, the PDF's checks.
CI_PACKAGES = {"chromium": "chromium", "pdftotext": "poppler-utils", "pdfinfo": "poppler-utils"}
#: The make recipe line that installs axe-core, which the accessibility audit demands under CI.
AXE_INSTALL = "npm ci --prefix tests/axe"


def apt_packages(job: dict) -> set[str]:
    """Every package a job's steps install with apt-get."""
    found = set()
    for line in commands(job):
        match = re.search(r"apt-get install\s+(.*)", line)
        if match:
            found |= {word for word in match.group(1).split() if not word.startswith("-")}
    return found


def make_targets(job: dict) -> list[str]:
    return [word for line in commands(job) if line.startswith("make ") for word in line.split()[1:]
            if not word.startswith("-") and "=" not in word]


def make_recipes(target: str) -> str:
    """What ``make TARGET`` would run on a clone where nothing is installed yet (``-B``
    remakes every prerequisite, ``-n`` only prints)."""
    done = subprocess.run(["make", "-n", "-B", target], cwd=ROOT, capture_output=True, text=True, timeout=120,
                          env={**os.environ, "CI": "true"})
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.mark.parametrize("path", [DEPLOY, COLD], ids=lambda p: p.name)
def test_each_workflow_installs_what_its_tests_demand_under_ci(path):
    """GitHub sets CI=true, under which a missing browser, pdftotext or axe-core fails a
    test instead of skipping it: every job that runs the tests must install each of them."""
    for name, job in load(path)["jobs"].items():
        targets = [t for t in make_targets(job) if t in ("test", "unit")]
        if not targets:
            continue
        missing = {tool: package for tool, package in CI_PACKAGES.items() if package not in apt_packages(job)}
        assert not missing, f"{path.name} job {name} runs make {targets} without installing {missing}"
        for target in targets:
            assert AXE_INSTALL in make_recipes(target), \
                f"`make {target}` (run by {path.name}) never installs axe-core, which its tests demand under CI"


def test_actionlint_finds_nothing():
    workflows = sorted(WORKFLOWS.glob("*.yml"))
    assert DEPLOY in workflows and COLD in workflows
    check_actionlint(workflows)


def test_the_deploy_workflow_builds_tests_and_publishes_with_least_privilege():
    check_deploy(DEPLOY)


def test_the_cold_build_is_scheduled_and_starts_without_a_cache():
    check_cold_build(COLD)
