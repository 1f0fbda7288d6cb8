"""JupyterLab as `make lab` opens it: no news prompt, and reader notebooks that stay unmodified.

Opening a notebook, JupyterLab reads it through jupyter_server's contents manager (nbformat
read and validate), and once the kernel is up writes the kernel's ``language_info`` into
its metadata; anything that changes marks the notebook as modified before the reader has
done anything.  So each reader notebook must come back byte for byte from a read and save
through the contents manager, and already hold the ``language_info`` the project's kernel
reports.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
NOTIFICATION = "@jupyterlab/apputils-extension:notification"

SETTINGS = """
import json, sys, tempfile
from jupyterlab.commands import get_app_dir
from jupyterlab_server.settings_utils import get_settings
empty = tempfile.mkdtemp()
found, _ = get_settings(empty, get_app_dir() + "/schemas", empty, schema_name=sys.argv[1])
print(json.dumps({key: value.get("default") for key, value in found["schema"]["properties"].items()}))
"""


def lab_defaults(plugin: str) -> dict:
    """A plugin's settings as JupyterLab resolves them with the project's .jupyter/ (as `make lab`)."""
    env = {**os.environ, "JUPYTER_CONFIG_PATH": str(ROOT / ".jupyter")}
    done = subprocess.run([sys.executable, "-c", SETTINGS, plugin], env=env, capture_output=True, text=True,
                          check=True)
    return json.loads(done.stdout)


def test_lab_neither_asks_about_nor_fetches_jupyter_news():
    settings = lab_defaults(NOTIFICATION)
    # "none" asks the reader on first start; "true" fetches from the web; "false" does neither
    assert settings["fetchNews"] == "false"
    assert settings["checkForUpdates"] is False


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[path.stem for path in NOTEBOOKS])
def test_opening_a_reader_notebook_in_lab_changes_nothing(notebook, tmp_path):
    from ipykernel.ipkernel import IPythonKernel
    from jupyter_server.services.contents.filemanager import FileContentsManager

    shutil.copy(notebook, tmp_path / notebook.name)
    contents = FileContentsManager(root_dir=str(tmp_path))
    model = contents.get(notebook.name, content=True, type="notebook")
    kernel = dict(IPythonKernel.language_info)
    stored = model["content"]["metadata"].get("language_info", {})
    pair = json.loads((ROOT / "chapters" / notebook.name).read_text())["metadata"]["language_info"]
    if kernel["version"] != pair["version"]:
        # not the Python that computed the chapters' reference outputs: its version is no guide
        kernel["version"] = stored.get("version")
    assert stored == kernel, (f"{notebook.name} holds language_info {stored}, the kernel reports {kernel}: "
                              "run `make reader-notebooks`")
    model["content"]["metadata"]["language_info"] = kernel
    contents.save(model, notebook.name)
    assert (tmp_path / notebook.name).read_bytes() == notebook.read_bytes(), (
        f"saving {notebook.name} as JupyterLab opened it changes the file: Lab would mark it as modified")
