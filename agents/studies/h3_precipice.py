"""H3, the precipice (Armstrong, Bostrom & Shulman 2016): more labs, more enmity and more
information about capabilities mean less safety and more danger.

Grid, on ``precipice_v0`` (the paper's one-shot model, with its Nash-equilibrium disaster
probability as theory) and on ``race_v0`` (the flagship, where enmity e is a lab that cares only
about who controls the technology, misuse concern 1, and trusts each rival 1 - e): number of labs x
what labs know of the others' capabilities (precipice ``information`` none / private / public;
race_v0 ``capability_info`` none / noisy / public) x enmity. Danger is the disaster rate
(precipice) or the catastrophe rate (race_v0) of the learned policy.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from labrace.agents.studies import Budget, Study
from labrace.agents.studies.analysis import by_point, differs, markdown_table, pyplot, save, verdict

AXES = {"env": ("precipice_v0", "race_v0"), "num_labs": (2, 5), "information": ("none", "partial", "public"), "enmity": (0.2, 0.8)}
INFORMATION = {"precipice_v0": {"none": "none", "partial": "private", "public": "public"}, "race_v0": {"none": "none", "partial": "noisy", "public": "public"}}


def overrides(point: dict[str, Any]) -> dict[str, Any]:
    info = INFORMATION[point["env"]][point["information"]]
    if point["env"] == "precipice_v0":
        return {"num_labs": point["num_labs"], "information": info, "enmity": point["enmity"]}
    trust = round(1 - point["enmity"], 3)
    lab = {"misuse_concern": (1.0, 1.0), "accident_concern": (0.5, 0.5), "trust": (trust, trust)}
    return {"num_labs": point["num_labs"], "capability_info": info, "lab_types": (lab,)}


def theory(point: dict[str, Any]) -> float | None:
    """The paper's disaster probability under Nash-equilibrium play (precipice_v0 only)."""
    if point["env"] != "precipice_v0":
        return None
    from labrace.envs.precipice_v0 import disaster_probability

    return float(disaster_probability(INFORMATION["precipice_v0"][point["information"]], point["num_labs"], point["enmity"], 1.0))


def analyse(rows: list[dict[str, Any]], out: Path) -> str:
    for row in rows:
        row["danger_rate"] = row.get("disaster_rate", row.get("catastrophe_rate"))
        row["theory"] = theory(row)
    axes = ("env", "num_labs", "information", "enmity")
    danger = by_point(rows, axes, "danger_rate")
    points = list(danger)
    labs, infos, enmities = sorted({p[1] for p in points}), sorted({p[2] for p in points}, key=["none", "partial", "public"].index), sorted({p[3] for p in points})
    lines = []
    for env in sorted({p[0] for p in points}):
        more_labs = [differs(danger[(env, labs[-1], i, e)], danger[(env, labs[0], i, e)]) for i in infos for e in enmities]
        more_enmity = [differs(danger[(env, n, i, enmities[-1])], danger[(env, n, i, enmities[0])]) for n in labs for i in infos]
        more_info = [differs(danger[(env, n, infos[-1], e)], danger[(env, n, infos[0], e)]) for n in labs for e in enmities]
        lines += [
            f"- `{env}`: more labs, more danger: **{verdict(more_labs)}**; more enmity, more danger: **{verdict(more_enmity)}**; "
            f"more information, more danger: **{verdict(more_info)}**",
        ]
    _plot(rows, danger, labs, infos, enmities, out / "danger.png")
    return "\n".join(
        lines
        + [
            "",
            markdown_table(rows, axes, {"danger (learned)": "danger_rate", "theory (Nash)": "theory", "safety share": "share_safety"}),
            "",
            "![H3 danger](studies/h3/danger.png)",
        ]
    )


def _plot(rows, danger, labs, infos, enmities, path: Path) -> None:
    plt = pyplot()
    envs = sorted({p[0] for p in danger})
    fig, axes = plt.subplots(1, len(envs), figsize=(5 * len(envs), 3.6), squeeze=False)
    for ax, env in zip(axes[0], envs):
        for info in infos:
            for enmity in enmities:
                cells = [danger[(env, n, info, enmity)] for n in labs]
                means = [c["mean"] for c in cells]
                errors = [[c["mean"] - c["lo"] for c in cells], [c["hi"] - c["mean"] for c in cells]]
                ax.errorbar(labs, means, yerr=errors, marker="o", capsize=3, label=f"info {info}, e {enmity}")
                if env == "precipice_v0":
                    ax.plot(labs, [theory({"env": env, "num_labs": n, "information": info, "enmity": enmity}) for n in labs], ls=":", color="grey")
        ax.set_title(f"{env}: danger of the learned policy" + (" (dotted: Nash theory)" if env == "precipice_v0" else ""), fontsize=9)
        ax.set_xlabel("number of labs")
        ax.set_ylabel("disaster / catastrophe rate")
        ax.set_ylim(0, 1)
        ax.legend(fontsize=6)
    fig.tight_layout()
    save(fig, path)


STUDY = Study(
    name="h3",
    title="H3 — the precipice (number of labs x information x enmity, on precipice_v0 and race_v0)",
    hypothesis="More labs, more enmity and more information about capabilities mean less safety and more danger.",
    env=lambda point: (point["env"], "baseline"),
    axes=AXES,
    overrides=overrides,
    analyse=analyse,
    budgets={
        "small": Budget(timesteps=60_000, eval_episodes=300, axes={"information": ("none", "public")}),
        "full": Budget(timesteps=1_000_000, eval_episodes=2000, seeds=(0, 1, 2, 3, 4), trainer="independent"),
    },
)
