"""glibc told to give freed big blocks back (allocator.py): each big block is mapped on its own."""

from __future__ import annotations

import subprocess
import sys

import pytest

from reviewflow.allocator import give_back_big_blocks

# Frees one 1 MB block (which raises glibc's own threshold past 1 MB), then holds eight more and
# says how many bytes glibc had mapped for blocks while it held them.
_HELD_MAPPED = """
import ctypes, sys
from reviewflow.allocator import give_back_big_blocks
if sys.argv[1] == "fixed":
    assert give_back_big_blocks()
elif sys.argv[1] == "command":  # any command fixes it, before it does anything else
    from reviewflow.cli.app import main
    sys.argv[1:] = ["--version"]
    try:
        main()
    except SystemExit:
        pass
elif sys.argv[1] == "desk":  # and a desk started by a program of its own (as the bench does)
    from pathlib import Path
    from reviewflow.desk.server import make_server
    make_server(Path(".")).close()
class Info(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in
                ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks",
                 "fordblks", "keepcost")]
mallinfo2 = ctypes.CDLL(None).mallinfo2
mallinfo2.restype = Info
first = bytearray(1 << 20)
del first
before = mallinfo2().hblkhd
held = [bytearray(1 << 20) for _ in range(8)]
print(mallinfo2().hblkhd - before)
"""


def held_mapped(mode: str) -> int:
    run = subprocess.run(
        [sys.executable, "-c", _HELD_MAPPED, mode], capture_output=True, text=True, check=True
    )
    return int(run.stdout.splitlines()[-1])


@pytest.mark.skipif(not give_back_big_blocks(), reason="no glibc to tell")
def test_big_blocks_are_mapped_on_their_own_once_the_threshold_is_fixed() -> None:
    assert held_mapped("default") < 1 << 20  # glibc moved its threshold: they came from the heap
    assert held_mapped("fixed") >= 8 << 20  # each mapped, so each goes back when freed


@pytest.mark.skipif(not give_back_big_blocks(), reason="no glibc to tell")
@pytest.mark.parametrize("started_by", ["command", "desk"])
def test_every_command_and_the_desk_fix_it(started_by: str) -> None:
    assert held_mapped(started_by) >= 8 << 20
