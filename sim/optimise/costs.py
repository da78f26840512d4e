"""What a package costs a city per year, at full scale, whatever scale it is simulated at.

**A yuan per year** here is the package's running cost per year plus its set-up cost spread evenly
over ``amortisation_years`` (straight-line, no discounting):
``annual = running + setup / amortisation_years``. It is the cost of the whole city's package (the
full-scale city, all its counties), so a budget means the same at scale 0.1 as at scale 1.

Each intervention's cost is its own :meth:`sim.interventions.base.Intervention.cost`, after it is
put in place on the full-scale city, on a model kept for that kind of intervention. The models of
one city share its full-scale residents, built once (as a run's replicates share them): the
population is most of a model's cost, so costing a new kind takes a fraction of a second once it
exists, and a new size of a kind only its placement. An intervention's placement rule is set back to its
default first, since explicit sites belong to the simulated scale and the count is what is paid for.
Costs of different interventions add up; interactions (e.g. home visits taking patrol units that a
hot-spot rota also wants) are not costed. ``pingan optimise SCENARIO --cost`` prints a scenario's package cost.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass

from sim.interventions import REGISTRY, Cost

__all__ = ["PackageCost", "package_cost", "intervention_cost"]


@dataclass(frozen=True)
class PackageCost:
    """A package's cost at full scale.

    Attributes:
        setup_yuan: One-off set-up cost [yuan].
        running_yuan_per_year: Running cost [yuan per year].
        amortisation_years: Years the set-up cost is spread over.
        by_intervention: Each enabled intervention's annual cost [yuan per year].
    """

    setup_yuan: float
    running_yuan_per_year: float
    amortisation_years: float
    by_intervention: dict[str, float]

    @property
    def annual_yuan(self) -> float:
        """Running cost plus set-up spread over the amortisation years [yuan per year]."""
        return self.running_yuan_per_year + self.setup_yuan / self.amortisation_years


@functools.lru_cache(maxsize=2)
def _full_scale_population(city_json: str, residents_json: str):
    """The full-scale city and its residents (built once per city: every costing model shares them)."""
    from sim.agents.residents import ResidentParams, build_residents
    from sim.space.city import CityParams, build_city

    city = build_city(CityParams.model_validate_json(city_json), 1.0)
    return city, build_residents(city, ResidentParams.model_validate_json(residents_json))


@functools.lru_cache(maxsize=16)
def _costing_model(setting_json: str, key: str):
    """A full-scale model to put interventions of kind ``key`` in place on, built on the shared population.

    One model per intervention kind: putting several kinds in place on one model would let one change
    what the next finds (e.g. patrol units already on a rota).
    """
    from sim.model import PinganModel
    from sim.scenario.schema import Scenario

    del key  # part of the cache key only
    setting = Scenario.model_validate_json(setting_json)
    city, residents = _full_scale_population(setting.city.model_dump_json(), setting.residents.model_dump_json())
    return PinganModel(setting, seed=0, scale=1.0, city=city, residents=residents)


@functools.lru_cache(maxsize=4096)
def _cost(setting_json: str, key: str, params_json: str) -> Cost:
    cls = REGISTRY[key]
    params = cls.Params.model_validate_json(params_json)
    if "sites" in cls.Params.model_fields:
        default = cls.Params.model_fields["placement"].default
        params = params.model_copy(update={"placement": default, "sites": None})
    iv = cls(params)
    iv.activate(_costing_model(setting_json, key).context)  # interventions act on the narrow context
    return iv.cost()


def _setting(scenario) -> str:
    """The scenario without its interventions and with no warm-up: where an intervention is costed."""
    data = json.loads(scenario.model_dump_json())
    data["interventions"] = {}
    data["run"].update(warmup_days=0, years=1, intervention_year=None)
    return json.dumps(data, sort_keys=True)


def intervention_cost(scenario, key: str) -> Cost:
    """The full-scale cost of one intervention of ``scenario`` (enabled or not, as if enabled)."""
    params = getattr(scenario.interventions, key)
    return _cost(_setting(scenario), key, params.model_dump_json())


def package_cost(scenario, amortisation_years: float) -> PackageCost:
    """The full-scale cost of every enabled intervention of ``scenario``.

    Args:
        scenario: A validated scenario.
        amortisation_years: Years over which set-up costs are spread.
    """
    setup = running = 0.0
    by: dict[str, float] = {}
    for key in scenario.enabled_interventions():
        c = intervention_cost(scenario, key)
        setup += c.setup_yuan
        running += c.running_yuan_per_year
        by[key] = c.running_yuan_per_year + c.setup_yuan / amortisation_years
    return PackageCost(setup, running, float(amortisation_years), by)
