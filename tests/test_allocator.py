"""glibc told to give freed big blocks back (allocator.py): each big block is mapped on its own."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from reviewflow.allocator import give_back_big_blocks

# Frees one 1 MB block (which raises glibc's own threshold past 1 MB), then holds eight more and
# says how many bytes glibc had mapped for blocks while it held them.
_HELD_MAPPED = """
import ctypes, sys
from reviewflow.allocator import give_back_big_blocks
class Info(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in
                ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks",
                 "fordblks", "keepcost")]
mallinfo2 = ctypes.CDLL(None).mallinfo2
mallinfo2.restype = Info
def held_mapped(_=None):
    first = bytearray(1 << 20)
    del first
    before = mallinfo2().hblkhd
    held = [bytearray(1 << 20) for _ in range(8)]
    return mallinfo2().hblkhd - before
if sys.argv[1] == "fixed":
    assert give_back_big_blocks()
elif sys.argv[1] in ("status", "check"):  # a command, in the content repo argv[2]
    import os
    from reviewflow.cli.app import cli  # not main, which ends the process (app.leave)
    os.chdir(sys.argv[2])
    try:
        cli([sys.argv[1]], prog_name="reviewflow")
    except SystemExit:
        pass
elif sys.argv[1] == "desk":  # and a desk started by a program of its own (as the bench does)
    from pathlib import Path
    from reviewflow.desk.server import make_server
    make_server(Path(".")).close()
elif sys.argv[1] == "worker":  # a command's forked worker, after the command fixed it
    from reviewflow.workers import worker_pool
    assert give_back_big_blocks()
    with worker_pool(1) as pool:
        print(pool.submit(held_mapped).result())
    sys.exit(0)
print(held_mapped())
"""


def held_mapped(mode: str, *args: str) -> int:
    run = subprocess.run(
        [sys.executable, "-c", _HELD_MAPPED, mode, *args], capture_output=True, text=True, check=True
    )
    return int(run.stdout.splitlines()[-1])


@pytest.mark.skipif(not give_back_big_blocks(), reason="no glibc to tell")
def test_big_blocks_are_mapped_on_their_own_once_the_threshold_is_fixed() -> None:
    assert held_mapped("default") < 1 << 20  # glibc moved its threshold: they came from the heap
    assert held_mapped("fixed") >= 8 << 20  # each mapped, so each goes back when freed


@pytest.mark.skipif(not give_back_big_blocks(), reason="no glibc to tell")
def test_a_command_that_reads_a_whole_history_and_the_desk_fix_it(content_repo: Path) -> None:
    assert held_mapped("status", str(content_repo)) >= 8 << 20
    assert held_mapped("desk") >= 8 << 20


@pytest.mark.skipif(not give_back_big_blocks(), reason="no glibc to tell")
def test_a_check_keeps_glibcs_own_threshold(content_repo: Path) -> None:
    # Its work is texts checked one after another: mapping each big block anew cost a cold
    # check at 10,000 articles ~0.5 s, and it reads no history.
    assert held_mapped("check", str(content_repo)) < 1 << 20


@pytest.mark.skipif(not give_back_big_blocks(), reason="no glibc to tell")
def test_a_forked_worker_takes_big_blocks_from_its_heap_again() -> None:
    # A worker makes and frees big blocks text after text: mapping each anew would fault its
    # pages in every time.
    assert held_mapped("worker") < 1 << 20
