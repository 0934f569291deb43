"""The points ledger: append-only and balanced in the database itself; a property test that no
sequence of operations creates or loses points; two redemptions racing for the last item or the
last points never both succeed (PostgreSQL, real threads)."""
from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.db.models import Sum
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gongzhi.volunteers import selectors, services
from gongzhi.volunteers.models import (
    AccountKind, CatalogueItem, PointsAccount, PointsPosting, PointsTransaction, Redemption, RedemptionStatus,
)

from .conftest import earn, make_corps, make_task

pg_only = pytest.mark.skipif(connection.vendor != "postgresql",
                             reason="needs PostgreSQL triggers, row locks and concurrent connections")


def _invariants(county_id):
    postings = PointsPosting.objects.filter(account__county_id=county_id)
    assert (postings.aggregate(n=Sum("amount"))["n"] or 0) == 0, "points were created or lost"
    for txn in PointsTransaction.objects.filter(county_id=county_id):
        assert sum(p.amount for p in txn.postings.all()) == 0, f"transaction {txn.pk} does not balance"
    for account in PointsAccount.objects.filter(county_id=county_id):
        total = account.postings.aggregate(n=Sum("amount"))["n"] or 0
        assert account.balance == total, f"{account} caches {account.balance}, holds {total}"
        if account.kind in (AccountKind.VOLUNTEER, AccountKind.REDEMPTION, AccountKind.EXPIRY):
            assert account.balance >= 0
    system = {a.kind: a.balance for a in PointsAccount.objects.filter(county_id=county_id, volunteer__isnull=True)}
    held = PointsAccount.objects.filter(county_id=county_id, kind=AccountKind.VOLUNTEER).aggregate(
        n=Sum("balance"))["n"] or 0
    issued, redeemed = -system.get("issuance", 0), system.get("redemption", 0)
    expired, corrected = system.get("expiry", 0), -system.get("correction", 0)
    assert held == issued - redeemed - expired + corrected


@pg_only
def test_the_ledger_tables_are_append_only(corps):
    earn(corps, corps.plain)
    posting = PointsPosting.objects.first()
    for statement in ("UPDATE volunteers_pointsposting SET amount = amount + 1 WHERE id = %s",
                      "DELETE FROM volunteers_pointsposting WHERE id = %s",
                      "UPDATE volunteers_pointstransaction SET reason = 'x' WHERE id = %s"):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(statement, [posting.pk if "posting" in statement else posting.transaction_id])


@pg_only
def test_an_unbalanced_transaction_cannot_commit(corps):
    earn(corps, corps.plain)
    txn = PointsTransaction.objects.first()
    account = PointsAccount.objects.get(volunteer=corps.plain)
    with pytest.raises(IntegrityError, match="does not balance"), transaction.atomic():
        PointsPosting.objects.create(transaction=txn, account=account, amount=5, created_at=txn.created_at)
        with connection.cursor() as cursor:  # what COMMIT would do: run the deferred check now
            cursor.execute("SET CONSTRAINTS volunteers_posting_balanced IMMEDIATE")


def test_a_volunteer_balance_cannot_go_negative_even_by_hand(corps):
    account = PointsAccount.objects.get(volunteer=corps.plain)
    with pytest.raises(IntegrityError), transaction.atomic():
        PointsAccount.objects.filter(pk=account.pk).update(balance=-1)


OPS = st.lists(st.tuples(st.sampled_from(["earn", "redeem", "cancel", "correct", "expire", "deliver"]),
                         st.integers(min_value=0, max_value=2), st.integers(min_value=-40, max_value=40)),
               min_size=1, max_size=14)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                   HealthCheck.too_slow])
@given(ops=OPS)
def test_no_sequence_of_operations_creates_or_loses_points(corps, ops):
    """Random earn / redeem / cancel / correct / expire / deliver steps; refused ones (too few
    points, no stock, nothing to cancel) must leave no trace; after every step the ledger balances."""
    from django.utils import timezone

    from gongzhi.volunteers.sweeps import sweep_expiry

    cs = corps.world.user("county_secretary")
    people = [corps.lawyer, corps.plain, corps.self_]
    with transaction.atomic():  # each example rolls back, so examples do not see each other
        item = services.catalogue_item_save(actor=cs, county=corps.county, name="米一袋", provider="村超市",
                                            points_cost=15, stock=3)
        task = make_task(corps, slots=50)
        for op, who, n in ops:
            volunteer = people[who]
            before = (PointsTransaction.objects.count(), CatalogueItem.objects.get(pk=item.pk).stock)
            try:
                with transaction.atomic():
                    if op == "earn":
                        earn(corps, volunteer, hours=1 + abs(n) % 3, task=task if who else None)
                    elif op == "redeem":
                        services.redemption_create(actor=corps.secretary, volunteer=volunteer, item=item,
                                                   quantity=1 + abs(n) % 3)
                    elif op in ("cancel", "deliver"):
                        r = Redemption.objects.filter(status=RedemptionStatus.PLACED).order_by("?").first()
                        if r is None:
                            raise ValidationError("nothing to do")
                        if op == "cancel":
                            services.redemption_cancel(actor=corps.secretary, redemption=r, reason="测试取消")
                        else:
                            services.redemption_deliver(actor=corps.secretary, redemption=r)
                    elif op == "correct":
                        services.points_correct(actor=cs, volunteer=volunteer, amount=n or 1, reason="核对更正")
                    else:
                        services.points_settings_save(actor=cs, county=corps.county, expiry_months=1 + abs(n) % 2,
                                                      yearly_cap=0)
                        sweep_expiry(now=timezone.now() + timezone.timedelta(days=40 + abs(n)))
            except ValidationError:
                after = (PointsTransaction.objects.count(), CatalogueItem.objects.get(pk=item.pk).stock)
                assert after == before, f"a refused {op} left a trace"
            _invariants(corps.county.pk)
            stock = CatalogueItem.objects.get(pk=item.pk).stock
            placed_or_delivered = sum(Redemption.objects.exclude(status=RedemptionStatus.CANCELLED)
                                      .values_list("quantity", flat=True))
            assert stock + placed_or_delivered == 3, "stock was created or lost"
        transaction.set_rollback(True)


def _racing_world():
    from tests.world import build_world

    world = build_world()
    corps = make_corps(world)
    return world, corps


@pg_only
@pytest.mark.django_db(transaction=True)
def test_two_redemptions_racing_for_the_last_item_do_not_both_succeed():
    from tests.intake.conftest import race

    world, corps = _racing_world()
    cs = world.user("county_secretary")
    earn(corps, corps.plain, hours=3)
    earn(corps, corps.self_, hours=3)
    item = services.catalogue_item_save(actor=cs, county=corps.county, name="最后一台电饭煲", provider="县供销社",
                                        points_cost=10, stock=1)
    people = [corps.plain, corps.self_]
    results, errors = race(2, lambda i: services.redemption_create(
        actor=world.user("village_secretary_a1"), volunteer=people[i], item=CatalogueItem(pk=item.pk), quantity=1))
    assert len(errors) == 1 and isinstance(errors[0], ValidationError), errors
    assert "库存不足" in errors[0].message_dict["quantity"][0]
    item.refresh_from_db()
    assert item.stock == 0 and Redemption.objects.count() == 1
    _invariants(corps.county.pk)


@pg_only
@pytest.mark.django_db(transaction=True)
def test_two_redemptions_racing_for_the_last_points_do_not_both_succeed():
    from tests.intake.conftest import race

    world, corps = _racing_world()
    cs = world.user("county_secretary")
    earn(corps, corps.plain, hours=2)  # 20 points
    items = [services.catalogue_item_save(actor=cs, county=corps.county, name=f"服务券{i}", provider="村卫生室",
                                          points_cost=15, stock=5) for i in range(2)]
    results, errors = race(2, lambda i: services.redemption_create(
        actor=world.user("village_secretary_a1"), volunteer=corps.plain, item=CatalogueItem(pk=items[i].pk)))
    assert len(errors) == 1 and isinstance(errors[0], ValidationError), errors
    assert "积分不足：现有5分" in errors[0].message_dict["points"][0]
    assert PointsAccount.objects.get(volunteer=corps.plain).balance == 5
    assert sum(CatalogueItem.objects.values_list("stock", flat=True)) == 9  # the refused one's stock is back
    _invariants(corps.county.pk)


@pg_only
@pytest.mark.django_db(transaction=True)
def test_two_expiry_sweeps_at_once_expire_each_point_once():
    from django.utils import timezone

    from gongzhi.volunteers.sweeps import sweep_expiry
    from tests.intake.conftest import race

    world, corps = _racing_world()
    for volunteer in (corps.plain, corps.self_, corps.lawyer):
        earn(corps, volunteer, hours=2)
    later = timezone.now() + timezone.timedelta(days=800)
    results, errors = race(2, lambda i: sweep_expiry(now=later))
    assert not errors, errors
    assert sum(results) == 60
    assert PointsTransaction.objects.filter(kind="expire").count() == 3
    assert selectors.ledger_totals(user=world.user("county_secretary"))["balanced"]
