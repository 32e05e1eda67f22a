"""Progress goes to standard error only when it is a terminal."""

import io

from symcount.report import progress


class Terminal(io.StringIO):
    def isatty(self):
        return True


def test_status_is_shown_on_a_terminal_and_erased(monkeypatch):
    monkeypatch.delenv("SYMCOUNT_NO_PROGRESS", raising=False)
    tty = Terminal()
    with progress.status("loading transformers:LlamaForCausalLM", tty):
        assert tty.getvalue() == "symcount: loading transformers:LlamaForCausalLM…"
    assert tty.getvalue().endswith("\r\033[K")  # the line is cleared before any output


def test_nothing_is_written_to_a_pipe_or_when_turned_off(monkeypatch):
    pipe = io.StringIO()
    with progress.status("loading", pipe):
        pass
    assert list(progress.iterate(range(5), 5, "points", pipe)) == [0, 1, 2, 3, 4]
    assert pipe.getvalue() == ""
    monkeypatch.setenv("SYMCOUNT_NO_PROGRESS", "1")
    tty = Terminal()
    assert list(progress.iterate(range(3), 3, "points", tty)) == [0, 1, 2] and tty.getvalue() == ""


def test_iterate_on_a_terminal_yields_every_item_and_clears_its_line(monkeypatch):
    monkeypatch.delenv("SYMCOUNT_NO_PROGRESS", raising=False)
    monkeypatch.setattr(progress, "INTERVAL", 0.0)
    import builtins

    real_import = builtins.__import__

    def no_tqdm(name, *args, **kwargs):  # the plain line, as without tqdm installed
        if name == "tqdm":
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_tqdm)
    tty = Terminal()
    assert list(progress.iterate(range(3), 3, "points", tty)) == [0, 1, 2]
    assert "symcount: points… 3/3" in tty.getvalue() and tty.getvalue().endswith("\r\033[K")
