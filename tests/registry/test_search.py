"""The search box: persons by name, pinyin initials, ID number, phone; households by number and
address; always inside the searcher's scope."""
import datetime as dt

import pytest
from django.urls import reverse

from gongzhi.core.idcard import make_id_number
from gongzhi.registry import services
from gongzhi.registry.selectors import classify_query, household_search, person_search


def names(world, persona, query):
    return {p.name for p in person_search(user=world.user(persona), query=query)}


@pytest.fixture
def x_person(world):
    """A member of household A1-1 whose ID number ends in X."""
    seq = 900
    while not (number := make_id_number("610921", dt.date(1975, 2, 3), seq, True)).endswith("X"):
        seq += 1
    return services.person_create(actor=world.system, household=world.households["A1-1"], relation="parent",
                                  name="张老汉", id_number=number, phone="0915-5212345")


@pytest.mark.parametrize("query", ["zjg", "ZJG", "zj", "ｚｊｇ", " zjg "])
def test_pinyin_initials_find_by_prefix(world, query):
    assert "张建国" in names(world, "town_secretary_a", query)


def test_initials_do_not_match_in_the_middle(world):
    assert names(world, "town_secretary_a", "jg") == set()


def test_part_of_a_name_finds_the_person(world):
    assert names(world, "town_secretary_a", "建国") == {"张建国"}


def test_a_full_id_number_is_matched_exactly_after_normalising(world, x_person):
    full_width_lower = x_person.id_number[:-1].translate(str.maketrans("0123456789", "０１２３４５６７８９")) + "x"
    assert names(world, "grid_worker_a1_1", full_width_lower) == {"张老汉"}
    assert names(world, "grid_worker_a1_1", x_person.id_number.lower()) == {"张老汉"}
    spaced = f"{x_person.id_number[:6]} {x_person.id_number[6:14]} {x_person.id_number[14:]}"
    assert names(world, "grid_worker_a1_1", spaced) == {"张老汉"}


def test_the_last_digits_of_an_id_number_find_the_person(world, x_person):
    assert "张老汉" in names(world, "grid_worker_a1_1", x_person.id_number[-4:])
    assert "张老汉" in names(world, "grid_worker_a1_1", x_person.id_number[-6:].lower())
    head = world.persons["A1-1"]
    assert "张建国" in names(world, "grid_worker_a1_1", head.id_number[-5:])


def test_a_phone_is_found_whole_or_by_its_last_digits(world, x_person):
    assert names(world, "town_secretary_a", "13812345678") == {"张建国"}
    assert names(world, "town_secretary_a", "138 1234 5678") == {"张建国"}
    assert names(world, "town_secretary_a", "5678") == {"张建国"}
    assert names(world, "town_secretary_a", "09155212345") == {"张老汉"}  # landline without its dash
    assert names(world, "town_secretary_a", "0915-5212345") == {"张老汉"}


def test_fewer_than_four_digits_find_nothing(world):
    assert classify_query("678") == ("", "678")
    assert names(world, "town_secretary_a", "678") == set()


def test_search_stays_in_scope(world):
    assert names(world, "outsider_b", "zjg") == set()
    assert names(world, "grid_worker_a1_1", "lxy") == set()  # 李秀英 is in the next grid
    assert names(world, "village_secretary_a1", "lxy") == {"李秀英"}
    assert names(world, "three_line_a1", "刘") == {"刘桂兰"}
    assert names(world, "department_handler", "zjg") == set()


def test_households_are_found_by_number_and_address(world):
    town = world.user("town_secretary_a")
    assert [h.code for h in household_search(user=town, query="h-a1-2")] == ["H-A1-2"]
    assert [h.code for h in household_search(user=town, query="月河村")] == ["H-A2"]
    assert list(household_search(user=world.user("outsider_b"), query="月河村")) == []
    assert list(household_search(user=town, query="月")) == []  # one character is too little


def test_the_search_page_shows_masked_values_and_links(world, login):
    client = login(world.user("grid_worker_a1_1"))
    response = client.get(reverse("registry:search"), {"q": "zjg"})
    html = response.content.decode()
    head = world.persons["A1-1"]
    assert response.status_code == 200
    assert "张建国" in html and "138****5678" in html and head.id_number[:6] + "********" in html
    assert head.id_number not in html and "13812345678" not in html
    assert reverse("registry:person", args=[head.pk]) in html
    assert reverse("registry:household", args=[world.households["A1-1"].pk]) in html


def test_the_search_page_finds_households_too(world, login):
    html = login(world.user("town_secretary_a")).get(reverse("registry:search"), {"q": "H-A1"}).content.decode()
    assert reverse("registry:household", args=[world.households["A1-1"].pk]) in html
    assert reverse("registry:household", args=[world.households["A1-2"].pk]) in html
    assert "2 户" in html


def test_the_search_page_hints_when_too_few_digits(world, login):
    html = login(world.user("town_secretary_a")).get(reverse("registry:search"), {"q": "12"}).content.decode()
    assert "至少输入4位数字" in html


def test_the_search_page_is_paginated_without_extra_queries(world, login, django_assert_max_num_queries):
    household = world.households["A1-2"]
    for i in range(25):
        services.person_create(actor=world.system, household=household, relation="child", name=f"李{i:02d}",
                               id_number=make_id_number("610921", dt.date(1990, 1, 1), 300 + i, True))
    client = login(world.user("village_secretary_a1"))
    with django_assert_max_num_queries(10):
        first = client.get(reverse("registry:search"), {"q": "李"}).content.decode()
    # 27 persons by name, 20 a page: 李00 … 李19, then 李20 … 李24, 李强, 李秀英
    assert "共 2 页" in first and "27 人" in first and "李00" in first and "李19" in first and "李20" not in first
    second = client.get(reverse("registry:search"), {"q": "李", "page": 2}).content.decode()
    assert "李20" in second and "李强" in second and "李00" not in second


def test_the_search_page_stays_in_scope(world, login):
    services.person_create(actor=world.system, household=world.households["B1"], relation="child", name="赵小花",
                           id_number=make_id_number("610921", dt.date(2010, 5, 5), 77, False))
    html = login(world.user("town_secretary_a")).get(reverse("registry:search"), {"q": "赵"}).content.decode()
    assert "赵小花" not in html and "赵春花" not in html and "0 人" in html
    html = login(world.user("outsider_b")).get(reverse("registry:search"), {"q": "赵"}).content.decode()
    assert "赵小花" in html and "赵春花" in html
