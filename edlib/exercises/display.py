"""Show a result: rich display inside IPython/Jupyter, plain ``print`` elsewhere."""
from __future__ import annotations

from typing import Any

SHOWN_MIMETYPES = ("text/plain", "text/html")
"""What a check stores in a notebook: plain text and HTML (both compared by strict nbval)."""


def in_ipython() -> bool:
    """Is an IPython shell (a Jupyter kernel, or the IPython terminal) running this code?"""
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    return get_ipython() is not None


def show(obj: Any) -> None:
    """Display ``obj`` (plain text and HTML in Jupyter; its text elsewhere)."""
    if in_ipython():
        from IPython.display import display
        display(obj, include=list(SHOWN_MIMETYPES))
    else:
        print(obj.text() if hasattr(obj, "text") else obj)
