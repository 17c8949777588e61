"""A notebook client whose kernel talks over IPC (Unix sockets in a folder of its own), not TCP.

jupyter_client picks a kernel's TCP ports by binding free ports and releasing them before the kernel
binds them; another process launching a kernel in that window can take the same ports, and its client
may then talk to the wrong kernel, which ignores it: the notebook stalls. This is what happened when
the test steps ran beside the book build. Sockets in a fresh temporary folder cannot be shared.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import nbformat
from jupyter_client.manager import KernelManager
from nbclient import NotebookClient


@contextmanager
def ipc_client(nb: nbformat.NotebookNode, cwd: Path, timeout: int) -> Iterator[NotebookClient]:
    """A :class:`NotebookClient` for ``nb`` run in ``cwd``, its python3 kernel on IPC sockets of its own."""
    folder = tempfile.mkdtemp(prefix="kernel-")
    try:
        km = KernelManager(kernel_name="python3", transport="ipc", ip=str(Path(folder, "k")))
        yield NotebookClient(nb, km=km, timeout=timeout, kernel_name="python3",
                             resources={"metadata": {"path": str(cwd)}})
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def execute(nb: nbformat.NotebookNode, cwd: Path, timeout: int) -> nbformat.NotebookNode:
    """Execute ``nb`` in place in a fresh kernel (IPC transport) in ``cwd``; raise on the first failing cell."""
    with ipc_client(nb, cwd, timeout) as client:
        client.execute()
    return nb
