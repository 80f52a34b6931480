"""`tuisim serve` without textual-serve says how to get it."""

import sys

from tuisim.app.serve import serve


def test_serve_without_textual_serve_explains(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "textual_serve", None)
    monkeypatch.setitem(sys.modules, "textual_serve.server", None)
    assert serve("vanishing_sigmoid", 8123) == 2
    assert "pip install 'tuisim[serve]'" in capsys.readouterr().err
