"""``hostgw doctor``: every strategy, what it saw, the winner and why."""

from __future__ import annotations

import click

from hostgw.cli.options import Command, detection_options, emit_json
from hostgw.detection import Options


@click.command(cls=Command)
@detection_options
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def doctor(options: Options, as_json: bool) -> None:
    """Explain the detection: every strategy, what it saw, the winner and why.

    Runs every strategy (even after one answered) and shows the evidence:
    files and lines, routes, variables, and answers rejected as known wrong.
    Exits like `hostgw ip`: 3 when there is no answer.
    """
    from hostgw.detection.report import examine

    report = examine(options)
    if as_json:
        emit_json(report.as_dict(), indent=2)
    else:
        click.echo(report.text(), nl=False)
    error = report.error
    if error is not None:
        # The report above already lists every attempt: keep stderr short.
        raise type(error)(
            "no answer; see the report above", attempts=error.attempts, hint=error.hint
        )
