# The extension written in C (reviewflow/content/yamlscan.c); its Python reference is
# reviewflow/content/plainyaml.py's `_python_plain_data`.

from typing import Any

def plain_data(source: str, /) -> dict[str, Any] | None: ...
