"""``gongzhi generate``: build a realistic county, deterministic from ``--seed``.

    gongzhi generate                         # the demo county: 2 towns, 8 villages, 3,000 households
    gongzhi generate --size hanyin           # 10 towns, 160 villages, 100,000 households
    gongzhi generate --size million --clear  # 1,000,000 households (PostgreSQL: a few minutes)
    gongzhi generate --towns 3 --villages-per-town 5 --households 800 --seed 7
    gongzhi generate --size million --clear --cases 1000000   # … and a million open cases
    gongzhi generate --size hanyin --cases 600   # … with a year of village governance and of linking up

Bulk path: rows are written with COPY (PostgreSQL) or bulk_create (SQLite), not through the
registry services, and the run writes one audit row (action "generate"); see gongzhi/demo/bulk.py.
"""
import datetime as dt

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from gongzhi.demo.bulk import RegistryNotEmpty, generate_county
from gongzhi.demo.generator import PRESETS, CountySpec
from gongzhi.demo.logins import DEMO_PASSWORD, ensure_demo_logins, login_table


def add_size_arguments(parser) -> None:
    parser.add_argument("--size", choices=sorted(PRESETS), default="small",
                        help="preset: small (the demo, default), hanyin (100k households), million")
    parser.add_argument("--towns", type=int, help="towns and subdistricts (overrides the preset)")
    parser.add_argument("--villages-per-town", type=int, help="villages and communities per town")
    parser.add_argument("--households", type=int, help="households in the whole county")
    parser.add_argument("--subdistricts", type=int, help="how many of the towns are subdistricts (街道)")
    parser.add_argument("--seed", type=int, default=321, help="same seed and size give the same data (default 321)")
    parser.add_argument("--as-of", type=dt.date.fromisoformat, default=None,
                        help="the date ages and histories are computed at (default 2026-07-01, fixed for determinism)")


def spec_from_options(options) -> CountySpec:
    extra = {"as_of": options["as_of"]} if options.get("as_of") else {}
    try:
        spec = CountySpec.from_preset(
            options["size"], towns=options["towns"], villages_per_town=options["villages_per_town"],
            households=options["households"], subdistricts=options["subdistricts"], seed=options["seed"], **extra,
        )
        spec.check()
    except ValueError as exc:
        raise CommandError(str(exc)) from None
    return spec


def clear_generated_years(log) -> None:
    """Before ``--clear`` detaches the registry: the assessment, the linking year, then the village year (linking
    needs point at village meetings), each through its own clear, which knows the order its rows
    refer to each other in (follow-up visits, corrected notices) where a blanket delete stops."""
    from gongzhi.linking.demo import clear_linking_year
    from gongzhi.registry.models import Region
    from gongzhi.village.demo import clear_village_year

    from gongzhi.assessment.demo import clear_assessment
    from gongzhi.resources.demo import clear_resources_year

    for county in Region.objects.filter(level=1).order_by("code"):
        # The assessment scores cases and names villages: it goes first.
        clear_assessment(county)
        # Linking's resource lists point into the inventory: linking first, then the inventory.
        linking = clear_linking_year(county)
        resources, village = clear_resources_year(county), clear_village_year(county)
        if linking or village or resources:
            log(f"  {county.name}: {linking:,} linking, {resources:,} resources and {village:,} village rows deleted")


def run_generation(command: BaseCommand, spec: CountySpec, *, clear: bool, verbosity: int):
    out = command.stdout

    def log(message):
        if verbosity >= 1:
            out.write(message)

    step = max(1, spec.villages // 10)

    def progress(done, total, elapsed):
        if verbosity >= 1 and total >= 20 and (done % step == 0 or done == total):
            out.write(f"  {done}/{total} villages · {elapsed:.1f} s")

    log(f"generating {spec.towns} towns × {spec.villages_per_town} villages, {spec.households:,} households "
        f"(seed {spec.seed}) …")
    try:
        with transaction.atomic():  # the years go only if the new county comes
            if clear:
                clear_generated_years(log)
            result = generate_county(spec, clear=clear, log=log, progress=progress)
    except RegistryNotEmpty as exc:
        raise CommandError(str(exc)) from None
    counts = result.counts
    log(command.style.SUCCESS(
        f"generated {counts['household']:,} households, {counts['person']:,} persons, {counts['grid']:,} grids, "
        f"{counts['contactassignment']:,} contact assignments — {result.rows:,} rows in {result.seconds:.1f} s "
        f"({result.rows / result.seconds:,.0f} rows/s)"))
    return result


def generate_cases_for(command: BaseCommand, n: int, *, seed: int, verbosity: int):
    from gongzhi.demo.bulk import generate_open_cases
    from gongzhi.registry.models import Region

    county = Region.objects.filter(level=1).order_by("code").first()

    def log(message):
        if verbosity >= 1:
            command.stdout.write(message)

    log(f"generating {n:,} open cases …")
    result = generate_open_cases(county, n, seed=seed, log=log)
    numbers = ", ".join(f"{year}: {first}–{last}" for year, (first, last) in result.numbers.items())
    log(command.style.SUCCESS(f"generated {result.cases:,} open cases in {result.seconds:.1f} s "
                              f"({result.cases / max(result.seconds, 1e-9):,.0f}/s); numbers {numbers}"))
    return result


class Command(BaseCommand):
    help = "Generate a realistic demo county (deterministic from --seed), with one demo login per role."

    def add_arguments(self, parser):
        add_size_arguments(parser)
        parser.add_argument("--clear", action="store_true",
                            help="delete the existing registry (and whatever refers to it) first")
        parser.add_argument("--no-logins", action="store_true",
                            help="do not create the demo logins (they share one known password, superuser "
                                 "'admin' included: use this or --password on any server others can reach)")
        parser.add_argument("--password", default=DEMO_PASSWORD, help=f"demo password (default {DEMO_PASSWORD})")
        parser.add_argument("--digest", action="store_true", help="print a digest of the generated data")
        parser.add_argument("--cases", type=int, default=0,
                            help="also generate this many open cases (residents' matters) in the county, "
                                 "received over the last year (COPY on PostgreSQL; default 0), then a year of "
                                 "village governance and a year of linking up on them")

    def handle(self, *args, **options):
        spec = spec_from_options(options)
        if options["cases"] < 0:
            raise CommandError("--cases must not be negative")
        run_generation(self, spec, clear=options["clear"], verbosity=options["verbosity"])
        if options["cases"]:
            generate_cases_for(self, options["cases"], seed=options["seed"], verbosity=options["verbosity"])
            # A year of village governance stands on the cases (agenda items come from them).
            from gongzhi.village.demo import generate_village_year

            r = generate_village_year(seed=options["seed"], replace=True)
            if options["verbosity"] >= 1:
                self.stdout.write(f"village governance: {r.villages} villages, {r.consultations} consultations, "
                                  f"{r.problems_solved} problems solved ({r.seconds:.1f} s)")
            # A year of linking up stands on the village year (needs from its meetings) and the
            # cases (needs from residents' matters); its showcase is acted by three demo logins,
            # made here without a password (given below) unless --no-logins.
            from gongzhi.linking.demo import SHOWCASE_LOGINS, generate_linking_year

            if not options["no_logins"]:
                ensure_demo_logins(password=None, only=SHOWCASE_LOGINS)
            log = self.stdout.write if options["verbosity"] >= 2 else (lambda message: None)
            r = generate_linking_year(seed=options["seed"], replace=True, log=log)
            if options["verbosity"] >= 1:
                self.stdout.write(f"linking up: {r.summary()}")
        if options["digest"]:
            from gongzhi.demo.digest import registry_digest

            self.stdout.write(f"digest {registry_digest()}")
        if not options["no_logins"]:
            plan = ensure_demo_logins(password=options["password"])
            if options["verbosity"] >= 1:
                self.stdout.write(login_table(plan, options["password"]))
