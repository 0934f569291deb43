"""``gongzhi demo``: migrate, generate the demo county once (registry, cases, the village year, the
linking year), ensure the demo logins, print them and serve on http://127.0.0.1:8000.

Idempotent: when the registry already holds data it is left alone (no second county); the
logins are put back if missing. ``./scripts/demo`` runs this against the embedded SQLite
database in var/. Static files are served by WhiteNoise straight from the finders, so the demo
works with DEBUG off.
"""
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand

from gongzhi.demo.bulk import registry_is_empty
from gongzhi.demo.logins import DEMO_PASSWORD, ensure_demo_logins, login_table

from .generate import add_size_arguments, run_generation, spec_from_options


class Command(BaseCommand):
    help = "Set up and serve the demo: migrate, generate the demo county if the registry is empty, print the logins."

    def add_arguments(self, parser):
        add_size_arguments(parser)
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--no-serve", action="store_true", help="set up and print the logins, do not serve")
        parser.add_argument("--password", default=DEMO_PASSWORD, help=f"demo password (default {DEMO_PASSWORD})")
        parser.add_argument("--reset-passwords", action="store_true",
                            help="set the demo password again on logins that already exist")

    def handle(self, *args, **options):
        verbosity = options["verbosity"]
        say = self.stdout.write if verbosity >= 1 else (lambda message: None)
        spec = spec_from_options(options)
        say("==> migrating the database")
        call_command("migrate", interactive=False, verbosity=max(0, verbosity - 1))
        if registry_is_empty():
            say("==> generating the demo county")
            run_generation(self, spec, clear=False, verbosity=verbosity)
            say("==> classifying households 放心/关心/连心 (gongzhi.care)")
            call_command("classify_households", verbosity=verbosity, stdout=self.stdout)
            say("==> generating residents' matters (cases) for the demo county")
            self._generate_cases(options["seed"])
            say("==> generating a year of village governance (gongzhi.village)")
            self._generate_village_year(options["seed"], say)
            say("==> generating a year of linking up: pairings, the 535 links, 镇村工作一体化 (gongzhi.linking)")
            self._generate_linking_year(options["seed"], say)
            say("==> generating the inventory and a season of dispatch (gongzhi.resources)")
            self._generate_resources_year(options["seed"], say)
            say("==> generating a year of volunteer service (gongzhi.volunteers)")
            self._generate_volunteers_year(options["seed"], say)
            self._similar_reports(say)
            say("==> assessing last quarter: case scores, proposals, the quarterly bulletin (gongzhi.assessment)")
            self._generate_assessment(say)
        else:
            say("==> the registry already holds data: not generating again")
        plan = ensure_demo_logins(password=options["password"], reset_passwords=options["reset_passwords"])
        say("==> demo logins 演示账号")
        say(login_table(plan, options["password"]))
        if options["no_serve"]:
            return
        host, port = options["host"], options["port"]
        if host not in settings.ALLOWED_HOSTS and "*" not in settings.ALLOWED_HOSTS:
            settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, host]
        self._start_in_process_sweeps(say)
        say(f"==> serving on http://{host}:{port}/  (Ctrl-C stops)")
        call_command("runserver", f"{host}:{port}", use_reloader=False, verbosity=verbosity)

    def _generate_village_year(self, seed: int, say) -> None:
        from gongzhi.village.demo import generate_village_year

        r = generate_village_year(seed=seed)
        say(f"    {r.villages} villages: {r.consultations} consultations, {r.problems_solved} problems solved "
            f"({r.seconds:.1f} s)")

    def _generate_linking_year(self, seed: int, say) -> None:
        from gongzhi.linking.demo import SHOWCASE_LOGINS, generate_linking_year

        # The showcase pairing is acted by the town, village and liaison logins: made now without a
        # password, they get the demo password with the other logins below.
        ensure_demo_logins(password=None, only=SHOWCASE_LOGINS)
        r = generate_linking_year(seed=seed)
        say(f"    {r.summary()}")

    def _generate_resources_year(self, seed: int, say) -> None:
        from gongzhi.linking.demo import pool_pairing_lists
        from gongzhi.registry.models import Region
        from gongzhi.resources.demo import SHOWCASE_LOGINS, generate_resources_year

        ensure_demo_logins(password=None, only=SHOWCASE_LOGINS)
        county = Region.objects.filter(level=1).order_by("code").first()
        dispatcher = get_user_model().objects.get(username="dispatch")
        pooled = pool_pairing_lists(county, dispatcher)
        r = generate_resources_year(county=county, seed=seed)
        r.pooled_from_pairings = pooled
        say(f"    {r.summary()}")

    def _generate_volunteers_year(self, seed: int, say) -> None:
        from gongzhi.volunteers.demo import SHOWCASE_LOGINS, generate_volunteers_year

        ensure_demo_logins(password=None, only=SHOWCASE_LOGINS)
        generate_volunteers_year(seed=seed, log=say)

    def _generate_assessment(self, say) -> None:
        from gongzhi.assessment.demo import SHOWCASE_LOGINS, generate_assessment
        from gongzhi.registry.models import Region

        ensure_demo_logins(password=None, only=SHOWCASE_LOGINS)
        county = Region.objects.filter(level=1).order_by("code").first()
        say(f"    {generate_assessment(county=county).summary()}")

    def _similar_reports(self, say) -> None:
        """Three residents of the demo village report the same broken road through the residents'
        page, so the village secretary (login ``village``) finds a cluster to put on the agenda."""
        from gongzhi.cases.models import CaseCategory
        from gongzhi.intake.channel import intake_actor
        from gongzhi.intake.services import IntakeInput, intake_submit
        from gongzhi.registry.models import Grid, Person, PersonStatus

        from ...logins import demo_login_plan

        village = next((p.region for p in demo_login_plan() if p.username == "village"), None)
        grid = Grid.objects.filter(village_id=getattr(village, "pk", None), children__isnull=True).order_by("code").first()
        from django.db.models import Q

        mine = Q(county_id=getattr(village, "county_id", None)) | Q(county__isnull=True)
        category = (CaseCategory.objects.filter(mine, active=True, code="demand-roads-transport").order_by("-county_id")
                    .first() or CaseCategory.objects.filter(mine, active=True, ledger="demand").order_by("code").first())
        if village is None or grid is None or category is None:
            return
        residents = list(Person.objects.filter(household__grid=grid, status=PersonStatus.ACTIVE).order_by("pk")[:3])
        texts = ["组里的通组路被山洪冲坏了，下雨天没法走", "通组路垮了一段，娃娃上学要绕远路",
                 "路基被冲空，三轮车过不去，请尽快修"]
        for i, (person, text) in enumerate(zip(residents, texts)):
            data = IntakeInput(description=text, title=f"{grid.name}通组路损毁", region=grid.region, grid=grid,
                               category=category, requester_name=person.name, requester_phone=person.phone)
            intake_submit(actor=intake_actor(territory=grid.region), channel="web", data=data, scope="web",
                          key=f"demo-similar-{village.pk}-{i}",
                          answer=lambda case, sub: {"tracking_code": case.tracking_code})
        say(f"    {village.name}: {len(residents)} residents reported the same road (a cluster for the agenda)")

    def _generate_cases(self, seed: int) -> None:
        from gongzhi.cases.demo import generate_cases
        from gongzhi.registry.models import Region, RegionLevel

        county = Region.objects.filter(level=RegionLevel.COUNTY).order_by("code").first()
        summary = generate_cases(county, 600, seed=seed)
        self.stdout.write(f"generated {sum(summary.get('by_status', {}).values()) or 600} cases")

    def _start_in_process_sweeps(self, say) -> None:
        """The demo has no Celery worker: run the deadline sweeps in a daemon thread instead."""
        import threading

        interval = 300

        def loop():
            import time

            from django.db import close_old_connections

            while True:
                time.sleep(interval)
                close_old_connections()
                for command in ("sweep_deadlines", "care_sweep_visits", "purge_rosters"):
                    try:
                        call_command(command, verbosity=0)
                    except Exception as exc:  # keep the demo serving; the next pass retries
                        self.stderr.write(f"{command} failed: {exc}")
                try:  # the village layer's warnings (overdue decision tasks, term ends, late publicity)
                    from gongzhi.village.sweeps import sweep_all

                    sweep_all()
                except Exception as exc:
                    self.stderr.write(f"village sweep failed: {exc}")
                try:  # linking up: stale lists, overdue fast-track requests
                    from gongzhi.linking.sweeps import sweep_all as linking_sweep

                    linking_sweep()
                except Exception as exc:
                    self.stderr.write(f"linking sweep failed: {exc}")
                try:  # Open311 receipts an in-process registration could not take (beat does this in production)
                    from gongzhi.intake.receipts import register_received

                    register_received()
                except Exception as exc:
                    self.stderr.write(f"registering received submissions failed: {exc}")

        threading.Thread(target=loop, name="gongzhi-demo-sweeps", daemon=True).start()
        say(f"==> deadline and visit sweeps run in-process every {interval} s (no Celery needed in the demo)")
