"""``gongzhi load_holidays FILE``: load years of the holiday table (format: gongzhi/core/holidays.py).

``--from-library`` instead loads the years the installed chinese_calendar knows that the table
does not have yet (``--replace`` reloads them all from the library).
"""
from __future__ import annotations

from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from gongzhi.core.holidays import CalendarFileError, library_version, library_years, parse_file
from gongzhi.core.models import WorkdayCalendarYear
from gongzhi.core.services import workday_calendar_load_many


class Command(BaseCommand):
    help = "Load the State Council's holiday arrangement (放假/调休上班) into the working-day table."

    def add_arguments(self, parser):
        parser.add_argument("file", nargs="?", help=".csv/.txt lines 'date,kind,name' or an .xlsx with those columns")
        parser.add_argument("--from-library", action="store_true",
                            help="load the years chinese_calendar knows and the table lacks")
        parser.add_argument("--replace", action="store_true", help="with --from-library: reload every year")
        parser.add_argument("--user", default="", help="recorded as the actor in the audit trail")

    def handle(self, *args, file=None, from_library=False, replace=False, user="", **options):
        actor = None
        if user:
            actor = get_user_model().objects.filter(username=user).first()
            if actor is None:
                raise CommandError(f"no user {user!r}")
        if from_library:
            years = library_years()
            if not replace:
                known = set(WorkdayCalendarYear.objects.values_list("year", flat=True))
                years = {y: days for y, days in years.items() if y not in known}
            source = library_version()
        elif file:
            path = Path(file)
            if not path.is_file():
                raise CommandError(f"no such file: {file}")
            try:
                years = parse_file(path.read_bytes(), path.name).years
            except CalendarFileError as exc:
                raise CommandError("\n".join(exc.errors)) from None
            source = f"文件 {path.name}"
        else:
            raise CommandError("give a FILE or --from-library")
        loaded = workday_calendar_load_many(actor=actor, years=years, source=source)
        for calendar in loaded:
            days = list(calendar.days.all())
            off = sum(d.kind == "holiday" for d in days)
            self.stdout.write(f"{calendar.year}: {off} holidays, {len(days) - off} make-up working days")
        if not loaded:
            self.stdout.write("nothing to load")
