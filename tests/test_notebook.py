"""The tour notebook (experiments/tour.ipynb), executed by a real Jupyter kernel: no error, the notebook's He costs."""

from __future__ import annotations

import re

import pytest
from conftest import REPO

TOUR = REPO / "experiments" / "tour.ipynb"
COST_LINE = re.compile(r"Cost after iteration (\d+): (\S+)")


def _texts(nb) -> list[tuple[int, str]]:
    """(cell index, text) of every stream output and plain-text result."""
    out = []
    for i, cell in enumerate(nb.cells):
        for o in cell.get("outputs", []):
            out.append((i, o.get("text") or o.get("data", {}).get("text/plain", "")))
    return out


def _he_costs(nb) -> dict[int, float]:
    """The cost lines the He run logged into the notebook (those after its ``Run init=he`` line)."""
    text = "".join(t for _, t in _texts(nb))
    he = text.split("Run init=he", 1)[1].split("Run folder:", 1)[0]
    return {int(i): float(c) for i, c in COST_LINE.findall(he)}


def _check(nb, reference) -> None:
    errors = [(i, o) for i, cell in enumerate(nb.cells) for o in cell.get("outputs", []) if o["output_type"] == "error"]
    assert not errors, errors
    expected = reference["runs"]["he"]["costs"]
    printed = _he_costs(nb)
    assert sorted(printed) == [1000 * k for k in range(len(expected))]
    for k, cost in enumerate(expected):
        assert printed[1000 * k] == pytest.approx(cost, rel=1e-9, abs=0)
    assert "Best by test accuracy: init=he" in "".join(t for _, t in _texts(nb))


def test_the_committed_tour_shows_its_outputs(reference):
    """GitHub shows the committed notebook as it ran: every code cell's outputs are there, with no error."""
    nbformat = pytest.importorskip("nbformat")
    nb = nbformat.read(TOUR, as_version=4)
    assert all(cell.outputs for cell in nb.cells if cell.cell_type == "code" and "import" not in cell.source)
    _check(nb, reference)


@pytest.mark.slow
def test_the_tour_runs_in_a_kernel_and_prints_the_notebooks_he_costs(tmp_path, monkeypatch, reference):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    monkeypatch.setenv("NNINIT_TOUR_OUT", str(tmp_path / "tour"))  # the kernel inherits the environment
    nb = nbformat.read(TOUR, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = []
    nbclient.NotebookClient(nb, kernel_name="python3", timeout=240,
                            resources={"metadata": {"path": str(tmp_path)}}).execute()
    _check(nb, reference)
    assert (tmp_path / "tour" / "he" / "history.csv").exists() and (tmp_path / "tour" / "sweep" / "summary.md").exists()
    assert not (REPO / "experiments" / "outputs").exists()
