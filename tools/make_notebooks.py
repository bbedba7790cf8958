"""Write the notebooks in notebooks/ from the cell sources below (outputs stripped).

Run ``python tools/make_notebooks.py`` after editing; tests/test_notebooks.py executes them.
"""
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

HERE = Path(__file__).resolve().parents[1] / "notebooks"

NOTEBOOKS = {
    "01-quickstart.ipynb": [
        ("md", """# Quickstart: run the Tongzhou baseline from Python

`capacity.run` takes a scenario file and returns a `Result` holding every table of the run
as a DataFrame. Nothing is written until you call `result.write(folder)`."""),
        ("code", """import tempfile
from pathlib import Path

import capacity

result = capacity.run("../scenarios/baseline.toml")
result"""),
        ("md", "District summary for the scenario's allocation mode (`optimal`): demand, places, served and shortfall per stage and year."),
        ("code", """summary = result.summary.query("mode == @result.mode")
summary.pivot_table(index="year", columns="stage", values="shortfall")"""),
        ("md", "Where is the primary shortfall worst in 2025? `out_of_reach` counts pupils with no primary school within the service radius."),
        ("code", """short = result.shortfall.query("mode == 'optimal' and stage == 'primary' and year == 2025")
names = dict(zip(result.zones.zone_id, result.zones.name))
short.assign(zone=short.zone_id.map(names)).nlargest(5, "shortfall")[
    ["zone", "demand", "served", "shortfall", "out_of_reach"]]"""),
        ("md", "Indicators against the plan's 2025 targets."),
        ("code", """result.indicators.query("year == 2025")"""),
        ("md", "Population: the projection by year (all zones), and the births, deaths and migration behind it."),
        ("code", """pop = result.population.groupby("year")["population"].sum()
comp = result.components.groupby("year")[["births", "deaths", "net_migration"]].sum()
comp.assign(population=pop).round(0).head(8)"""),
        ("md", "Write the run folder and reopen it without recomputing."),
        ("code", """out = Path(tempfile.mkdtemp())
folder = result.write(out)
again = capacity.load_result(folder)
assert again.summary["shortfall"].sum() == result.summary["shortfall"].sum()
sorted(p.name for p in folder.iterdir())"""),
    ],
    "02-catchment-maps.ipynb": [
        ("md", """# Catchment maps

Static maps (matplotlib) show, for one stage and year, zones shaded by shortfall per 1,000
children, schools sized by places and coloured by utilisation, the key projects and the
catchments derived from the allocation. The interactive map is a single offline HTML file."""),
        ("code", """import html

from IPython.display import HTML

import capacity
from capacity.report.interactive_map import interactive_map
from capacity.report.static_maps import static_map

result = capacity.run("../scenarios/baseline.toml", criticality=False)"""),
        ("md", "Primary schools in 2021 and in 2025, after the key projects open."),
        ("code", """static_map(result, "primary", 2021)"""),
        ("code", """static_map(result, "primary", 2025, rings=True)"""),
        ("md", "How each zone's primary shortfall changes between the two years."),
        ("code", """s = result.shortfall.query("mode == 'optimal' and stage == 'primary' and year in (2021, 2025)")
change = s.pivot_table(index="zone_id", columns="year", values="shortfall")
change["change"] = change[2025] - change[2021]
change.sort_values("change", ascending=False).head(10)"""),
        ("md", "The interactive map: every stage and year, hover for zone and school details. It works offline."),
        ("code", """page = interactive_map(result)          # one self-contained HTML page
print(f"{len(page.encode()) / 1e6:.1f} MB")
HTML(f'<iframe srcdoc="{html.escape(page)}" style="width:100%; height:640px; border:0">'
     "</iframe>")                         # shown inside the notebook, nothing written"""),
    ],
    "03-scenarios-and-budget.ipynb": [
        ("md", """# Scenarios and the budget view

Run a few scenarios, compare their shortfalls side by side, and build the budget tables
(places and classes to add, cost, project criticality) that go into `budget.xlsx`."""),
        ("code", """import tempfile
from pathlib import Path

import capacity
from capacity.report.budget import budget_tables, write_budget
from capacity.report.compare import compare, format_compare

names = ["baseline", "projects-delayed", "larger-classes"]
results = [capacity.run(f"../scenarios/{n}.toml", criticality=(n == "baseline")) for n in names]"""),
        ("code", """tables = compare(results)
print(format_compare(tables))"""),
        ("code", """tables["shortfall"].query("stage == 'primary'")"""),
        ("md", "The budget view of the baseline: where to add places, how many classes, what it costs, and which projects matter most."),
        ("code", """baseline = results[0]
views = budget_tables(baseline, baseline.criticality)
views["places_to_add"].query("stage == 'primary'").nlargest(5, "places_to_add")"""),
        ("md", "What to do and what it costs: the one list of actions (rule of thumb), with totals per stage."),
        ("code", """cost = views["cost"]
cost[cost["id"] == "TOTAL"]"""),
        ("code", """views["criticality"].head(8)"""),
        ("md", "The formatted workbook, here with Chinese labels."),
        ("code", """folder = Path(tempfile.mkdtemp())
path = write_budget(baseline, folder, lang="zh", criticality=baseline.criticality)
path, path.stat().st_size"""),
    ],
}


def main() -> None:
    HERE.mkdir(exist_ok=True)
    for name, cells in NOTEBOOKS.items():
        nb = new_notebook(cells=[new_markdown_cell(src) if kind == "md" else new_code_cell(src)
                                 for kind, src in cells])
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                     "language": "python"}
        nbformat.write(nb, HERE / name)


if __name__ == "__main__":
    main()
