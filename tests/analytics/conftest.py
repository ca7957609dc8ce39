import pytest

from geo_sigap.analytics import _synthetic as S
from geo_sigap.analytics.loaders import place_incidents

HOT_RW = "15.71.11.1002.RW005"
NEW_RW = "15.71.11.1004.RW002"


@pytest.fixture(scope="session")
def units():
    return S.lattice_units()


@pytest.fixture(scope="session")
def incidents(units):
    inc = S.incidents_history(units, hot_rw=HOT_RW, new_rw=NEW_RW)
    return place_incidents(inc, units)
