"""``python -m ostiary``: the ``ostiary`` command (the pytest plugin starts servers this way)."""

from ostiary.cli import app

if __name__ == "__main__":
    app()
