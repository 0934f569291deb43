"""The seed's rules and limits as default rows (county NULL); counties edit their own copies.

Installed by migration 0002 and re-ensured after every migrate/flush (``ensure_defaults`` on
``post_migrate``), so a database flushed by a test run never loses them.
"""

DEFAULT_RULES = [
    # 连心户: left-behind members, poor, disabled members, someone released from prison, or on the
    # return-to-poverty watch list. Each is its own group: any one suffices.
    ("red", 1, "left_behind", {"kinds": ["elderly", "child", "woman"]}),
    ("red", 2, "poverty_status", {"statuses": ["monitored", "low_income", "extreme"]}),
    ("red", 3, "disabled_member", {"max_grade": 4}),
    ("red", 4, "released_member", {"within_years": 5}),
    ("red", 5, "on_watch_list", {}),
    # 关心户: income below the village average AND not a peaceful family in the last two years.
    ("yellow", 1, "income_vs_average", {"relation": "below", "basis": "per_capita"}),
    ("yellow", 1, "not_peaceful_recent", {"years": 2}),
    # 放心户: income above the village average AND a peaceful family three years running.
    ("green", 1, "income_vs_average", {"relation": "above", "basis": "per_capita"}),
    ("green", 1, "peaceful_running", {"years": 3}),
]

# Party members and deputies: 3–5 households each (seed). Central household heads serve "the
# households around them"; 15 is our default ceiling, a county changes it.
DEFAULT_LIMITS = [("party_member", 3, 5), ("deputy", 3, 5), ("central_head", 3, 15)]


def install_defaults(ClassRule, LineLimit) -> None:
    if not ClassRule.objects.filter(county__isnull=True).exists():
        ClassRule.objects.bulk_create([ClassRule(county=None, colour=c, group=g, kind=k, params=p)
                                       for c, g, k, p in DEFAULT_RULES])
    if not LineLimit.objects.filter(county__isnull=True).exists():
        LineLimit.objects.bulk_create([LineLimit(county=None, line=line, min_households=low, max_households=high)
                                       for line, low, high in DEFAULT_LIMITS])


def ensure_defaults(sender=None, using="default", **kwargs):
    from .models import ClassRule, LineLimit

    install_defaults(ClassRule, LineLimit)
