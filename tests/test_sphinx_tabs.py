import sys
from pathlib import Path

import pytest
from docutils import nodes

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "_ext"))
from sphinx_tabs import SYNC_GROUP, framework_of, group_framework_cells, split_run  # noqa: E402


def cell(*tags, text="code"):
    node = nodes.container(nb_element="cell_code", classes=["cell", *[f"tag_{t}" for t in tags]])
    node += nodes.literal_block(text, text)
    return node


def test_adjacent_framework_cells_become_one_synced_tab_set():
    section = nodes.section()
    section += nodes.paragraph(text="before")
    section += cell("tensorflow", text="tf code")
    section += cell("pytorch", text="torch code")
    section += nodes.paragraph(text="after")
    assert group_framework_cells(section) == 1
    tab_set = section.children[1]
    assert tab_set["design_component"] == "tab-set"
    labels = [item.children[0] for item in tab_set.children]
    assert [label.astext() for label in labels] == ["PyTorch", "TensorFlow"]  # fixed order
    assert {label["sync_group"] for label in labels} == {SYNC_GROUP}
    assert [label["sync_id"] for label in labels] == ["pytorch", "tensorflow"]
    assert tab_set.children[0].children[1].astext() == "torch code"
    assert [type(c).__name__ for c in section.children] == ["paragraph", "container", "paragraph"]


def test_lone_and_untagged_cells_are_left_alone():
    section = nodes.section()
    section += cell("pytorch")
    section += nodes.paragraph(text="text between")
    section += cell("tensorflow")
    section += cell()
    assert group_framework_cells(section) == 0
    assert len(section.children) == 4


def test_two_cells_of_the_same_framework_are_not_tabs():
    section = nodes.section()
    section += cell("pytorch")
    section += cell("pytorch")
    assert group_framework_cells(section) == 0


def test_alternating_frameworks_make_one_tab_set_per_pair():
    section = nodes.section()
    for n, framework in enumerate(["pytorch", "tensorflow", "pytorch", "tensorflow"]):
        section += cell(framework, text=f"{framework} {n}")
    assert group_framework_cells(section) == 2
    assert [child["design_component"] for child in section.children] == ["tab-set", "tab-set"]
    shown = [[item.children[1].astext() for item in tab_set.children] for tab_set in section.children]
    assert shown == [["pytorch 0", "tensorflow 1"], ["pytorch 2", "tensorflow 3"]]


def test_a_run_is_cut_where_a_framework_comes_back():
    assert split_run(["pytorch", "tensorflow", "pytorch", "tensorflow"]) == [0, 2]
    assert split_run(["tensorflow", "pytorch", "pytorch"]) == [0, 2]
    assert split_run(["pytorch", "pytorch"]) == [0, 1]
    section = nodes.section()
    for framework in ["tensorflow", "pytorch", "pytorch"]:
        section += cell(framework)
    assert group_framework_cells(section) == 1
    assert [child.get("design_component") for child in section.children] == ["tab-set", None]


def test_framework_of_ignores_markdown_and_rejects_double_tags():
    assert framework_of(nodes.paragraph(text="x")) is None
    assert framework_of(cell()) is None
    with pytest.raises(ValueError, match="more than one framework"):
        framework_of(cell("pytorch", "tensorflow"))
