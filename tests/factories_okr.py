"""factory_boy factories for cycles, objectives, key results and initiatives.

Children derive their organization from their parent (`KeyResultFactory(objective=o)` sets
`organization=o.organization`), so a fixture cannot mix tenants by accident.
"""

from datetime import date, timedelta

import factory

from initiatives.models import Initiative
from objectives.models import Contribution, Cycle, KeyResult, Objective
from tests.factories import OrganizationFactory


class CycleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Cycle

    organization = factory.SubFactory(OrganizationFactory)
    name = factory.Sequence(lambda n: f"Q{n % 4 + 1} {2026 + n // 4} #{n}")
    kind = Cycle.Kind.QUARTER
    status = Cycle.Status.ACTIVE
    start_date = factory.LazyFunction(lambda: date.today() - timedelta(days=45))
    end_date = factory.LazyFunction(lambda: date.today() + timedelta(days=45))


class ObjectiveFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Objective

    cycle = factory.SubFactory(CycleFactory)
    organization = factory.LazyAttribute(lambda o: o.cycle.organization)
    title = factory.Sequence(lambda n: f"Delight customers #{n}")
    level = Objective.Level.COMPANY
    status = Objective.Status.ACTIVE
    visibility = Objective.Visibility.ORGANIZATION


class KeyResultFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = KeyResult

    objective = factory.SubFactory(ObjectiveFactory)
    organization = factory.LazyAttribute(lambda o: o.objective.organization)
    owner = factory.LazyAttribute(lambda o: o.objective.owner)
    title = factory.Sequence(lambda n: f"Increase weekly active teams #{n}")
    kind = KeyResult.Kind.INCREASE
    unit = KeyResult.Unit.NUMBER
    baseline = 0
    target = 100
    current = 50
    status = factory.LazyAttribute(lambda o: KeyResult.Status.ACTIVE if o.owner else KeyResult.Status.DRAFT)


class InitiativeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Initiative

    key_result = factory.SubFactory(KeyResultFactory)
    organization = factory.LazyAttribute(lambda o: o.key_result.organization)
    owner = factory.LazyAttribute(lambda o: o.key_result.owner)
    title = factory.Sequence(lambda n: f"Try guided setup #{n}")
    hypothesis = "Guided setup removes the blank-page problem."
    status = Initiative.Status.IN_PROGRESS


class ContributionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contribution

    objective = factory.SubFactory(ObjectiveFactory)
    organization = factory.LazyAttribute(lambda o: o.objective.organization)
    key_result = factory.SubFactory(
        KeyResultFactory,
        objective=factory.SubFactory(ObjectiveFactory, cycle=factory.SelfAttribute("...objective.cycle")),
    )
    weight = 1
