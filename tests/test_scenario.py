"""Scenario files (sim.scenario): safe loading, inheritance, overrides, and errors that say
which file, which key and what was expected — raised before any simulation starts."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from sim import Scenario, ScenarioError, load_scenario
from sim.params import excerpt
from sim.scenario import builtin_scenarios

SCENARIO_DIR = Path(__file__).resolve().parents[1] / "scenarios"
SHIPPED = sorted(SCENARIO_DIR.glob("*.yaml"))


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def load_error(path, overrides=None) -> str:
    with pytest.raises(ScenarioError) as err:
        load_scenario(path, overrides)
    return str(err.value)


# ------------------------------------------------------------- shipped files
def test_there_are_shipped_scenarios():
    assert {p.stem for p in SHIPPED} >= {"suizhou_baseline", "suizhou_2022"}


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_every_shipped_scenario_validates(path, no_simulation):
    s = load_scenario(path)
    assert isinstance(s, Scenario)
    assert s.name == path.stem
    assert s.city.preset is not None


@pytest.mark.parametrize("name", [p.stem for p in SHIPPED])
def test_built_in_scenarios_resolve_by_name(name, no_simulation):
    assert name in builtin_scenarios()
    assert load_scenario(name) == load_scenario(SCENARIO_DIR / f"{name}.yaml")


def test_the_baseline_has_no_interventions_and_the_package_has_suizhous_four():
    assert load_scenario("suizhou_baseline").enabled_interventions() == {}
    package = load_scenario("suizhou_2022")
    assert set(package.enabled_interventions()) >= {"street_police_stations", "rapid_response_points", "video",
                                                    "crackdown"}
    # Inherited from the baseline it extends.
    assert package.city == load_scenario("suizhou_baseline").city
    assert package.run == load_scenario("suizhou_baseline").run


# ------------------------------------------------------------------ bad input
def test_an_unknown_top_level_key_is_rejected(tmp_path, no_simulation):
    path = write(tmp_path, "s.yaml", """\
        city:
          preset: suizhou
        colour: red
        """)
    msg = load_error(path)
    assert str(path) in msg and "'colour'" in msg and "unknown key" in msg


def test_an_unknown_nested_key_is_rejected(tmp_path, no_simulation):
    path = write(tmp_path, "s.yaml", """\
        interventions:
          video:
            enabled: true
            camras: 1000
        """)
    msg = load_error(path)
    assert str(path) in msg and "interventions.video.camras" in msg and "unknown key" in msg


def test_a_value_of_the_wrong_type_is_rejected(tmp_path, no_simulation):
    path = write(tmp_path, "s.yaml", """\
        interventions:
          video:
            cameras: "many"
        """)
    msg = load_error(path)
    assert str(path) in msg and "interventions.video.cameras" in msg
    assert "integer" in msg and "'many'" in msg


def test_a_negative_count_is_rejected(tmp_path, no_simulation):
    path = write(tmp_path, "s.yaml", """\
        interventions:
          street_police_stations:
            count: -3
        """)
    msg = load_error(path)
    assert str(path) in msg and "interventions.street_police_stations.count" in msg
    assert "greater than or equal to 0" in msg and "-3" in msg


def _nested_file(tmp_path, key: str, value: str, first_lines: tuple[str, ...] = ()):
    """A scenario file setting the dotted ``key`` to ``value`` as nested YAML mappings."""
    head, _, leaf = key.rpartition(".")
    lines, indent = list(first_lines), ""
    for part in head.split("."):
        lines.append(f"{indent}{part}:")
        indent += "  "
    lines.append(f"{indent}{leaf}: {value}")
    return write(tmp_path, "s.yaml", "\n".join(lines) + "\n")


@pytest.mark.parametrize("key, value, expected", [
    ("run.years", "0", "greater than or equal to 1"),
    ("policing.units_per_100k_residents", "-1", "greater than or equal to 0"),
    ("crime.displacement_prob", "1.5", "less than or equal to 1"),
    ("interventions.video.placement", "everywhere", "villages"),
    ("interventions.crackdown.enabled", "maybe", "bool"),
])
def test_out_of_range_values_name_the_key_and_the_range(tmp_path, key, value, expected, no_simulation):
    path = _nested_file(tmp_path, key, value)
    msg = load_error(path)
    assert str(path) in msg and key in msg and expected in msg


def test_an_unknown_crime_type_in_a_campaign_is_rejected(tmp_path, no_simulation):
    path = write(tmp_path, "s.yaml", """\
        interventions:
          crackdown:
            campaigns:
              - {name: x, crime_types: [jaywalking], start_day: 0, days: 10}
        """)
    msg = load_error(path)
    assert "interventions.crackdown.campaigns.0.crime_types" in msg and "jaywalking" in msg and "theft" in msg


def test_an_intervention_starting_outside_the_run_is_rejected(tmp_path, no_simulation):
    path = write(tmp_path, "s.yaml", """\
        run: {first_year: 2021, years: 2}
        interventions:
          video: {enabled: true, start_year: 2030}
        """)
    msg = load_error(path)
    assert "interventions.video.start_year" in msg and "2030" in msg


def test_an_intervention_year_outside_the_run_is_rejected(tmp_path, no_simulation):
    path = write(tmp_path, "s.yaml", """\
        run: {first_year: 2021, years: 2, intervention_year: 2030}
        interventions:
          video: {enabled: true}
        """)
    msg = load_error(path)
    assert "run.intervention_year" in msg and "2030" in msg


def test_an_unknown_city_preset_is_rejected(tmp_path, no_simulation):
    path = write(tmp_path, "s.yaml", """\
        city:
          preset: atlantis
        """)
    msg = load_error(path)
    assert str(path) in msg and "city.preset" in msg and "atlantis" in msg and "suizhou" in msg


def test_a_missing_parent_file_is_reported(tmp_path, no_simulation):
    path = write(tmp_path, "child.yaml", "extends: nope.yaml\n")
    msg = load_error(path)
    assert str(path) in msg and "extends" in msg and "nope.yaml" in msg and "not found" in msg


def test_malformed_yaml_is_reported_with_its_line(tmp_path, no_simulation):
    path = write(tmp_path, "s.yaml", """\
        city:
          preset: suizhou
        run:
          years: [2
        """)
    msg = load_error(path)
    assert str(path) in msg and "malformed YAML" in msg and "line" in msg


def test_a_file_that_is_not_a_mapping_is_rejected(tmp_path, no_simulation):
    path = write(tmp_path, "s.yaml", "- just\n- a list\n")
    msg = load_error(path)
    assert str(path) in msg and "mapping" in msg


def test_circular_extends_is_reported(tmp_path, no_simulation):
    a = write(tmp_path, "a.yaml", "extends: b.yaml\n")
    write(tmp_path, "b.yaml", "extends: a.yaml\n")
    msg = load_error(a)
    assert "circular extends" in msg and "a.yaml" in msg and "b.yaml" in msg


def test_a_missing_scenario_file_is_reported(tmp_path, no_simulation):
    msg = load_error(tmp_path / "nowhere.yaml")
    assert "nowhere.yaml" in msg and "suizhou_baseline" in msg


def test_yaml_is_loaded_safely(tmp_path, no_simulation):
    marker = tmp_path / "pwned"
    path = write(tmp_path, "evil.yaml", f"""\
        name: !!python/object/apply:os.system ["touch {marker}"]
        """)
    msg = load_error(path)
    assert str(path) in msg and "python/object/apply" in msg
    assert not marker.exists()


def test_errors_in_an_inherited_file_name_that_file(tmp_path, no_simulation):
    parent = write(tmp_path, "parent.yaml", """\
        policing:
          hotspot_shares: 0.5
        """)
    child = write(tmp_path, "child.yaml", """\
        extends: parent.yaml
        run: {years: 1}
        """)
    msg = load_error(child)
    assert str(parent) in msg and "policing.hotspot_shares" in msg


# ------------------------------------------------------ inheritance, overrides
def test_extends_merges_nested_keys(tmp_path, no_simulation):
    write(tmp_path, "parent.yaml", """\
        city: {preset: jincheng, seed: 5}
        interventions:
          video: {cameras: 1000, placement: hot_spots}
          crackdown: {enabled: true}
        """)
    child = write(tmp_path, "child.yaml", """\
        extends: parent.yaml
        city: {seed: 9}
        interventions:
          video: {enabled: true}
        """)
    s = load_scenario(child)
    assert s.name == "child"
    assert s.city.preset == "jincheng" and s.city.seed == 9
    assert s.city.population == 2_190_000  # filled from the preset
    video = s.interventions.video
    assert video.enabled and video.cameras == 1000 and video.placement == "hot_spots"
    assert s.interventions.crackdown.enabled


def test_extends_can_name_a_built_in_scenario(tmp_path, no_simulation):
    child = write(tmp_path, "mine.yaml", """\
        extends: suizhou_2022
        interventions:
          video: {enabled: false}
        """)
    s = load_scenario(child)
    enabled = set(s.enabled_interventions())
    assert "video" not in enabled
    assert enabled >= {"street_police_stations", "rapid_response_points", "crackdown"}
    assert s.interventions.rapid_response_points.counties == ["Sui County", "Guangshui"]


def test_set_overrides_a_nested_key(no_simulation):
    s = load_scenario("suizhou_2022", ["interventions.video.cameras=1234", "run.years=3",
                                       "interventions.video.placement=uniform"])
    assert s.interventions.video.cameras == 1234
    assert s.interventions.video.placement == "uniform"
    assert s.interventions.video.enabled  # siblings kept
    assert s.run.years == 3
    assert load_scenario("suizhou_2022").interventions.video.cameras == 54000  # the file is untouched


def test_set_values_are_parsed_as_yaml(no_simulation):
    s = load_scenario("suizhou_baseline", ["policing.units_per_100k_residents=6.5",
                                           "interventions.rapid_response_points.counties=[Guangshui]",
                                           "interventions.video.enabled=true"])
    assert s.policing.units_per_100k_residents == 6.5
    assert s.interventions.rapid_response_points.counties == ["Guangshui"]
    assert s.interventions.video.enabled is True


@pytest.mark.parametrize("override, key, expected", [
    ("interventions.video.cameras=lots", "interventions.video.cameras", "integer"),
    ("interventions.video.camras=3", "interventions.video.camras", "unknown key"),
    ("run.years=0", "run.years", "greater than or equal to 1"),
])
def test_set_overrides_are_type_checked(override, key, expected, no_simulation):
    msg = load_error("suizhou_2022", [override])
    assert key in msg and expected in msg
    assert "--set" in msg  # the bad value came from the command line, not from a file


def test_an_unknown_preset_given_with_set_names_set(no_simulation):
    msg = load_error("suizhou_2022", ["city.preset=atlantis"])
    assert "city.preset" in msg and "atlantis" in msg
    assert "--set" in msg


def test_a_set_override_without_a_value_is_rejected(no_simulation):
    msg = load_error("suizhou_baseline", ["run.years"])
    assert "run.years" in msg and "key.path=value" in msg


def test_a_set_override_through_a_scalar_is_rejected(no_simulation):
    msg = load_error("suizhou_baseline", ["run.years.first=3"])
    assert "run.years" in msg and "not a mapping" in msg


def test_a_builtin_name_resolves_even_if_a_folder_of_that_name_exists(tmp_path, monkeypatch):
    # `pingan run suizhou_2022` writes results/suizhou_2022/; a folder named like the
    # scenario in the working directory must not hide the built-in scenario.
    monkeypatch.chdir(tmp_path)
    (tmp_path / "suizhou_2022").mkdir()
    assert load_scenario("suizhou_2022").name == "suizhou_2022"


def test_setting_one_entry_of_a_mapping_keeps_the_other_defaults():
    default = load_scenario("suizhou_baseline").calls.report_prob
    s = load_scenario("suizhou_baseline", ["calls.report_prob.theft=0.3"])
    assert s.calls.report_prob["theft"] == 0.3
    assert {k: v for k, v in s.calls.report_prob.items() if k != "theft"} == \
        {k: v for k, v in default.items() if k != "theft"}
    nested = load_scenario("suizhou_baseline", ["crime.land_use_opportunity.theft.village=0.9"])
    assert nested.crime.land_use_opportunity["theft"]["village"] == 0.9
    assert nested.crime.land_use_opportunity["theft"]["commercial"] == \
        load_scenario("suizhou_baseline").crime.land_use_opportunity["theft"]["commercial"]


def test_a_misspelled_mapping_entry_is_an_error_naming_it():
    with pytest.raises(ScenarioError, match="theftt"):
        load_scenario("suizhou_baseline", ["calls.report_prob.theftt=0.3"])


# ------------------------------------------------------------- hostile or broken files
@pytest.mark.parametrize("name", ["../../x", "/tmp/abs", "a/b", ".hidden", "two words", "x" * 101])
def test_a_name_that_is_not_a_plain_word_is_refused(tmp_path, name, no_simulation):
    path = write(tmp_path, "s.yaml", f"extends: suizhou_2022\nname: {name!r}\n")
    msg = load_error(path)
    assert msg.startswith(f"{path}: key 'name': expected a plain name") and excerpt(name) in msg  # short: as given
    assert "\n" not in msg


def test_a_file_named_with_a_space_needs_a_plain_name(tmp_path, no_simulation):
    path = write(tmp_path, "my package.yaml", "extends: suizhou_2022\n")
    assert "key 'name'" in load_error(path)
    write(tmp_path, "my package.yaml", "extends: suizhou_2022\nname: my_package\n")
    assert load_scenario(path).name == "my_package"


@pytest.mark.parametrize("name", ["suizhou_2022", "package-B.2", "随州_2022"])
def test_plain_names_in_any_script_are_accepted(tmp_path, name, no_simulation):
    path = write(tmp_path, "s.yaml", f"extends: suizhou_2022\nname: {name}\n")
    assert load_scenario(path).name == name


@pytest.mark.parametrize("key, value, expected", [
    ("calls.report_prob.theft", "1.5", "less than or equal to 1"),
    ("clearance.base.robbery", "-0.1", "greater than or equal to 0"),
    ("calls.non_crime_per_1000_year.traffic", "-2", "greater than or equal to 0"),
    ("interventions.video.cameras", "1000000000000000", "less than or equal to 10000000"),
    ("interventions.street_police_stations.count", "1000000000", "less than or equal to 10000"),
    ("interventions.rapid_response_points.count", "1000000000", "less than or equal to 10000"),
    ("run.warmup_days", "100000000", "less than or equal to 3650"),
    ("city.population", "100000000000", "less than or equal to 50000000"),
    ("calls.record_prob", ".nan", "finite number"),
    ("clearance.camera_log_odds", ".inf", "finite number"),
    ("crime.type_share.theft", "-.inf", "finite number"),
])
def test_unbounded_values_are_refused_naming_key_and_bound(tmp_path, key, value, expected, no_simulation):
    path = _nested_file(tmp_path, key, value, ("extends: suizhou_2022",))
    msg = load_error(path)
    assert msg.startswith(f"{path}: key '{key}': expected") and expected in msg and "\n" not in msg


def test_the_bounds_leave_every_shipped_scenario_valid_at_its_largest(no_simulation):
    big = load_scenario("suizhou_2022", ["city.population=50000000", "run.warmup_days=3650",
                                         "interventions.video.cameras=10000000"])
    assert big.city.population == 50_000_000


def test_a_duplicated_key_is_an_error_naming_the_key_and_both_lines(tmp_path, no_simulation):
    path = write(tmp_path, "s.yaml", """\
        extends: suizhou_2022
        run:
          years: 1
        run:
          years: 2
        """)
    msg = load_error(path)
    assert msg == (f"{path}: line 4, column 1: key 'run' appears twice (first at line 2); "
                   "remove one (YAML would silently keep the last)")


def test_a_duplicated_nested_key_is_an_error(tmp_path, no_simulation):
    path = write(tmp_path, "s.yaml", "calls:\n  report_prob: {theft: 0.3, theft: 0.4}\n")
    assert "key 'theft' appears twice" in load_error(path)


@pytest.mark.parametrize("text", ["", "# only a comment\n", "---\n"])
def test_an_empty_file_is_an_error_not_the_default_scenario(tmp_path, text, no_simulation):
    path = write(tmp_path, "s.yaml", text)
    assert load_error(path) == (f"{path}: the file has no keys (empty or only comments); expected a mapping "
                                "of keys such as 'extends: suizhou_baseline'")


def test_a_non_utf8_file_is_an_error_naming_the_byte_and_line(tmp_path, no_simulation):
    path = tmp_path / "s.yaml"
    path.write_bytes("extends: suizhou_2022\nname: café\n".encode("latin-1"))
    assert load_error(path) == f"{path}: not UTF-8 text (byte 0xe9 at line 2); expected YAML saved as UTF-8"


def test_a_binary_file_is_an_error(tmp_path, no_simulation):
    path = tmp_path / "s.yaml"
    path.write_bytes(bytes(range(256)) * 4)
    assert load_error(path) == f"{path}: a binary file (it contains NUL bytes); expected YAML text"


def test_a_utf8_file_with_a_byte_order_mark_is_read(tmp_path, no_simulation):
    path = tmp_path / "s.yaml"
    path.write_bytes("\ufeffextends: suizhou_2022\nname: bom\n".encode())
    assert load_scenario(path).name == "bom"


@pytest.mark.parametrize("text", ["a: " + "[" * 5000 + "]" * 5000 + "\n",
                                  "a:\n" + "".join("  " * i + "k:\n" for i in range(1, 60))])
def test_deep_nesting_is_an_error_not_a_recursion_error(tmp_path, text, no_simulation):
    path = write(tmp_path, "s.yaml", text)
    msg = load_error(path)
    assert msg.startswith(f"{path}: line ") and "nested deeper than 32 levels" in msg


def test_deep_nesting_in_a_set_value_is_an_error(no_simulation):
    with pytest.raises(ScenarioError, match="--set a: nested deeper than 32 levels"):
        load_scenario("suizhou_2022", ["a=" + "[" * 3000 + "]" * 3000])


def test_a_huge_file_is_refused_before_it_is_read(tmp_path, no_simulation):
    path = tmp_path / "s.yaml"
    path.write_text("# padding\n" * 200_000, encoding="utf-8")
    assert "expected a YAML text file of at most 1000000 bytes" in load_error(path)


# ------------------------------------------------------------- YAML aliases (anchors &a, references *a)
def test_a_few_aliases_are_data_like_any_other(tmp_path, no_simulation):
    path = write(tmp_path, "s.yaml", """\
        extends: suizhou_baseline
        run: &short {warmup_days: 7, years: 1}
        """)
    assert load_scenario(path).run.warmup_days == 7


def test_aliases_that_expand_beyond_the_budget_are_refused_where_they_are(tmp_path, no_simulation):
    levels = "\n".join(f"x{i}: &x{i} [" + ", ".join([f"*x{i - 1}"] * 10) + "]" for i in range(1, 6))
    path = write(tmp_path, "s.yaml", "x0: &x0 [1]\n" + levels + "\n")
    msg = load_error(path)
    assert msg == (f"{path}: line 5, column 25: aliases (*name) expand to more than 10,000 values; expected plain "
                   "data with few aliases (write the values out)")


def test_a_recursive_alias_is_refused(tmp_path, no_simulation):
    path = write(tmp_path, "s.yaml", "extends: suizhou_baseline\ncrime: &a {displacement_prob: [*a]}\n")
    assert load_error(path) == (f"{path}: line 2, column 32: alias *a refers to a value that contains it (a "
                                "recursive structure); expected plain data")


def test_an_alias_bomb_in_a_set_value_is_refused(no_simulation):
    bomb = "[" + ", ".join(["&a [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]"] + ["*a"] * 2000) + "]"
    msg = load_error("suizhou_baseline", [f"crime.displacement_prob={bomb}"])
    assert msg == "--set crime.displacement_prob: aliases (*name) expand to more than 10,000 values; expected " \
                  "plain data with few aliases (write the values out)"


def test_the_priors_file_is_read_with_the_same_alias_budget(tmp_path):
    from sim.calibration.targets import CalibrationFileError, load_priors

    levels = "\n".join(f"x{i}: &x{i} [" + ", ".join([f"*x{i - 1}"] * 10) + "]" for i in range(1, 6))
    path = write(tmp_path, "priors.yaml", "- x0: &x0 [1]\n" + "\n".join("  " + line for line in levels.split("\n")))
    with pytest.raises(CalibrationFileError, match="aliases \\(\\*name\\) expand to more than 10,000 values"):
        load_priors(path)
