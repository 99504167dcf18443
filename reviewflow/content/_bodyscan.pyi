# The extension written in C (reviewflow/content/bodyscan.c); its Python reference is
# reviewflow/content/markdown.py's `_python_read_plain`.

def read_plain(
    body: str, body_line: int, /
) -> tuple[str, list[int], list[tuple[int, int]], list[int], list[str], list[int] | None] | None: ...
