"""Run many ``symcount`` command lines in ONE capped process (issue 18).

Started as ``python -m tests.robustness.runner`` (or by path) with a JSON list of cases on
stdin, each ``{"argv": [...], "timeout": seconds}``; prints a JSON list of results, each
``{"status": int | null, "stdout": str, "stderr": str, "escaped": str | null, "seconds": float}``.

The process caps its own address space (``resource.setrlimit(RLIMIT_AS)``) before importing
symcount, and each case runs ``symcount.cli.main(argv)`` under its own timer
(``signal.setitimer``): a case that runs too long is stopped and reported as
``escaped: "timeout"``, one that escapes ``main`` with an exception (a traceback the user
would see) as ``escaped: "<Type>: <message>"``. One Python start-up serves hundreds of cases,
so the whole robustness suite stays fast.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import resource
import signal
import sys
import time
import traceback

MEMORY = int(os.environ.get("SYMCOUNT_ROBUSTNESS_MEMORY", 3 * 1024 ** 3))


class CaseTimeout(BaseException):
    """Raised in the case by the timer (a BaseException: symcount's handlers do not catch it)."""


def _alarm(signum, frame):
    raise CaseTimeout()


def run_case(argv: list[str], timeout: float) -> dict:
    from symcount.cli import main

    out, err = io.StringIO(), io.StringIO()
    escaped, status = None, None
    start = time.perf_counter()
    signal.setitimer(signal.ITIMER_REAL, timeout)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            status = main(list(argv))
    except CaseTimeout:
        escaped = "timeout"
    except SystemExit as exc:  # argparse's --help/--version and its errors
        status = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except MemoryError:
        escaped = "MemoryError"
    except BaseException as exc:  # noqa: BLE001 - a traceback the user would see
        escaped = f"{type(exc).__name__}: {exc}"[:2000] + "\n" + traceback.format_exc()[-3000:]
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
    return {"status": status, "stdout": out.getvalue(), "stderr": err.getvalue(), "escaped": escaped,
            "seconds": round(time.perf_counter() - start, 3)}


def main() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY, MEMORY))
    os.environ.setdefault("KERAS_BACKEND", "torch")
    signal.signal(signal.SIGALRM, _alarm)
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 3000))
    cases = json.load(sys.stdin)
    results = [run_case(case["argv"], case.get("timeout", 20)) for case in cases]
    sys.stdout = sys.__stdout__
    print(json.dumps(results))


if __name__ == "__main__":
    main()
