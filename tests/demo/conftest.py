import pytest
from django.core.management import call_command

# Small enough to keep the suite fast, big enough for several grids per village and for every
# party member to find 3-5 households.
SMALL = ["--towns", "2", "--villages-per-town", "3", "--households", "360", "--seed", "7"]


@pytest.fixture
def county(db):
    """A generated county with the demo logins, returned as the generator's spec."""
    call_command("generate", *SMALL, verbosity=0)
    from gongzhi.demo.generator import CountySpec

    return CountySpec(towns=2, villages_per_town=3, households=360, seed=7)
