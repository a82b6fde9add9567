"""examples/chapter9.ipynb, executed from top to bottom in a real Jupyter kernel, so it cannot rot.

The notebook is run once per session (module fixture) with nbclient, in the ``python3`` kernel of
this interpreter's ipykernel (the test extras install it; its kernelspec lives in
``sys.prefix/share/jupyter/kernels/python3``), with the examples folder as working directory, as
a reader opening it in Jupyter would have. The tests then check what a reader sees: no cell
failed or warned, the figures are displayed inline as PNG images, and the printed measurements
say what the markdown around them claims.

conftest sets MPLBACKEND=Agg for the test process; the kernel is started without it, as in a
reader's Jupyter, so ``%matplotlib inline`` alone must make the figures appear.
"""

from __future__ import annotations

import base64
import os
import re
import struct
import sys
import time
from pathlib import Path

import nbformat
import pytest
from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel
from nbclient import NotebookClient

import descentlab

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
NOTEBOOK = EXAMPLES / "chapter9.ipynb"
KERNEL = "python3"
CELL_TIMEOUT = 300  # seconds per cell; the whole notebook takes about 10 s on 2 cores
MIN_FIGURES = 7
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# A cell that ends with a figure call displays that figure: `vanishing_plots.x_figure(...)`.
FIGURE_CALL = re.compile(r"^\w+_plots\.\w+_figure\(", re.MULTILINE)


def _kernel_env() -> dict[str, str]:
    """The kernel's environment: this process's, without the test-only MPLBACKEND=Agg."""
    return {k: v for k, v in os.environ.items() if k != "MPLBACKEND"}


@pytest.fixture(scope="module")
def executed():
    """The notebook after execution, its run time and the examples folder before and after."""
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    before = sorted(p.name for p in EXAMPLES.iterdir())
    client = NotebookClient(notebook, kernel_name=KERNEL, timeout=CELL_TIMEOUT,
                            resources={"metadata": {"path": str(EXAMPLES)}})
    with pytest.MonkeyPatch.context() as patch:
        # Find the kernelspec of this environment's ipykernel before any user-level one.
        patch.setenv("JUPYTER_PREFER_ENV_PATH", "1")
        started = time.perf_counter()
        client.execute(env=_kernel_env())  # raises CellExecutionError at the first failing cell
        seconds = time.perf_counter() - started
    after = sorted(p.name for p in EXAMPLES.iterdir())
    return {"notebook": notebook, "seconds": seconds, "before": before, "after": after}


def _code_cells(notebook) -> list:
    return [cell for cell in notebook.cells if cell.cell_type == "code"]


def _stdout(notebook) -> str:
    return "".join(output.get("text", "") for cell in _code_cells(notebook)
                   for output in cell.outputs
                   if output.output_type == "stream" and output.name == "stdout")


def _cell_stdout(notebook, marker: str) -> str:
    """The printed output of the one code cell whose source contains ``marker``."""
    cells = [cell for cell in _code_cells(notebook) if marker in cell.source]
    assert len(cells) == 1, f"expected one code cell containing {marker!r}, found {len(cells)}"
    return "".join(o.get("text", "") for o in cells[0].outputs if o.output_type == "stream")


def _png_size(data: bytes) -> tuple[int, int]:
    """Width and height from the IHDR chunk of a PNG file."""
    return struct.unpack(">II", data[16:24])


# ---------------------------------------------------------------------------------------------
# Before execution
# ---------------------------------------------------------------------------------------------
def test_notebook_is_stored_clean():
    """Committed without outputs, valid, and naming a kernel every installation has."""
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(notebook)
    assert notebook.metadata["kernelspec"]["name"] == KERNEL
    code = _code_cells(notebook)
    assert len(code) >= 15
    for cell in code:
        assert cell.outputs == [] and cell.execution_count is None, cell.source[:80]
    assert "%matplotlib inline" in code[0].source
    assert "import descentlab as dl" in code[0].source
    assert "dl.set_random_seed(0)" in code[0].source


def test_kernel_runs_this_python(monkeypatch):
    """The ``python3`` kernel nbclient starts is this interpreter (which has descentlab)."""
    monkeypatch.setenv("JUPYTER_PREFER_ENV_PATH", "1")
    try:
        spec = KernelSpecManager().get_kernel_spec(KERNEL)
    except NoSuchKernel:  # pragma: no cover - a broken installation
        pytest.fail("no 'python3' Jupyter kernel: install the test extras (pip install -e "
                    "'.[test]', which includes ipykernel)")
    executable = spec.argv[0]
    # jupyter_client replaces a bare python/python3/python3.X by sys.executable.
    version = sys.version_info
    bare = {"python", f"python{version.major}", f"python{version.major}.{version.minor}"}
    assert executable in bare or os.path.samefile(executable, sys.executable), (
        f"the {KERNEL!r} kernelspec in {spec.resource_dir} runs {executable}, not this "
        f"interpreter {sys.executable}; run `{sys.executable} -m ipykernel install --sys-prefix`")


# ---------------------------------------------------------------------------------------------
# After execution
# ---------------------------------------------------------------------------------------------
def test_every_cell_ran_cleanly(executed):
    notebook = executed["notebook"]
    code = _code_cells(notebook)
    assert [cell.execution_count for cell in code] == list(range(1, len(code) + 1))
    for cell in code:
        for output in cell.outputs:
            assert output.output_type != "error", cell.source[:80]
            # Warnings (fonts, deprecations) would be shown to every reader.
            assert not (output.output_type == "stream" and output.name == "stderr"), (
                f"the cell {cell.source[:60]!r} wrote to stderr:\n{output.text}")


def test_figures_are_displayed_inline(executed):
    """Each cell ending with a figure call shows that figure as a real PNG image."""
    figure_cells = [cell for cell in _code_cells(executed["notebook"])
                    if FIGURE_CALL.search(cell.source.strip().splitlines()[-1])]
    assert len(figure_cells) >= MIN_FIGURES
    images = 0
    for cell in figure_cells:
        pngs = [output.data["image/png"] for output in cell.outputs
                if output.output_type in ("execute_result", "display_data")
                and "image/png" in output.get("data", {})]
        assert len(pngs) == 1, f"no inline figure for {cell.source.splitlines()[-1]!r}"
        data = base64.b64decode(pngs[0])
        assert data.startswith(PNG_SIGNATURE)
        width, height = _png_size(data)
        assert width >= 400 and height >= 250, (width, height)
        images += 1
    assert images >= MIN_FIGURES


def test_sigmoid_derivative_maximum_is_a_quarter(executed):
    table = _cell_stdout(executed["notebook"], "max_derivative")
    assert re.search(r"^sigmoid\s+0\.25\s+0\s+0\.25$", table, re.MULTILINE), table
    assert re.search(r"^tanh\s+1\s+0\s+1$", table, re.MULTILINE), table
    assert "max σ′ == 0.25 exactly: True" in table
    assert "0.25^10 = 9.54e-07" in table


def test_diagnosis_finds_vanishing_gradients_and_names_the_fix(executed):
    notebook = executed["notebook"]
    before = _cell_stdout(notebook, "dl.diagnose(relu_he")
    deep_sigmoid, relu_he = before.split("\n\n", 1)
    assert "[CRITICAL] Vanishing gradients" in deep_sigmoid
    assert "Replace sigmoid by relu" in deep_sigmoid and "he_normal" in deep_sigmoid
    assert "No gradient-flow problem found." in relu_he
    korean = _cell_stdout(notebook, '.text("ko")')
    assert "[심각] 기울기 소실" in korean and "해결책:" in korean
    after = _cell_stdout(notebook, "dl.diagnose(history)")
    assert "(epoch 5)" in after and "[CRITICAL] Vanishing gradients" in after
    accuracy = dict(re.findall(r"^(\d+ \w+) layers.*test accuracy after 5 epochs: ([\d.]+)",
                               after, re.MULTILINE))
    assert float(accuracy["10 sigmoid"]) <= 0.15  # chance is 0.1: it has not learned
    assert float(accuracy["3 ReLU"]) >= 0.8


def test_gradient_monitor_table_is_shown(executed):
    notebook = executed["notebook"]
    tables = [output.data["text/html"] for cell in _code_cells(notebook)
              for output in cell.outputs
              if output.output_type == "execute_result" and "text/html" in output.data]
    assert len(tables) >= 2
    monitor = tables[0]
    for column in ("kernel_grad_norm", "grad_norm_ratio", "mean_abs_derivative"):
        assert column in monitor
    assert monitor.count("<tr") == 12  # header + the 11 layers of the record at initialisation


def test_vanishing_grid_sigmoid_is_stuck_and_relu_is_not(executed):
    rows = _cell_stdout(executed["notebook"], 'grid["summary"]').splitlines()[1:]
    stuck = {tuple(row.split()[:2]): row.endswith("stuck at chance") for row in rows if row}
    assert stuck == {("sigmoid", "1"): False, ("sigmoid", "5"): True,
                     ("relu", "1"): False, ("relu", "5"): False}


def test_quadratic_theory_and_surface(executed):
    notebook = executed["notebook"]
    printed = _cell_stdout(notebook, "_measured_rate")
    rates = {name: (float(predicted), float(measured)) for name, predicted, measured in
             re.findall(r"^(\w+)\s+predicted rate ([\d.]+), measured ([\d.]+)$", printed,
                        re.MULTILINE)}
    assert rates["gd"] == (0.9802, 0.9802)  # (κ − 1)/(κ + 1) with κ = 100, measured exactly
    assert rates["momentum"][0] == 0.8182  # (√κ − 1)/(√κ + 1)
    assert rates["momentum"][1] < rates["gd"][1]
    zigzag = dict(re.findall(r"^(\w+)\s+lr [\d.]+\s+sign changes of the y step:\s+(\d+)",
                             _cell_stdout(notebook, "sign_changes"), re.MULTILINE))
    assert set(zigzag) == {"sgd", "momentum", "adagrad", "adam"}
    assert int(zigzag["sgd"]) > int(zigzag["momentum"])


def test_optimizer_claims_are_judged(executed):
    claims = _cell_stdout(executed["notebook"], 'comparison["claims"]')
    measured = re.findall(r"^Measured: .*$", claims, re.MULTILINE)
    assert len(measured) == 4  # gd_cost, sgd_fluctuates, momentum and adam against SGD
    assert all(line.endswith(("Holds here.", "Does not hold here.",
                              "Not measurable in this run (a target was not reached)."))
               for line in measured), measured
    assert claims.count("The book:") == 4


def test_notebook_writes_no_files(executed):
    assert executed["after"] == executed["before"]


def test_kernel_imported_this_descentlab(executed):
    assert _stdout(executed["notebook"]).startswith(f"descentlab {descentlab.__version__}\n")


def test_a_figure_shows_inline_without_the_matplotlib_magic(tmp_path, monkeypatch):
    """descentlab draws without pyplot; importing its plots inside IPython registers the PNG
    display of figures, so a returned figure shows even without `%matplotlib inline`."""
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(
        "from descentlab.lab import activations\n"
        "from descentlab.plots import vanishing as vanishing_plots\n"
        "vanishing_plots.activation_figure(activations.activation_curves(names=['sigmoid']))")]
    notebook.metadata["kernelspec"] = {"name": KERNEL, "display_name": "Python 3",
                                       "language": "python"}
    monkeypatch.setenv("JUPYTER_PREFER_ENV_PATH", "1")
    NotebookClient(notebook, kernel_name=KERNEL, timeout=CELL_TIMEOUT,
                   resources={"metadata": {"path": str(tmp_path)}}).execute(env=_kernel_env())
    outputs = notebook.cells[0].outputs
    images = [o for o in outputs if "image/png" in o.get("data", {})]
    assert len(images) == 1, outputs
    assert base64.b64decode(images[0]["data"]["image/png"]).startswith(PNG_SIGNATURE)
