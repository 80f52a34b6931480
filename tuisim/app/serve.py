"""`tuisim serve`: the same app in a browser on localhost, through textual-serve."""

from __future__ import annotations

import shlex
import sys


def serve(scenario: str | None = None, port: int = 8000) -> int:
    try:
        from textual_serve.server import Server
    except ImportError:
        print("tuisim serve needs textual-serve, which is not installed:\n\n"
              "    pip install 'tuisim[serve]'\n", file=sys.stderr)
        return 2
    # the app directly: under textual-serve stdout is not a terminal, and the CLI would
    # then run the scenario headless
    command = [sys.executable, "-m", "tuisim.app.serve"]
    if scenario:
        command.append(scenario)
    print(f"serving tuisim on http://localhost:{port} (Ctrl-C stops)", file=sys.stderr)
    Server(shlex.join(command), host="localhost", port=port, title="tuisim").serve()
    return 0


def main(argv: list[str] | None = None) -> int:
    """The process textual-serve starts for each browser tab."""
    from .factory import make_app

    argv = sys.argv[1:] if argv is None else argv
    make_app(argv[0] if argv else None).run()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
