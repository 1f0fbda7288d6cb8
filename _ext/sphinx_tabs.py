"""A small Sphinx extension: show framework-specific code cells as synced tabs on the site.

MyST-NB cannot place code cells inside a ``tab-set`` directive, and a notebook has no way
to represent tabs anyway.  So chapters keep plain consecutive cells, tagged with the
framework they use::

    ```{code-cell} ipython3
    :tags: [pytorch]
    layer = nn.Linear(3, 2)
    ```

    ```{code-cell} ipython3
    :tags: [tensorflow]
    layer = keras.layers.Dense(2)
    ```

In Jupyter and Colab both cells simply run one after the other.  On the site, this
transform gathers each run of adjacent tagged cells into a sphinx-design tab set whose
tabs share the sync group ``framework``: choosing TensorFlow in one set switches every
set on the page.
"""

from __future__ import annotations

from docutils import nodes
from sphinx.transforms import SphinxTransform

#: Cell tag -> (tab label, sync key), in the order tabs appear.
FRAMEWORKS = {"pytorch": ("PyTorch", "pytorch"), "tensorflow": ("TensorFlow", "tensorflow")}
SYNC_GROUP = "framework"


def framework_of(node: nodes.Node) -> str | None:
    """The framework tag of a MyST-NB code cell container, or ``None``."""
    if not isinstance(node, nodes.container) or node.get("nb_element") != "cell_code":
        return None
    found = [tag for tag in FRAMEWORKS if f"tag_{tag}" in node.get("classes", [])]
    if len(found) > 1:
        raise ValueError(f"a code cell is tagged with more than one framework: {found}")
    return found[0] if found else None


def _tab_item(cell: nodes.container, framework: str) -> nodes.container:
    label, sync = FRAMEWORKS[framework]
    rubric = nodes.rubric(label, label, classes=["sd-tab-label"])
    rubric["sync_id"] = sync
    rubric["sync_group"] = SYNC_GROUP
    content = nodes.container("", cell, is_div=True, design_component="tab-content", classes=["sd-tab-content"])
    return nodes.container(
        "", rubric, content, is_div=True, design_component="tab-item", classes=["sd-tab-item"], selected=False
    )


def split_run(kinds: list[str]) -> list[int]:
    """Where the groups of a run of tagged cells start: a new group begins at a cell whose
    framework the current group already has.

    ``[pytorch, tensorflow, pytorch, tensorflow]`` is two pairs (``[0, 2]``), each a tab set.
    """
    starts, seen = [0], set()
    for k, kind in enumerate(kinds):
        if kind in seen:
            starts.append(k)
            seen = set()
        seen.add(kind)
    return starts


def _tab_set(run: list[nodes.container], kinds: list[str]) -> nodes.container:
    tab_set = nodes.container("", is_div=True, design_component="tab-set", classes=["sd-tab-set"])
    for k in sorted(range(len(run)), key=lambda k: list(FRAMEWORKS).index(kinds[k])):
        tab_set += _tab_item(run[k], kinds[k])
    return tab_set


def group_framework_cells(parent: nodes.Element) -> int:
    """Wrap runs of adjacent framework-tagged cells under ``parent`` in tab sets.

    Returns the number of tab sets made.  A run is cut where a framework comes back (see
    :func:`split_run`); each group of at least two cells becomes one tab set, and a group of
    one cell is left as it is.
    """
    made = 0
    children = list(parent.children)
    rebuilt: list[nodes.Node] = []
    i = 0
    while i < len(children):
        run = []
        while i + len(run) < len(children) and framework_of(children[i + len(run)]):
            run.append(children[i + len(run)])
        if not run:
            rebuilt.append(children[i])
            i += 1
            continue
        kinds = [framework_of(cell) for cell in run]
        starts = split_run(kinds)
        for start, stop in zip(starts, starts[1:] + [len(run)], strict=True):
            if stop - start >= 2:
                rebuilt.append(_tab_set(run[start:stop], kinds[start:stop]))
                made += 1
            else:
                rebuilt.extend(run[start:stop])
        i += len(run)
    if made:
        parent.children = []
        parent.extend(rebuilt)
    return made


class FrameworkTabs(SphinxTransform):
    """Runs after MyST-NB has turned notebook cells into containers."""

    default_priority = 900

    def apply(self, **kwargs) -> None:
        parents = {id(cell.parent): cell.parent for cell in self.document.findall(nodes.container)
                   if framework_of(cell) and cell.parent is not None}
        for parent in parents.values():
            group_framework_cells(parent)


def setup(app):
    app.add_transform(FrameworkTabs)
    return {"parallel_read_safe": True, "parallel_write_safe": True, "version": "1"}
