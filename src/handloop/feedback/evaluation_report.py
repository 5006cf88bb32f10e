"""The report of a model-evaluation job: per metric and model, figures with 95% intervals.

``build_report(records)`` is a pure function of the records (and a fixed bootstrap seed),
so the same results give the same ``report.json`` byte for byte. docs/evaluation-results.md
explains every figure; in short:

- IndividualLikertScale: n, mean rating with a Student-t interval, the histogram 1..5;
- ThumbsUpDown: n, share of thumbs up with a Wilson interval;
- comparisons (ComparisonChoice, ComparisonLikertScale, ComparisonRank): per model wins,
  losses and ties over the response pairs each answer decides; win rate wins/(wins+losses)
  with a Wilson interval and with ties as half a win; head-to-head counts; Bradley–Terry
  scores with bootstrap intervals over prompts; position bias; Likert: the histogram 1..5
  as answered and each model's mean preference on -2..+2;
- per metric, agreement between the workers of one prompt: the pairwise agreement rate
  and Krippendorff's alpha.

Undefined figures (no data, one rating) are None, so the report is NaN-free JSON.
"""

from __future__ import annotations

import json
import math
import statistics
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from handloop import __version__
from handloop.feedback.agreement import Level, krippendorff_alpha
from handloop.feedback.bradley_terry import bradley_terry, bradley_terry_many
from handloop.feedback.evaluation_files import (
    COMPARISON_CHOICE,
    COMPARISON_LIKERT,
    COMPARISON_RANK,
    COMPARISONS,
    INDIVIDUAL_LIKERT,
    LIKERT_SCALE,
    THUMBS,
    EvaluationAnswer,
    EvaluationRecord,
    Metric,
    Result,
    parse_record,
    parse_results,
)
from handloop.feedback.intervals import CONFIDENCE, mean_interval, wilson

REPORT_FORMAT = "handloop-evaluation-report/1"
REPORT_NAME = "report.json"
BOOTSTRAP_RESAMPLES = 1000
BOOTSTRAP_SEED = 0
# Virtual wins each way per model pair, as the export's Bradley–Terry uses (bradley_terry.py).
BT_PRIOR = 0.5

METHODS_NOTE = {
    "confidence": CONFIDENCE,
    "mean_interval": "Student t: mean ± t(0.975, n-1)·s/√n over the ratings",
    "share_interval": "Wilson score interval",
    "win_rate": "wins / (wins + losses); ties left out (and, separately, counted as half)",
    "bradley_terry": {
        "scale": "natural log-strength, mean 0 over the metric's models",
        "ties": "half a win each way",
        "prior": f"{BT_PRIOR} virtual wins each way per model pair",
        "interval": "percentile bootstrap, resampling prompts with replacement",
        "resamples": BOOTSTRAP_RESAMPLES,
        "seed": BOOTSTRAP_SEED,
    },
    "position_bias": "share of decided comparisons won by the response shown first (left)",
    "agreement": "pairs of workers on the same prompt; Krippendorff's alpha (2011)",
}


def build_report(
    records: Sequence[EvaluationRecord],
    *,
    resamples: int = BOOTSTRAP_RESAMPLES,
    seed: int = BOOTSTRAP_SEED,
    unanswered_prompts: int | None = None,
) -> dict[str, Any]:
    """The report of these records (one job, one or more datasets) as a JSON-ready dict.

    ``unanswered_prompts``: prompts of the job that have no record (their loop failed,
    expired or was stopped), which only the job runner knows; reported as given."""
    models = _job_models(records)
    order = {model: k for k, model in enumerate(models)}
    metrics: dict[str, Metric] = {}
    for record in records:
        for metric in record.metrics:
            metrics.setdefault(metric.name, metric)
    figures = {name: _figures_for(metric, order) for name, metric in metrics.items()}
    workers: set[str] = set()
    per_prompt: list[int] = []
    for index, record in enumerate(records):
        per_prompt.append(len(record.answers))
        for answer in record.answers:
            workers.add(answer.worker_id)
            for result in answer.results:
                figures[result.metric].add(index, record, answer, result)
    categories = Counter(r.category for r in records if r.category is not None)
    totals: dict[str, Any] = {
        "files": len({r.source for r in records}),
        "prompts": len(records),
        "unanswered_prompts": unanswered_prompts,
        "answers": sum(per_prompt),
        "workers": len(workers),
        "answers_per_prompt": {
            "mean": statistics.fmean(per_prompt) if per_prompt else None,
            "min": min(per_prompt, default=None),
            "max": max(per_prompt, default=None),
        },
        "models": models,
        "metrics": len(metrics),
        "categories": dict(sorted(categories.items())),
        "flow_definitions": sorted({r.flow_definition_arn for r in records}),
    }
    methods = json.loads(json.dumps(METHODS_NOTE))
    methods["bradley_terry"].update(resamples=resamples, seed=seed)
    return {
        "format": REPORT_FORMAT,
        "handloop_version": __version__,
        "methods": methods,
        "totals": totals,
        "metrics": [f.summary(resamples, seed) for f in figures.values()],
    }


def report_from_dicts(
    records: Iterable[dict[str, Any]],
    *,
    source: str = "the job's results",
    unanswered_prompts: int | None = None,
) -> dict[str, Any]:
    """The report of records given as the objects a results file holds, one per line: for
    the job runner, which has them in memory. BadRecord names the record by its number."""
    parsed = [parse_record(doc, source, number) for number, doc in enumerate(records, 1)]
    return build_report(parsed, unanswered_prompts=unanswered_prompts)


def report_from_results(files: Iterable[tuple[str, bytes]]) -> dict[str, Any]:
    """The report of results files given as (name, bytes): for a job runner that holds
    them in memory or an object store. BadRecord on the first line that is not a record."""
    records: list[EvaluationRecord] = []
    for name, data in files:
        records.extend(parse_results(data, name))
    return build_report(records)


def write_report(records: Sequence[EvaluationRecord], folder: Path) -> Path:
    """Write ``report.json`` into ``folder`` (beside the results files); its path."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / REPORT_NAME
    path.write_text(report_json(build_report(records)))
    return path


def report_json(report: dict[str, Any]) -> str:
    return json.dumps(report, indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def _job_models(records: Sequence[EvaluationRecord]) -> list[str]:
    """Every model, in the order the records first name them (by response id)."""
    seen: dict[str, None] = {}
    for record in records:
        for _, model in record.models:
            seen.setdefault(model, None)
    return list(seen)


def _figures_for(metric: Metric, order: dict[str, int]) -> _Figures:
    if metric.method in COMPARISONS:
        return _Comparison(metric, order)
    return _Individual(metric, order)


_PREFERENCE_LABELS = (("+2", 2), ("+1", 1), ("0", 0), ("-1", -1), ("-2", -2))


def _reason(problem: str) -> str:
    """Group invalid results by the reason's head: the value after the colon varies."""
    return problem.partition(":")[0].strip()


def _interval(bounds: tuple[float, float] | None) -> list[float] | None:
    return None if bounds is None else [bounds[0], bounds[1]]


def _share(a: float, b: float) -> float | None:
    return a / b if b else None


@dataclass
class _Agreement:
    """Values that workers gave one unit (a prompt, or a prompt and a model or a pair)."""

    level: Level
    alpha_units: dict[tuple[Any, ...], list[float]] = field(default_factory=dict)
    verdict_units: dict[tuple[Any, ...], list[float]] = field(default_factory=dict)

    def add(self, unit: tuple[Any, ...], value: float) -> None:
        self.alpha_units.setdefault(unit, []).append(value)

    def add_verdict(self, unit: tuple[Any, ...], verdict: float) -> None:
        self.verdict_units.setdefault(unit, []).append(verdict)

    def summary(self, basis: str) -> dict[str, Any]:
        units = self.verdict_units or self.alpha_units
        agree = compared = 0
        for values in units.values():
            for i in range(len(values)):
                for j in range(i + 1, len(values)):
                    compared += 1
                    agree += values[i] == values[j]
        ids: list[int] = []
        observed: list[float] = []
        for number, values in enumerate(self.alpha_units.values()):
            ids.extend([number] * len(values))
            observed.extend(values)
        alpha = krippendorff_alpha(ids, observed, self.level) if observed else math.nan
        return {
            "pairwise_agreement": _share(agree, compared),
            "pairs_compared": compared,
            "pairwise_basis": basis,
            "krippendorff_alpha": None if math.isnan(alpha) else alpha,
            "alpha_level": self.level,
            "units_rated_twice": sum(1 for v in self.alpha_units.values() if len(v) >= 2),
        }


class _Figures:
    def __init__(self, metric: Metric, order: dict[str, int]) -> None:
        self.metric = metric
        self.order = order
        self.valid = 0
        self.invalid: Counter[str] = Counter()
        self.prompts: set[int] = set()

    def add(
        self, index: int, record: EvaluationRecord, answer: EvaluationAnswer, result: Result
    ) -> None:
        if result.problem is None and result.method != self.metric.method:
            # Another record declared this metric otherwise: the job's first word stands.
            self.invalid[f"answered as {result.method}, not {self.metric.method}"] += 1
            return
        if result.problem is not None:
            self.invalid[_reason(result.problem)] += 1
            return
        self.valid += 1
        self.prompts.add(index)
        self.add_valid(index, record, answer, result)

    def add_valid(
        self, index: int, record: EvaluationRecord, answer: EvaluationAnswer, result: Result
    ) -> None:
        raise NotImplementedError

    def head(self) -> dict[str, Any]:
        return {
            "name": self.metric.name,
            "type": self.metric.method,
            "description": self.metric.description,
            "results": self.valid,
            "prompts": len(self.prompts),
            "invalid": dict(sorted(self.invalid.items())),
        }

    def summary(self, resamples: int, seed: int) -> dict[str, Any]:
        raise NotImplementedError

    def ordered(self, models: Iterable[str]) -> list[str]:
        return sorted(models, key=lambda m: self.order.get(m, len(self.order)))


class _Individual(_Figures):
    """IndividualLikertScale (ratings 1..5) and ThumbsUpDown (1 up, 0 down), per model."""

    def __init__(self, metric: Metric, order: dict[str, int]) -> None:
        super().__init__(metric, order)
        self.values: dict[str, list[int]] = {}
        self.agreement = _Agreement("nominal" if metric.method == THUMBS else "ordinal")

    def add_valid(
        self, index: int, record: EvaluationRecord, answer: EvaluationAnswer, result: Result
    ) -> None:
        assert result.response is not None and result.value is not None
        model = record.model(result.response)
        self.values.setdefault(model, []).append(result.value)
        self.agreement.add((index, model), result.value)

    def summary(self, resamples: int, seed: int) -> dict[str, Any]:
        per_model: dict[str, Any] = {}
        for model in self.ordered(self.values):
            values = self.values[model]
            n = len(values)
            if self.metric.method == THUMBS:
                up = sum(values)
                per_model[model] = {
                    "n": n,
                    "up": up,
                    "down": n - up,
                    "up_rate": _share(up, n),
                    "up_rate_ci95": _interval(wilson(up, n)),
                }
            else:
                counts = Counter(values)
                per_model[model] = {
                    "n": n,
                    "mean": statistics.fmean(values),
                    "mean_ci95": _interval(mean_interval(values)),
                    "sd": statistics.stdev(values) if n >= 2 else None,
                    "histogram": {str(k): counts[k] for k in LIKERT_SCALE},
                }
        basis = "same thumb" if self.metric.method == THUMBS else "same rating"
        return {
            **self.head(),
            "models": per_model,
            "agreement": self.agreement.summary(basis),
        }


class _Comparison(_Figures):
    """ComparisonChoice, ComparisonLikertScale, ComparisonRank: outcomes per model pair."""

    def __init__(self, metric: Metric, order: dict[str, int]) -> None:
        super().__init__(metric, order)
        self.tally: dict[str, list[int]] = {}  # model -> [wins, losses, ties]
        self.heads: dict[tuple[str, str], list[int]] = {}  # (x, y) -> [x wins, y wins, ties]
        # prompt -> (winner, loser) -> wins (a tie is half a win each way)
        self.per_prompt: dict[int, dict[tuple[str, str], float]] = {}
        self.first_wins = 0
        self.decided = 0
        self.unknown_order = 0
        self.histogram: Counter[int] = Counter()  # Likert, as answered (1 = left much better)
        self.preference: dict[str, list[int]] = {}  # Likert: -2..+2 from the model's side
        level: Level = "nominal" if metric.method == COMPARISON_CHOICE else "ordinal"
        self.agreement = _Agreement(level)

    def canonical(self, a: str, b: str) -> tuple[str, str]:
        return (a, b) if self.ordered((a, b))[0] == a else (b, a)

    def add_valid(
        self, index: int, record: EvaluationRecord, answer: EvaluationAnswer, result: Result
    ) -> None:
        method = self.metric.method
        first: str | None
        if method == COMPARISON_LIKERT:
            first = result.left
        else:
            first = answer.display_order[0] if answer.display_order else None
        wins = self.per_prompt.setdefault(index, {})
        for a_id, b_id, verdict in record.verdicts(result):
            a, b = record.model(a_id), record.model(b_id)
            for model, outcome in ((a, verdict), (b, -verdict)):
                tally = self.tally.setdefault(model, [0, 0, 0])
                tally[0 if outcome > 0 else 1 if outcome < 0 else 2] += 1
            x, y = self.canonical(a, b)
            oriented = verdict if (x, y) == (a, b) else -verdict
            head = self.heads.setdefault((x, y), [0, 0, 0])
            head[0 if oriented > 0 else 1 if oriented < 0 else 2] += 1
            if verdict == 0:
                wins[(a, b)] = wins.get((a, b), 0.0) + 0.5
                wins[(b, a)] = wins.get((b, a), 0.0) + 0.5
            else:
                won = (a, b) if verdict > 0 else (b, a)
                wins[won] = wins.get(won, 0.0) + 1.0
            self.agreement.add_verdict((index, x, y), oriented)
            if verdict != 0:
                if first is None:
                    self.unknown_order += 1
                elif first in (a_id, b_id):
                    self.decided += 1
                    self.first_wins += (first == a_id) == (verdict > 0)
            if method == COMPARISON_LIKERT:
                assert result.value is not None
                self.histogram[result.value] += 1
                strength = 3 - result.value  # +2 = left much better .. -2 = right
                left_model = record.model(result.left or "")
                for model in (a, b):
                    side = strength if model == left_model else -strength
                    self.preference.setdefault(model, []).append(side)
                canonical_value = result.value if left_model == x else 6 - result.value
                self.agreement.add((index, x, y), canonical_value)
        if method == COMPARISON_CHOICE and result.chosen is not None:
            self.agreement.add((index,), self.order.get(record.model(result.chosen), -1))
        elif method == COMPARISON_RANK and result.ranks is not None:
            for response, rank in result.ranks:
                self.agreement.add((index, record.model(response)), rank)

    def summary(self, resamples: int, seed: int) -> dict[str, Any]:
        models = self.ordered(self.tally)
        per_model: dict[str, Any] = {}
        for model in models:
            wins, losses, ties = self.tally[model]
            per_model[model] = {
                "wins": wins,
                "losses": losses,
                "ties": ties,
                "comparisons": wins + losses + ties,
                "win_rate": _share(wins, wins + losses),
                "win_rate_ci95": _interval(wilson(wins, wins + losses)),
                "win_rate_ties_half": _share(wins + ties / 2, wins + losses + ties),
            }
            if self.metric.method == COMPARISON_LIKERT:
                sides = self.preference.get(model, [])
                per_model[model].update(
                    mean_preference=statistics.fmean(sides) if sides else None,
                    mean_preference_ci95=_interval(mean_interval(sides)),
                    preference_histogram={label: sides.count(k) for label, k in _PREFERENCE_LABELS},
                )
        out: dict[str, Any] = {**self.head(), "models": per_model}
        out["head_to_head"] = [
            {"models": [x, y], "wins": [w[0], w[1]], "ties": w[2]}
            for (x, y), w in sorted(
                self.heads.items(), key=lambda kv: (self.order[kv[0][0]], self.order[kv[0][1]])
            )
        ]
        if self.metric.method == COMPARISON_LIKERT:
            out["histogram"] = {str(k): self.histogram[k] for k in LIKERT_SCALE}
        out["bradley_terry"] = self.bradley_terry(models, resamples, seed)
        out["position_bias"] = {
            "decided": self.decided,
            "first_shown_wins": self.first_wins,
            "rate": _share(self.first_wins, self.decided),
            "rate_ci95": _interval(wilson(self.first_wins, self.decided)),
            "expected_without_bias": 0.5,
            "unknown_order": self.unknown_order,
            "first_shown": "the left response"
            if self.metric.method == COMPARISON_LIKERT
            else "the first of displayOrder",
        }
        basis = "same winner, or both a tie, on a model pair"
        out["agreement"] = self.agreement.summary(basis)
        return out

    def bradley_terry(self, models: list[str], resamples: int, seed: int) -> dict[str, Any] | None:
        """Scores over every prompt, and their bootstrap interval over resampled prompts."""
        if len(models) < 2 or not self.per_prompt:
            return None
        index = {model: k for k, model in enumerate(models)}
        n = len(models)
        stack = np.zeros((len(self.per_prompt), n, n))
        for row, counts in enumerate(self.per_prompt.values()):
            for (winner, loser), won in counts.items():
                stack[row, index[winner], index[loser]] += won
        scores = bradley_terry(stack.sum(axis=0), prior=BT_PRIOR)
        low, high = _bootstrap(stack, resamples, seed)
        return {
            "scores": {
                model: {
                    "score": float(scores[k]),
                    "ci95": None
                    if low is None or high is None
                    else [float(low[k]), float(high[k])],
                }
                for k, model in enumerate(models)
            },
            "prompts": len(self.per_prompt),
            "resamples": resamples,
            "seed": seed,
        }


def _bootstrap(
    stack: npt.NDArray[np.float64], resamples: int, seed: int
) -> tuple[npt.NDArray[np.float64] | None, npt.NDArray[np.float64] | None]:
    """2.5th and 97.5th percentiles of the scores over ``resamples`` resamples of the
    prompts (drawn with replacement, as many as there are)."""
    prompts = stack.shape[0]
    if resamples <= 0:
        return None, None
    flat = stack.reshape(prompts, -1)
    rng = np.random.default_rng(seed)
    draws: list[npt.NDArray[np.float64]] = []
    for start in range(0, resamples, 250):
        size = min(250, resamples - start)
        counts = rng.multinomial(prompts, np.full(prompts, 1.0 / prompts), size=size)
        wins = (counts @ flat).reshape(size, *stack.shape[1:])
        draws.append(bradley_terry_many(wins, prior=BT_PRIOR))
    every = np.concatenate(draws)
    low, high = np.percentile(every, [2.5, 97.5], axis=0)
    return low, high


# -- the text table ----------------------------------------------------------------------


def format_report(report: dict[str, Any]) -> str:
    """The report as the tables ``handloop evaluation report`` prints."""
    totals = report["totals"]
    per = totals["answers_per_prompt"]
    lines = [
        f"prompts {totals['prompts']}, answers {totals['answers']}, workers {totals['workers']}, "
        f"answers per prompt {_num(per['mean'], 2)} ({_show(per['min'])} to {_show(per['max'])}), "
        f"files {totals['files']}",
        *(
            [f"prompts without a record (their loop did not complete) {unanswered}"]
            if (unanswered := totals.get("unanswered_prompts"))
            else []
        ),
        f"models: {', '.join(totals['models']) or 'none'}",
        "intervals: 95%; means: Student t; shares and win rates: Wilson; Bradley–Terry: "
        f"bootstrap over prompts ({report['methods']['bradley_terry']['resamples']} "
        f"resamples, seed {report['methods']['bradley_terry']['seed']})",
    ]
    for metric in report["metrics"]:
        lines += ["", f"{metric['name']} ({metric['type']})"]
        if metric.get("description"):
            lines.append(f"  {metric['description']}")
        lines.append(f"  results {metric['results']} on {metric['prompts']} prompt(s)")
        for reason, count in metric["invalid"].items():
            lines.append(f"  invalid: {reason:<48} {count}")
        lines += _metric_table(metric)
        agreement = metric["agreement"]
        lines.append(
            f"  agreement: pairwise {_num(agreement['pairwise_agreement'])} over "
            f"{agreement['pairs_compared']} worker pair(s) ({agreement['pairwise_basis']}); "
            f"Krippendorff's alpha ({agreement['alpha_level']}) "
            f"{_num(agreement['krippendorff_alpha'])}"
        )
    return "\n".join(lines)


def _metric_table(metric: dict[str, Any]) -> list[str]:
    models = metric["models"]
    width = max([len("model"), *(len(m) for m in models)])
    width = min(width, 40)
    lines: list[str] = []
    if metric["type"] == INDIVIDUAL_LIKERT:
        lines.append(
            f"  {'model':<{width}} {'n':>5} {'mean':>6} {'95% CI (t)':>15} "
            f"{'1':>4} {'2':>4} {'3':>4} {'4':>4} {'5':>4}"
        )
        for model, f in models.items():
            histogram = " ".join(f"{f['histogram'][str(k)]:>4}" for k in LIKERT_SCALE)
            lines.append(
                f"  {model[:width]:<{width}} {f['n']:>5} {_num(f['mean'], 2):>6} "
                f"{_range(f['mean_ci95'], 2):>15} {histogram}"
            )
        return lines
    if metric["type"] == THUMBS:
        lines.append(
            f"  {'model':<{width}} {'n':>5} {'up':>5} {'down':>5} {'up rate':>8} "
            f"{'95% CI (Wilson)':>16}"
        )
        for model, f in models.items():
            lines.append(
                f"  {model[:width]:<{width}} {f['n']:>5} {f['up']:>5} {f['down']:>5} "
                f"{_num(f['up_rate']):>8} {_range(f['up_rate_ci95']):>16}"
            )
        return lines
    likert = metric["type"] == COMPARISON_LIKERT
    header = (
        f"  {'model':<{width}} {'wins':>5} {'losses':>6} {'ties':>5} {'win rate':>8} "
        f"{'95% CI (Wilson)':>16} {'ties as half':>12}"
    )
    lines.append(header + (f" {'mean pref.':>10}" if likert else ""))
    for model, f in models.items():
        line = (
            f"  {model[:width]:<{width}} {f['wins']:>5} {f['losses']:>6} {f['ties']:>5} "
            f"{_num(f['win_rate']):>8} {_range(f['win_rate_ci95']):>16} "
            f"{_num(f['win_rate_ties_half']):>12}"
        )
        if likert:
            line += f" {_signed(f['mean_preference']):>10}"
        lines.append(line)
    if likert:
        histogram = metric["histogram"]
        lines.append(
            "  answers 1..5 (1 = left much better, 5 = right much better): "
            + ", ".join(f"{k}: {v}" for k, v in histogram.items())
        )
    bt = metric["bradley_terry"]
    if bt is not None:
        lines.append(
            f"  Bradley–Terry log-strength (95% bootstrap over {bt['prompts']} prompts, "
            f"{bt['resamples']} resamples):"
        )
        for model, s in bt["scores"].items():
            lines.append(
                f"    {model[:width]:<{width}} {_signed(s['score']):>7} "
                f"{_range(s['ci95'], 3, signed=True)}"
            )
    bias = metric["position_bias"]
    if bias["rate"] is None:
        unknown = (
            f" ({bias['unknown_order']} decided comparison(s) without displayOrder)"
            if bias["unknown_order"]
            else ""
        )
        lines.append(f"  position bias: n/a{unknown}")
    else:
        lines.append(
            f"  position bias: {bias['first_shown']} won {bias['first_shown_wins']} of "
            f"{bias['decided']} decided comparisons ({_num(bias['rate'])}, 95% CI "
            f"{_range(bias['rate_ci95'])}; no bias: 0.5)"
        )
    return lines


def _show(value: Any) -> str:
    return "n/a" if value is None else str(value)


def _num(value: float | None, digits: int = 3) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def _signed(value: float | None, digits: int = 3) -> str:
    return "n/a" if value is None else f"{value:+.{digits}f}"


def _range(bounds: list[float] | None, digits: int = 3, signed: bool = False) -> str:
    if bounds is None:
        return "n/a"
    show = _signed if signed else _num
    return f"[{show(bounds[0], digits)}, {show(bounds[1], digits)}]"
