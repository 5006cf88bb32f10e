"""What `pip install handloop` brings: every import a command needs is declared, and an
optional extra that is not installed is one line naming it, never a traceback."""

from __future__ import annotations

import ast
import importlib.metadata
import json
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "src" / "handloop"
OPTIONAL = {"datasets": "hf", "matplotlib": "plots", "psycopg": "postgres"}


def _name(requirement: str) -> str:
    """A requirement's distribution name, normalised (PEP 503)."""
    match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", requirement)
    assert match, requirement
    return re.sub(r"[-_.]+", "-", match.group(1)).lower()


def _declared() -> tuple[set[str], dict[str, set[str]]]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    base = {_name(r) for r in project["dependencies"]}
    extras = {
        extra: {_name(r) for r in reqs} for extra, reqs in project["optional-dependencies"].items()
    }
    return base, extras


def _imports() -> list[tuple[str, str, bool]]:
    """(module file, top-level package, imported when the module is) for every import of
    another distribution in handloop's source."""
    found = []
    for path in sorted(SOURCE.rglob("*.py")):
        tree = ast.parse(path.read_text())
        at_load = set()
        for node in tree.body:  # module level, outside functions and TYPE_CHECKING blocks
            if isinstance(node, ast.Import | ast.ImportFrom):
                at_load.add(id(node))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                if top in sys.stdlib_module_names or top in ("handloop", "__future__"):
                    continue
                found.append((str(path.relative_to(ROOT)), top, id(node) in at_load))
    return found


def test_every_import_is_a_declared_dependency() -> None:
    base, extras = _declared()
    distributions = importlib.metadata.packages_distributions()
    problems = []
    for where, top, at_load in _imports():
        owners = {_name(d) for d in distributions.get(top, [])}
        assert owners, f"{where}: no installed distribution provides '{top}'"
        if owners & base:
            continue
        in_extras = [extra for extra, names in extras.items() if owners & names and extra != "dev"]
        if at_load or not in_extras:
            problems.append(
                f"{where} imports {top} ({', '.join(sorted(owners))}), which "
                + (
                    f"only the extra(s) {in_extras} bring: import it where it is needed"
                    if in_extras
                    else "pyproject.toml does not declare"
                )
            )
    assert not problems, "\n".join(problems)


# A handloop run with the optional extras uninstalled, as far as imports can tell.
_HIDDEN = """
import importlib.abc, runpy, sys

HIDDEN = {hidden!r}

class Hide(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in HIDDEN:
            raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)
        return None

for name in list(sys.modules):
    if name.split(".")[0] in HIDDEN:
        del sys.modules[name]
sys.meta_path.insert(0, Hide())
{body}
"""


def _without_extras(body: str, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    script = _HIDDEN.format(hidden=sorted(OPTIONAL), body=body)
    env = {**os.environ, "HANDLOOP_DATA_DIR": str(cwd / "data")}
    env.pop("HANDLOOP_DATABASE_URL", None)
    return subprocess.run(
        [sys.executable, "-c", script, *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=120,
    )


def test_every_module_imports_without_the_extras(tmp_path: Path) -> None:
    body = """
import pkgutil, importlib, handloop
for info in pkgutil.walk_packages(handloop.__path__, "handloop."):
    if ".migrations" not in info.name and not info.name.endswith("__main__"):
        importlib.import_module(info.name)
for name in HIDDEN:
    try:
        importlib.import_module(name)
    except ModuleNotFoundError:
        pass
    else:
        raise SystemExit(f"{name} was not hidden")
print("ok")
"""
    result = _without_extras(body, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


def _outputs(folder: Path) -> Path:
    doc = {
        "flowDefinitionArn": "arn:aws:sagemaker:us-east-1:111122223333:flow-definition/f",
        "humanLoopName": "loop-1",
        "inputContent": {"taskObject": {"prompt": "p", "responses": ["a", "b"]}},
        "humanAnswers": [
            {
                "workerId": "w1",
                "answerContent": {"response_1_ranking": "1", "response_2_ranking": "2"},
            }
        ],
    }
    (folder / "loop-1").mkdir(parents=True)
    (folder / "loop-1" / "output.json").write_text(json.dumps(doc))
    return folder


POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
# Runs each command line given as a JSON list, in one process; prints each one's exit status
# and standard error as JSON.
_RUN = """
import contextlib, io, json
from handloop.cli import main
results = []
for args in json.loads(sys.argv[1]):
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        try:
            main(args, prog_name="handloop")
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        else:
            code = 0
    results.append([code, err.getvalue()])
print(json.dumps(results))
"""


def _run(tmp_path: Path, *commands: list[str]) -> list[tuple[int, str]]:
    result = _without_extras(_RUN, json.dumps(commands), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    return [(code, err) for code, err in json.loads(result.stdout.splitlines()[-1])]


# (command line, the extra its error names)
NEEDS_AN_EXTRA = [
    (["export", "outputs", "--to", "dataset"], "hf"),
    (["export", "outputs", "--to", "pairs.parquet", "--plots", "charts"], "plots"),
    (["init", "--database-url", POSTGRES], "postgres"),
    (["keys", "list", "--database-url", POSTGRES], "postgres"),
    (["export", "flow:f", "--to", "pairs.parquet", "--database-url", POSTGRES], "postgres"),
]


def test_a_missing_extra_is_one_line_naming_it(tmp_path: Path) -> None:
    _outputs(tmp_path / "outputs")
    # `init` first: a deployment key, for `keys`.
    made, *results = _run(tmp_path, ["init"], *(args for args, _ in NEEDS_AN_EXTRA))
    assert made[0] == 0, made[1]
    for (args, extra), (code, err) in zip(NEEDS_AN_EXTRA, results, strict=True):
        lines = err.strip().splitlines()
        assert code == 2, (args, err)
        assert len(lines) == 1 and lines[0].startswith("Error: "), (args, err)
        assert f"pip install 'handloop[{extra}]'" in lines[0], (args, err)
    assert not (tmp_path / "dataset").exists() and not (tmp_path / "pairs.parquet").exists()


def test_the_base_commands_run_without_the_extras(tmp_path: Path) -> None:
    _outputs(tmp_path / "outputs")
    commands = [
        ["init"],
        ["keys", "create", "--description", "ci"],
        ["export", "outputs", "--to", "pairs.parquet", "--stats"],
        ["export", "outputs", "--to", "tidy.jsonl", "--format", "tidy"],
    ]
    for args, (code, err) in zip(commands, _run(tmp_path, *commands), strict=True):
        assert code == 0, (args, err)
    assert (tmp_path / "pairs.parquet").stat().st_size > 0
    assert (tmp_path / "tidy.jsonl").read_text().count("\n") == 2
