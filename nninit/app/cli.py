"""What the scripts in ``scripts/`` share at their end: exit with ``main()``'s code, quietly when
the reader of their output stopped early (``| head``)."""

from __future__ import annotations

import os
import sys


def exit_with(main) -> None:
    """``sys.exit(main())``, flushing standard output first; a reader that went away early is not an
    error of the script (no ``BrokenPipeError`` traceback, exit 0)."""
    try:
        code = main()
        sys.stdout.flush()
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # nothing left to flush at exit
        code = 0
    sys.exit(code)
