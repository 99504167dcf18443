# The extension written in C (reviewflow/content/textscan.c); its Python reference is
# reviewflow/content/prose.py's `_python_word_counts`.

def word_counts(lowered: str, /) -> dict[str, int]: ...
