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


def group_framework_cells(parent: nodes.Element) -> int:
    """Wrap runs of adjacent framework-tagged cells under ``parent`` in tab sets.

    Returns the number of tab sets made.  A run needs at least two cells for different
    frameworks; a lone tagged cell is left as it is.
    """
    made = 0
    children = list(parent.children)
    rebuilt: list[nodes.Node] = []
    i = 0
    while i < len(children):
        run = []
        while i + len(run) < len(children) and framework_of(children[i + len(run)]):
            run.append(children[i + len(run)])
        kinds = [framework_of(cell) for cell in run]
        if len(run) >= 2 and len(set(kinds)) == len(kinds):
            tab_set = nodes.container("", is_div=True, design_component="tab-set", classes=["sd-tab-set"])
            order = sorted(range(len(run)), key=lambda k: list(FRAMEWORKS).index(kinds[k]))
            for k in order:
                tab_set += _tab_item(run[k], kinds[k])
            rebuilt.append(tab_set)
            made += 1
            i += len(run)
        elif run:
            rebuilt.extend(run)
            i += len(run)
        else:
            rebuilt.append(children[i])
            i += 1
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
