"""`gongzhi sweep_deadlines`: one pass of the deadline sweep, or a loop (the demo's scheduler).

Safe to run beside celery beat or several copies of itself: every warning is claimed with a
conditional UPDATE, so none is sent twice.
"""
import time

from django.core.management.base import BaseCommand

from gongzhi.cases.tasks import run_sweep


class Command(BaseCommand):
    help = "Send due-soon/overdue warnings and escalate overdue cases and unanswered summons."

    def add_arguments(self, parser):
        parser.add_argument("--loop", type=float, metavar="SECONDS", default=0,
                            help="keep sweeping, pausing this many seconds between passes")

    def handle(self, *args, loop: float = 0, **options):
        while True:
            counts = run_sweep()
            summary = "，".join(f"{k} {v}" for k, v in counts.items())
            self.stdout.write(f"sweep: {summary}")
            if not loop:
                return
            try:
                time.sleep(loop)
            except KeyboardInterrupt:  # pragma: no cover - interactive stop
                return
