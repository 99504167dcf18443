"""How reviewflow reads a file of the repository (files.py): all of it, or the limit and one byte
past it, whatever its size against the first read's and later reads' sizes."""

from __future__ import annotations

from pathlib import Path

import pytest

from reviewflow import files

LIMIT = 3 * files.FIRST_READ + 5


@pytest.mark.parametrize(
    "size",
    [0, 1, files.FIRST_READ - 1, files.FIRST_READ, files.FIRST_READ + 1, LIMIT - 1, LIMIT, LIMIT + 1],
)
def test_a_file_within_or_at_the_limit_is_read_whole(tmp_path: Path, size: int) -> None:
    data = bytes(range(256)) * (size // 256) + bytes(size % 256)
    (tmp_path / "a.md").write_bytes(data)
    read, real = files.read_limited(tmp_path, tmp_path / "a.md", LIMIT)
    if size <= LIMIT:
        assert (read, real) == (data, size)
    else:  # the limit and one byte past it: enough to know it is over
        assert (read, real) == (data[: LIMIT + 1], size)
    assert files.read_regular(tmp_path, tmp_path / "a.md") == data


def test_a_huge_file_is_read_only_one_byte_past_the_limit(tmp_path: Path) -> None:
    huge = tmp_path / "huge.md"
    huge.write_bytes(b"x" * (files.LATER_READS * 3))
    read, real = files.read_limited(tmp_path, huge, LIMIT)
    assert len(read) == LIMIT + 1 and real == files.LATER_READS * 3
    assert files.read_own(huge) == huge.read_bytes()
