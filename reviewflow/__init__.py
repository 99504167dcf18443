"""reviewflow: editorial review for medical content kept in git."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from reviewflow.compiled import use_fresh_code

if TYPE_CHECKING:
    from reviewflow.repo import ContentRepo

use_fresh_code()  # before any compiled module is imported: never an extension older than its source

__version__ = "0.1.0"
__all__ = ["ContentRepo", "__version__"]


def __getattr__(name: str) -> Any:
    # `from reviewflow import ContentRepo` without importing it on every `import reviewflow.x`.
    if name == "ContentRepo":
        from reviewflow.repo import ContentRepo

        return ContentRepo
    raise AttributeError(f"module 'reviewflow' has no attribute {name!r}")
