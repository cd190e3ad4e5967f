import pytest

from tests.factories_okr import CycleFactory


@pytest.fixture
def cycle(org):
    return CycleFactory(organization=org, name="Q2 2026")
