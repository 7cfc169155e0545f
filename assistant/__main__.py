"""`python -m assistant` is the same front door as the `caretrail` console script."""

from assistant.cli import app

app(prog_name="caretrail")
