"""Run notebooks in real kernels as strict nbval does, reusing one kernel for many runs.

Kernels run this very interpreter (nbval's ``--nbval-current-env``) in the notebook's
folder, with the environment of :data:`edlib.course.execute.KERNEL_ENV` (``PYTHONHASHSEED=0``...)
and a progress file of their own. A :class:`KernelSession` runs several variants of one
notebook in one kernel: between runs it clears the namespace and forgets every ``edlib``
module (and any module from the notebook's folder), so each run imports fresh course
code, while the slow imports (matplotlib, networkx) stay warm.
"""
from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

from edlib.exercises.progress import ENV_VAR as PROGRESS_ENV_VAR

CELL_TIMEOUT_S = 120

RESET = '''\
get_ipython().run_line_magic("reset", "-f")
import os as _os, sys as _sys
_os.environ[{var!r}] = {progress!r}
for _name in [n for n, m in list(_sys.modules.items()) if n == "edlib" or n.startswith("edlib.")
              or str(getattr(m, "__file__", None) or "").startswith({folder!r})]:
    del _sys.modules[_name]
if "matplotlib.pyplot" in _sys.modules:
    _sys.modules["matplotlib.pyplot"].close("all")'''


def kernel_env(progress_file: Path) -> dict[str, str]:
    """This process's environment, plus what strict nbval runs with, plus a progress file."""
    try:
        from edlib.course.execute import KERNEL_ENV
    except ImportError:  # an edlib without the notebook runner: the one setting that matters
        KERNEL_ENV = {"PYTHONHASHSEED": "0"}
    return {**os.environ, "PYTHONHASHSEED": "0", **KERNEL_ENV, PROGRESS_ENV_VAR: str(progress_file)}


def kernel_manager(asynchronous: bool = True) -> Any:
    """A manager for a Python kernel running this very interpreter."""
    import ipykernel.kernelspec
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import AsyncKernelManager, KernelManager

    class CurrentEnvironment(KernelSpecManager):
        def get_kernel_spec(self, kernel_name: str) -> Any:
            return self.kernel_spec_class(resource_dir=ipykernel.kernelspec.RESOURCES,
                                          **ipykernel.kernelspec.get_kernel_dict())

    cls = AsyncKernelManager if asynchronous else KernelManager
    return cls(kernel_name="edlib-current-env", kernel_spec_manager=CurrentEnvironment())


class KernelSession:
    """One kernel, in ``folder``, for several runs; ``scratch`` holds their progress files.

    With ``reuse=False`` every run gets a kernel of its own (slower, fully isolated).
    """

    def __init__(self, folder: Path, scratch: Path, timeout: int = CELL_TIMEOUT_S, reuse: bool = True) -> None:
        self.folder, self.scratch, self.timeout = Path(folder).resolve(), scratch, timeout
        self.reuse = reuse
        self.client: Any = None
        self._kernel: Any = None
        self.runs = 0
        self.kernels = 0

    async def __aenter__(self) -> "KernelSession":
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def run(self, nb: Any) -> Any:
        """Execute every cell of ``nb`` (in place) as a fresh run; CellExecutionError on a failing cell."""
        from nbclient.exceptions import CellExecutionError

        self.runs += 1
        progress_file = self.scratch / f"progress-{id(self)}-{self.runs}.json"
        if not self.reuse:
            await self.close()
        if self.client is None:
            await self._start(progress_file)
        else:
            import nbformat

            await self._cells(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(RESET.format(
                var=PROGRESS_ENV_VAR, progress=str(progress_file), folder=str(self.folder) + os.sep))]))
        try:
            await self._cells(nb)
        except CellExecutionError:
            raise  # the learner-facing kind of failure: the kernel itself is fine
        except BaseException:
            await self.close()  # a timeout or a dead kernel: the next run starts a new one
            raise
        return nb

    async def close(self) -> None:
        """Shut the kernel down."""
        if self._kernel is not None:
            kernel, self._kernel, self.client = self._kernel, None, None
            await kernel.__aexit__(None, None, None)

    async def _start(self, progress_file: Path) -> None:
        import nbformat
        from nbclient import NotebookClient

        self.client = NotebookClient(nbformat.v4.new_notebook(), km=kernel_manager(), timeout=self.timeout,
                                     startup_timeout=60, allow_errors=False, record_timing=False,
                                     resources={"metadata": {"path": str(self.folder)}})
        self._kernel = self.client.async_setup_kernel(env=kernel_env(progress_file), stderr=subprocess.DEVNULL)
        await self._kernel.__aenter__()
        self.kernels += 1

    async def _cells(self, nb: Any) -> None:
        client = self.client
        client.nb = nb
        client.reset_execution_trackers()
        for index, cell in enumerate(nb.cells):
            await client.async_execute_cell(cell, index, execution_count=client.code_cells_executed + 1)
