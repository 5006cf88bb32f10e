"""`handloop export` with quality control (docs/export.md, "Quality control"), on SQLite and
PostgreSQL: ``--min-trust`` drops exactly the distrusted workers' answers, ``--weights
trust`` lets a trusted minority outweigh an untrusted majority, per-annotator rows carry
the trust, the dataset card reports gold accuracy, drops and overlap, and gold items never
reach an export.

The crowd works through the services on a fake clock (tests/lifecycle_support.py), so which
worker answers which loop, and so every worker's trust, is fixed: two careful workers who
always pick the right response (and get every gold item right), two bad ones who always
pick the wrong one. The export runs through the command line on the harness's store.
"""

from __future__ import annotations

import importlib.util
import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from handloop.domain.quality import QualitySettings
from handloop.domain.records import Worker
from handloop.feedback import ExportOptions, FolderSource, load_mapping, run_export
from handloop.feedback.problems import ExportInputError
from handloop.feedback.standing import WorkerStanding
from handloop.feedback.store_source import StoreSource
from handloop.services.quality import reassess
from tests.fixtures.feedback.builders import a2i_output, notebook_answer, write_outputs
from tests.lifecycle_support import Harness, fresh_harness
from tests.support import run_cli

ROOT = Path(__file__).resolve().parents[1]
FLOW = "trusted"  # gold items, TaskCount 3, no pausing: the trust is what the crowd earned
OVERLAP = "overlap"  # adaptive overlap: TaskCount 2 up to 3 while answers disagree
GOLD_ITEMS = 8
MIN_TRUST = "0.6"


def choice(chosen: str, shown: list[str]) -> dict[str, Any]:
    """A comparison-choice element's answer, as the portal submits it."""
    return {
        "preference": {
            "kind": "comparison-choice",
            "shownOrder": shown,
            "outcome": "chosen",
            "chosen": chosen,
        }
    }


def item(k: int) -> dict[str, Any]:
    """Loop k: response "0" is the right one."""
    return {"prompt": f"prompt {k}", "responses": [f"right {k}", f"wrong {k}"]}


def gold_file() -> bytes:
    lines = [
        {
            "input": {"prompt": f"gold prompt {g}", "responses": [f"gold right {g}", "gold wrong"]},
            "answer": {
                "preference": {"kind": "comparison-choice", "outcome": "chosen", "chosen": "0"}
            },
        }
        for g in range(GOLD_ITEMS)
    ]
    return "\n".join(json.dumps(line) for line in lines).encode()


class Crowd:
    """The harness, its workers, and what each answered."""

    def __init__(self, h: Harness) -> None:
        self.h = h
        self.good = [h.worker(f"good-{n}@example.com", "crowd") for n in (1, 2)]
        self.bad = [h.worker(f"bad-{n}@example.com", "crowd") for n in (1, 2)]
        self.real: dict[str, Counter[str]] = {}  # flow -> worker_id -> real answers
        self.loops: dict[str, list[str]] = {}  # flow -> loop names
        self.gold_served: Counter[str] = Counter()  # worker_id -> gold tasks answered

    def is_good(self, worker: Worker) -> bool:
        return worker in self.good

    def answer_loop(self, flow: str, name: str, shown: list[str], who: list[Worker]) -> None:
        """Each of ``who`` answers loop ``name``: claims until the loop's task comes (gold
        tasks met on the way are answered, rightly or not), then picks a response."""
        for worker in who:
            right = "0" if self.is_good(worker) else "1"
            for _ in range(GOLD_ITEMS + 2):
                task = self.h.run(self.h.services.tasks.claim(worker, flow))
                assert task is not None, f"{worker.email} found no task for {name}"
                self.h.run(
                    self.h.services.tasks.submit(worker, task.public_id, choice(right, shown))
                )
                if task.human_loop_name == name:
                    self.real.setdefault(flow, Counter())[worker.worker_id] += 1
                    break
                self.gold_served[worker.worker_id] += 1
            else:
                raise AssertionError(f"{worker.email} never got loop {name}")

    def run_flow(self, flow: str, who_by_loop: list[list[Worker]]) -> None:
        names = self.loops.setdefault(flow, [])
        for k, who in enumerate(who_by_loop):
            name = f"{flow}-{k}"
            self.h.start(flow, name, item(k))
            names.append(name)
            self.answer_loop(flow, name, ["0", "1"] if k % 2 == 0 else ["1", "0"], who)

    def trust(self, flow: str = FLOW) -> dict[str, float]:
        return {r.worker_id: r.trust for r in self.h.run(self.h.services.quality.workers(flow))}

    def cli(self, *args: str) -> Any:
        settings = self.h.services.settings
        where = ["--data-dir", str(settings.data_dir)]
        if settings.database_url:
            where += ["--database-url", settings.database_url]
        return run_cli("export", *args, *where)


def build_crowd(h: Harness) -> Crowd:
    """Ten loops of FLOW: eight answered by both careful workers and one bad one (the
    careful majority wins), then two answered by one careful worker and both bad ones (an
    untrusted majority); three loops of OVERLAP."""
    crowd = Crowd(h)
    h.flow(FLOW, "crowd", task_count=3, tags={"handloop:gold-rate": "0.5"})
    added, _ = h.run(h.services.quality.add_gold(FLOW, gold_file()))
    assert added == GOLD_ITEMS
    good1, good2 = crowd.good
    bad1, bad2 = crowd.bad
    crowd.run_flow(
        FLOW,
        [[good1, good2, bad1 if k % 2 == 0 else bad2] for k in range(8)]
        + [[good1, bad1, bad2]] * 2,
    )
    h.flow(
        OVERLAP,
        "crowd",
        task_count=2,
        tags={"handloop:max-task-count": "3", "handloop:agreement": "0.9"},
    )
    # Agreed at once; disagreed, then a third answer (the cap); the same again.
    crowd.run_flow(OVERLAP, [[good1, good2], [good1, bad1, bad2], [good2, bad1, good1]])
    return crowd


@pytest.fixture(scope="module")
def crowd(tmp_path_factory: pytest.TempPathFactory, database_url: str | None) -> Iterator[Crowd]:
    with fresh_harness(tmp_path_factory.mktemp("crowd"), database_url) as h:
        yield build_crowd(h)


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_the_crowd_earned_the_trust_the_scenario_needs(crowd: Crowd) -> None:
    """The premises of the tests below: every careful worker above MIN_TRUST, every bad one
    below, and one careful worker outweighing both bad ones together."""
    trust = crowd.trust()
    good = [trust[w.worker_id] for w in crowd.good]
    bad = [trust[w.worker_id] for w in crowd.bad]
    assert min(good) >= float(MIN_TRUST) > max(bad), trust
    assert trust[crowd.good[0].worker_id] > sum(bad), trust
    assert all(crowd.gold_served[w.worker_id] > 0 for w in crowd.good + crowd.bad)
    assert sum(crowd.real[FLOW].values()) == 30


def test_min_trust_drops_exactly_the_bad_workers_answers(crowd: Crowd, tmp_path: Path) -> None:
    everything = tmp_path / "all.jsonl"
    assert crowd.cli(f"flow:{FLOW}", "--to", str(everything)).returncode == 0
    assert len(read_jsonl(everything)) == 30  # one pair per answer (two responses)

    trusted = tmp_path / "trusted.jsonl"
    done = crowd.cli(f"flow:{FLOW}", "--to", str(trusted), "--min-trust", MIN_TRUST)
    assert done.returncode == 0, done.stderr
    rows = read_jsonl(trusted)
    good = {w.worker_id for w in crowd.good}
    assert Counter(r["worker_id"] for r in rows) == {w: crowd.real[FLOW][w] for w in good}
    assert all(r["chosen"].startswith("right") for r in rows)
    bad_answers = sum(crowd.real[FLOW][w.worker_id] for w in crowd.bad)
    assert bad_answers == 12
    assert (
        f"dropped {bad_answers} answer(s): {bad_answers} of 2 worker(s) below --min-trust "
        f"{MIN_TRUST}." in done.stderr
    ), done.stderr

    # The tidy table (every answer as it is) leaves them out too.
    tidy = tmp_path / "tidy.jsonl"
    done = crowd.cli(f"flow:{FLOW}", "--to", str(tidy), "--format", "tidy", "--min-trust", "0.6")
    assert done.returncode == 0, done.stderr
    assert {r["worker_id"] for r in read_jsonl(tidy)} == good

    # A threshold below everyone's trust drops nothing.
    none = tmp_path / "none.jsonl"
    done = crowd.cli(f"flow:{FLOW}", "--to", str(none), "--min-trust", "0.01")
    assert done.returncode == 0 and "dropped 0 answer(s)." in done.stderr
    assert none.read_bytes() == everything.read_bytes()


@pytest.mark.parametrize("aggregate", ["mean-rank", "bradley-terry"])
def test_trust_weights_let_a_trusted_minority_outweigh_an_untrusted_majority(
    crowd: Crowd, tmp_path: Path, aggregate: str
) -> None:
    trust = crowd.trust()
    good1, good2 = (trust[w.worker_id] for w in crowd.good)
    bad1, bad2 = (trust[w.worker_id] for w in crowd.bad)
    plain, weighted = tmp_path / "plain.jsonl", tmp_path / "weighted.jsonl"
    common = ["--pairs", "aggregated", "--aggregate", aggregate]
    assert crowd.cli(f"flow:{FLOW}", "--to", str(plain), *common).returncode == 0
    done = crowd.cli(f"flow:{FLOW}", "--to", str(weighted), *common, "--weights", "trust")
    assert done.returncode == 0, done.stderr
    before = {r["human_loop_name"]: r for r in read_jsonl(plain)}
    after = {r["human_loop_name"]: r for r in read_jsonl(weighted)}
    assert set(before) == set(after) == set(crowd.loops[FLOW])
    for k, name in enumerate(crowd.loops[FLOW]):
        if k < 8:  # a careful majority: the same choice, weighted or not
            bad = bad1 if k % 2 == 0 else bad2
            assert before[name]["chosen"] == after[name]["chosen"] == f"right {k}"
            assert before[name]["agreement"] == pytest.approx(2 / 3)
            assert after[name]["agreement"] == pytest.approx(
                (good1 + good2) / (good1 + good2 + bad)
            )
        else:  # two bad against one careful: the count says wrong, the trust right
            assert before[name]["chosen"] == f"wrong {k}"
            assert before[name]["agreement"] == pytest.approx(2 / 3)
            assert after[name]["chosen"] == f"right {k}"
            total = good1 + bad1 + bad2
            assert after[name]["agreement"] == pytest.approx(good1 / total)
            if aggregate == "mean-rank":
                # Weighted mean ranks: right (1·g + 2·b) / W, wrong (2·g + 1·b) / W.
                assert after[name]["margin"] == pytest.approx((good1 - bad1 - bad2) / total)
        assert after[name]["annotators"] == before[name]["annotators"] == 3

    # --weights none is the unweighted export.
    unweighted = tmp_path / "none.jsonl"
    done = crowd.cli(f"flow:{FLOW}", "--to", str(unweighted), *common, "--weights", "none")
    assert done.returncode == 0 and unweighted.read_bytes() == plain.read_bytes()


def test_weights_survive_worker_processes(crowd: Crowd, tmp_path: Path) -> None:
    """The standing travels to worker processes with the options: the same bytes as one
    process, whatever the chunking."""
    outputs = []
    for jobs in (1, 2):
        out = tmp_path / f"jobs{jobs}.jsonl"
        source = StoreSource.open(crowd.h.services.settings, FLOW)
        try:
            options = ExportOptions(
                pairs="aggregated",
                aggregate="bradley-terry",
                weights="trust",
                min_trust=0.3,
                jobs=jobs,
                chunk_size=3,
            )
            run_export(source, load_mapping("auto"), out, options)
        finally:
            source.close()
        outputs.append(out.read_bytes())
    assert outputs[0] == outputs[1]


def test_per_annotator_rows_carry_their_workers_trust(crowd: Crowd, tmp_path: Path) -> None:
    trust = crowd.trust()
    for fmt, before in (("reward", "worker_id"), ("notebook-ranking", "worker_id")):
        out = tmp_path / f"{fmt}.jsonl"
        done = crowd.cli(f"flow:{FLOW}", "--to", str(out), "--format", fmt, "--weights", "trust")
        assert done.returncode == 0, done.stderr
        rows = read_jsonl(out)
        assert len(rows) == 30
        names = list(rows[0])
        assert names[names.index(before) + 1] == "weight"
        for row in rows:
            assert row["weight"] == pytest.approx(trust[row["worker_id"]])
    plain = tmp_path / "plain.jsonl"
    assert crowd.cli(f"flow:{FLOW}", "--to", str(plain)).returncode == 0
    assert "weight" not in read_jsonl(plain)[0]
    tidy = crowd.cli(
        f"flow:{FLOW}", "--to", str(tmp_path / "t.jsonl"), "--format", "tidy", "--weights", "trust"
    )
    assert tidy.returncode == 2 and "--format tidy writes the answers as they are" in tidy.stderr


def test_card_reports_gold_accuracy_drops_and_overlap(crowd: Crowd, tmp_path: Path) -> None:
    pytest.importorskip("datasets")
    out = tmp_path / "prefs"
    done = crowd.cli(f"flow:{FLOW}", "--to", str(out), "--min-trust", MIN_TRUST)
    assert done.returncode == 0, done.stderr
    card = (out / "README.md").read_text()
    records = crowd.h.run(crowd.h.services.quality.workers(FLOW))
    gold = sum(r.figures.gold_answers for r in records)
    right = sum(r.figures.gold_score_sum for r in records)
    good_gold = sum(crowd.gold_served[w.worker_id] for w in crowd.good)
    assert gold == sum(crowd.gold_served.values()) and right == pytest.approx(good_gold)
    assert (
        f"- gold accuracy: mean score {right / gold:.4f} over {gold} gold answers from 4 "
        "workers" in card
    ), card
    assert "- flow settings (handloop: tags): gold-rate 0.5, min-evidence 10" in card
    assert "- workers with a record on the flow: 4 (paused: 0)" in card
    assert f"- answers dropped by `--min-trust {MIN_TRUST}`: 12" in card
    assert f"  - trust below {MIN_TRUST}: 12 answer(s) of 2 worker(s)" in card
    assert "  - worker paused on the flow: 0 answer(s) of 0 worker(s)" in card
    assert "- overlap of the 10 loops selected: stopped at agreement 0, at the cap 0" in card
    assert "| answers per loop | loops |\n|---|---|\n| 3 | 10 |" in card
    assert "- answers: 18, valid: 18" in card  # the statistics count kept answers only

    adaptive = tmp_path / "overlap"
    done = crowd.cli(f"flow:{OVERLAP}", "--to", str(adaptive), "--weights", "trust")
    assert done.returncode == 0, done.stderr
    card = (adaptive / "README.md").read_text()
    assert "max-task-count 3, agreement 0.9" in card
    assert (
        "- overlap of the 3 loops selected: stopped at agreement 1, at the cap 2, without a stop "
        "reason 0; extra answers asked: 2" in card
    ), card
    assert "| answers per loop | loops |\n|---|---|\n| 2 | 1 |\n| 3 | 2 |" in card
    assert "- gold accuracy: n/a (no gold answers)" in card
    assert "- answers dropped: none (no `--min-trust`)" in card
    assert "- weights: `trust` (the `weight` column is each row's worker's trust)" in card


def test_gold_items_never_reach_an_export(crowd: Crowd, tmp_path: Path) -> None:
    """Gold tasks were answered (by every worker), yet no export holds a gold item, its
    answers, or a loop for it; and no part of the export reads the gold tables."""
    assert sum(crowd.gold_served.values()) >= 4 * 4
    tidy = tmp_path / "tidy.jsonl"
    done = crowd.cli(f"flow:{FLOW}", "--to", str(tidy), "--format", "tidy", "--status", "any")
    assert done.returncode == 0, done.stderr
    rows = read_jsonl(tidy)
    assert {r["human_loop_name"] for r in rows} == set(crowd.loops[FLOW])
    assert Counter(r["worker_id"] for r in rows) == {
        w.worker_id: crowd.real[FLOW][w.worker_id] for w in crowd.good + crowd.bad
    }
    assert not [line for line in tidy.read_text().splitlines() if "gold" in line]
    pairs = tmp_path / "pairs.jsonl"
    done = crowd.cli(f"flow:{FLOW}", "--to", str(pairs), "--weights", "trust", "--status", "any")
    assert done.returncode == 0 and "gold" not in pairs.read_text()
    exporter = [
        *(ROOT / "src/handloop/feedback").glob("*.py"),
        ROOT / "src/handloop/services/exports.py",
    ]
    for path in exporter:
        text = path.read_text()
        assert "gold_tasks" not in text and "gold_items" not in text, path


def test_paused_workers_answers_are_dropped_as_such(
    tmp_path: Path, database_url: str | None
) -> None:
    with fresh_harness(tmp_path, database_url) as h:
        crowd = build_crowd(h)
        paused = crowd.bad[1]
        # Paused the way a submit pauses a worker: reassess under a flow's stricter settings.
        stricter = QualitySettings(gold_rate=0.5, min_trust=0.6, min_evidence=1, task_count=3)
        h.run(
            h.services.db.write(
                lambda conn: reassess(conn, paused.id, FLOW, stricter, h.clock(), h.services.arns)
            )
        )
        assert [r.paused for r in h.run(h.services.quality.workers(FLOW))].count(True) == 1
        answers = crowd.real[FLOW][paused.worker_id]

        only_paused = tmp_path / "only-paused.jsonl"
        done = crowd.cli(f"flow:{FLOW}", "--to", str(only_paused), "--min-trust", "0")
        assert done.returncode == 0, done.stderr
        assert f"dropped {answers} answer(s): {answers} of 1 paused worker(s)." in done.stderr
        assert paused.worker_id not in {r["worker_id"] for r in read_jsonl(only_paused)}
        assert len(read_jsonl(only_paused)) == 30 - answers

        both = tmp_path / "both.jsonl"
        done = crowd.cli(f"flow:{FLOW}", "--to", str(both), "--min-trust", MIN_TRUST)
        assert done.returncode == 0, done.stderr
        other = crowd.real[FLOW][crowd.bad[0].worker_id]
        assert (
            f"dropped {answers + other} answer(s): {other} of 1 worker(s) below --min-trust "
            f"{MIN_TRUST}, {answers} of 1 paused worker(s)." in done.stderr
        ), done.stderr

        if importlib.util.find_spec("datasets") is not None:
            folder = tmp_path / "prefs"
            done = crowd.cli(f"flow:{FLOW}", "--to", str(folder), "--min-trust", MIN_TRUST)
            assert done.returncode == 0, done.stderr
            card = (folder / "README.md").read_text()
            assert "- workers with a record on the flow: 4 (paused: 1)" in card
            assert f"  - trust below {MIN_TRUST}: {other} answer(s) of 1 worker(s)" in card
            assert f"  - worker paused on the flow: {answers} answer(s) of 1 worker(s)" in card


def test_min_trust_and_weights_need_a_flow_source(tmp_path: Path) -> None:
    folder = write_outputs(
        tmp_path / "outputs", [a2i_output("l", "p", ["x", "y"], [("w", notebook_answer([1, 2]))])]
    )
    out = tmp_path / "o.jsonl"
    for source in (str(folder), "s3://bucket/prefix"):
        for flag in (["--min-trust", "0.5"], ["--weights", "trust"]):
            done = run_cli("export", source, "--to", str(out), *flag)
            assert done.returncode == 2
            lines = done.stderr.strip().splitlines()
            assert len(lines) == 1 and lines[0].startswith(f"Error: {flag[0]}"), done.stderr
            assert "needs a flow:NAME source" in lines[0] and source in lines[0]
            assert not out.exists()
    with pytest.raises(ExportInputError, match="needs a flow:NAME source"):
        run_export(FolderSource(folder), load_mapping("auto"), out, ExportOptions(min_trust=0.5))
    out_of_range = run_cli("export", str(folder), "--to", str(out), "--min-trust", "1.5")
    assert out_of_range.returncode == 2 and "--min-trust" in out_of_range.stderr


@pytest.mark.parametrize("fmt", ["trl", "notebook-ranking"])
@pytest.mark.parametrize("aggregate", ["mean-rank", "bradley-terry"])
@pytest.mark.parametrize("ties", ["drop", "keep"])
def test_equal_weights_give_the_unweighted_bytes(
    tmp_path: Path, fmt: str, aggregate: str, ties: str
) -> None:
    """The weighted arithmetic with every weight 1 is the unweighted one to the last bit:
    the code path --weights trust adds changes nothing else."""
    docs = []
    for k in range(12):
        answers = [
            ("alice", notebook_answer([1, 2, 3])),
            ("bob", notebook_answer([1, 3, 2] if k % 2 else [2, 1, 3])),
            ("carol", notebook_answer([3, 1, 2] if k % 3 == 0 else [1, 1, 3])),
        ]
        docs.append(a2i_output(f"l{k}", f"p{k}", [f"a{k}", f"b{k}", f"c{k}"], answers))
    src = write_outputs(tmp_path / "outputs", docs)
    mapping = load_mapping("notebook")
    base = ExportOptions(format=fmt, pairs="aggregated", aggregate=aggregate, ties=ties)  # type: ignore[arg-type]
    plain, ones = tmp_path / "plain.jsonl", tmp_path / "ones.jsonl"
    run_export(FolderSource(src), mapping, plain, base)
    weighted = ExportOptions(
        format=fmt,  # type: ignore[arg-type]
        pairs="aggregated",
        aggregate=aggregate,  # type: ignore[arg-type]
        ties=ties,  # type: ignore[arg-type]
        weights="trust",
        standing=WorkerStanding(no_record=1.0),
    )
    run_export(FolderSource(src), mapping, ones, weighted)
    assert plain.read_bytes() == ones.read_bytes()
    # And weights that differ do change the result (the comparison above can fail).
    skewed = ExportOptions(
        format=fmt,  # type: ignore[arg-type]
        pairs="aggregated",
        aggregate=aggregate,  # type: ignore[arg-type]
        ties=ties,  # type: ignore[arg-type]
        weights="trust",
        standing=WorkerStanding(trust={"alice": 0.05, "bob": 1.0, "carol": 0.05}),
    )
    other = tmp_path / "skewed.jsonl"
    run_export(FolderSource(src), mapping, other, skewed)
    assert other.read_bytes() != plain.read_bytes()
