"""Small real result folders of every kind, made with the same API the command line uses."""

from __future__ import annotations

from pathlib import Path

from sim.experiments.compare import run_compare
from sim.experiments.designs import load_sweep, make_design
from sim.experiments.runner import run_scenario
from sim.experiments.sensitivity import analyze, sensitivity_design
from sim.experiments.sweep import run_sweep
from sim.outputs.experiments import SweepStore, finish_sweep, save_compare, save_sensitivity
from sim.outputs.report import save_run
from sim.spec.loader import load_scenario
from tests.conftest import DATA

SMALL = DATA / "small.toml"
SEED = 7


def variant(tmp: Path, name: str, body: str) -> Path:
    """A scenario file in ``tmp`` that extends the small test scenario."""
    path = tmp / f"{name}.toml"
    path.write_text(f'extends = "{SMALL.as_posix()}"\ndescription = "{name} (tests)"\n{body}')
    return path


def build_run(out: Path, scenario: Path = SMALL, replications: int = 16) -> Path:
    result = run_scenario(load_scenario(scenario), replications, SEED, workers=1)
    return save_run(result, out, figures=False)


#: The variant compared with the small scenario: twice the cap, half the places.
CAP_DOUBLED = "[schemes.manufacturing_plus]\nmax_grant_hkd = 500_000  # doubled cap\nplaces = 20\n"


def build_compare(tmp: Path, replications: int = 12) -> Path:
    b = variant(tmp, "cap-doubled", CAP_DOUBLED)
    result = run_compare(load_scenario(SMALL), load_scenario(b), replications, SEED, workers=1)
    return save_compare(result, tmp / "compare")


def _sweep_file(tmp: Path, name: str, parameters: list[str], design: str, extra: str = "") -> Path:
    path = tmp / f"{name}.toml"
    text = f'base = "{SMALL.as_posix()}"\nname = "{name}"\ndesign = "{design}"\nreplications = 4\nseed = {SEED}\n'
    text += extra + "".join(f"\n[[parameters]]\n{p}\n" for p in parameters)
    path.write_text(text)
    return path


CAPACITY = 'path = "schemes.manufacturing_plus.vetting.capacity"\nvalues = [2, 4, 8]'
GRANT = 'path = "schemes.manufacturing_plus.max_grant_hkd"\nvalues = [150_000, 250_000, 400_000]'
PLACES = 'path = "schemes.manufacturing_plus.places"\nlow = 20\nhigh = 60\nlevels = 3'
WITHDRAW = 'path = "schemes.manufacturing_plus.vetting.withdraw_probability"\nlow = 0.05\nhigh = 0.4'


def build_sweep(tmp: Path, parameters: list[str], design: str = "grid", extra: str = "") -> Path:
    """A sweep folder over ``parameters`` (TOML bodies of [[parameters]] tables)."""
    name = f"sweep-{len(parameters)}"
    sweep = load_sweep(_sweep_file(tmp, name, parameters, design, extra))
    design_ = make_design(sweep)
    folder = tmp / name
    sink = SweepStore(folder, sweep.definition())
    result = run_sweep(sweep, design_, sink, workers=1)
    return finish_sweep(folder, result)


#: Ranges for the sensitivity designs (which need low and high, not listed values).
SENSITIVITY_PARAMETERS = [
    'path = "schemes.manufacturing_plus.vetting.capacity"\nlow = 2\nhigh = 8\ninteger = true',
    'path = "schemes.manufacturing_plus.max_grant_hkd"\nlow = 150_000\nhigh = 400_000',
    WITHDRAW,
]


def build_sensitivity(tmp: Path, method: str, samples: int) -> Path:
    """A Morris or Sobol' analysis of three Manufacturing+ parameters."""
    extra = 'points = 4\n[sensitivity]\noutputs = ["awarded", "benefit_cost_ratio"]\nresamples = 20\n'
    sweep = load_sweep(_sweep_file(tmp, f"sens-{method}", SENSITIVITY_PARAMETERS, "morris", extra))
    design = sensitivity_design(sweep, method, samples)
    folder = tmp / f"sensitivity-{method}"
    result = run_sweep(sweep, design, SweepStore(folder, sweep.definition()), workers=1)
    indices = analyze(result, method, schemes=("manufacturing_plus",))
    return save_sensitivity(folder, result, indices, method, samples)
