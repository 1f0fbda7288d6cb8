"""The book configuration keeps the settings that make builds strict and repeatable."""

from pathlib import Path

import yaml

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


def test_launch_buttons_and_repository_point_at_one_url():
    assert CONFIG["repository"]["url"].startswith("https://github.com/")
    assert CONFIG["launch_buttons"]["binderhub_url"]
    assert CONFIG["launch_buttons"]["colab_url"]
    assert CONFIG["html"]["use_repository_button"] and CONFIG["html"]["use_download_button"]


def test_math_admonitions_and_tabs_are_enabled():
    extensions = CONFIG["parse"]["myst_enable_extensions"]
    assert {"dollarmath", "amsmath", "colon_fence"} <= set(extensions)
    extensions = set(CONFIG["sphinx"]["config"]["extensions"])
    assert {"myst_nb", "sphinx_design", "sphinx_togglebutton", "lesson4_support.sphinx_tabs",
            "sphinx-mathjax-offline"} <= extensions
    assert "sphinx_thebe" not in extensions  # its inline script is written twice per page under Sphinx 7


def test_the_readme_names_the_two_commands_and_ci_runs_the_test_one():
    readme = (ROOT / "README.md").read_text()
    assert "make book" in readme and "make test" in readme
    ci = (ROOT / ".ci" / "run").read_text()
    assert "make test" in ci
