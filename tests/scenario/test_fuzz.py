"""The validator never raises anything but ScenarioError: thousands of files mutated from
the bundled scenarios (lines deleted and duplicated, values swapped for other TOML values:
nan, inf, huge integers, long texts, deep nesting, wrong types, unicode; truncation), one in
four with --set and --grid overrides, each validated in-process. Every problem must be one readable line naming a key or a line.

Seeded, so a failure names the case that reproduces it. TUISIM_FUZZ_CASES=20000 runs more
(the default keeps the test under ~20 s on 2 cores); TUISIM_FUZZ_SEED picks another seed.
"""

from __future__ import annotations

import os
import random
import re
import time
from pathlib import Path

import pytest

from tuisim.scenario import ScenarioError, bundled_scenarios, load_scenario, parse_scenario

CASES = int(os.environ.get("TUISIM_FUZZ_CASES", "3000"))
SEED = int(os.environ.get("TUISIM_FUZZ_SEED", "0"))
MAX_LINE = 500

SOURCES = [(p, p.read_text(encoding="utf-8")) for p in bundled_scenarios()]
_VALUE_LINE = re.compile(r"^(\s*[A-Za-z0-9_.\"' -]+?\s*=\s*)(.+)$")
_KEYS = sorted({m[1].strip() for _, text in SOURCES for line in text.splitlines()
                if (m := _VALUE_LINE.match(line))} | {"from", "to", "step", "num", "at", "values", "path"})


def random_value(rng: random.Random) -> str:
    """A TOML value, valid or not for the key it lands on."""
    kind = rng.randrange(22)
    if kind == 0:
        return rng.choice(["nan", "inf", "-inf", "+inf", "+nan", "-nan"])
    if kind == 1:
        return rng.choice(["1" + "0" * 30, "-1" + "0" * 30, str(2**63), str(-2**63), str(2**64 + 1),
                           "9" * rng.randrange(20, 400), "1e308", "-1e308", "1e-320", "0x7fffffffffffffff"])
    if kind == 2:
        return '"' + rng.choice("ab\u00e9\u2603") * rng.choice([100, 1000, 100_000]) + '"'
    if kind == 3:
        n = rng.choice([10, 33, 100, 300, 600, 1200])
        return rng.choice(["[" * n + "]" * n, "[" * n + "1" + "]" * n, "{a = " * n + "1" + "}" * n,
                           "[{a = " * n + "1" + "}]" * n, "[" * n])
    if kind == 4:
        return rng.choice(["true", "false", "[]", "{}", '[1, "x"]', "{a = 1}", "[[1, 2], [3]]", '""',
                           "1979-05-27", "07:32:00", "1979-05-27T07:32:00Z", "[true]", "[nan, inf]", "[1e400]",
                           '"\u2603\u00e9\U0001f600"', "'lit'", '"""multi\nline"""', '"\\u0000"'])
    if kind == 5:
        return rng.choice(["0", "-1", "1", "0.0", "-0.5", "1.5", "200", "201", "65", "1000001", "0.999999"])
    if kind == 6:
        return f"[{', '.join(random_value(rng) for _ in range(rng.randrange(4)))}]"
    if kind == 7:
        return f"{{from = {random_value(rng)}, to = {random_value(rng)}, num = {random_value(rng)}}}"
    if kind == 8:
        return '"' + rng.choice(["relu", "sigmoud", "full", "model.depth", "train.lr", "L1.2", "spirals",
                                 "npz", "csv", "/dev/null", "/dev/zero", "..", "", "loss", "trend"]) + '"'
    return str(rng.choice([rng.randrange(-5, 300), round(rng.uniform(-2, 2), 3), 10 ** rng.randrange(40)]))


def mutate(text: str, rng: random.Random) -> str:
    lines = text.splitlines()
    for _ in range(rng.randrange(1, 4)):
        if not lines:
            break
        i = rng.randrange(len(lines))
        op = rng.randrange(12)
        if op == 0:
            del lines[i]
        elif op == 1:
            lines.insert(i, lines[i])
        elif op in (2, 3, 4, 5):
            values = [j for j, line in enumerate(lines) if _VALUE_LINE.match(line)]
            if values:
                j = rng.choice(values)
                lines[j] = _VALUE_LINE.match(lines[j])[1] + random_value(rng)
        elif op == 6:
            lines.insert(i, f"{rng.choice(_KEYS)} = {random_value(rng)}")
        elif op == 7:
            table = rng.choice(["model", "train", "data", "pretrain", "sweep", "sweep.expect.at", "sweep.quick",
                                "[variant]", "[expect]", "[sweep.axis]", "[sweep.expect]", "[sweep.quick.axis]",
                                "model.x", "variant", "expect"])
            lines.insert(i, f"[{table}]")
        elif op == 8:
            cut = rng.randrange(len(text) + 1)
            return text[:cut]
        elif op == 9:
            s = lines[i]
            k = rng.randrange(len(s) + 1)
            lines[i] = s[:k] + rng.choice(["\u2603", "\x7f", "\t", "\\", '"', "'", "[", "]", "{", "=", "#",
                                           "\u0301", "\ufeff", "\U0001f600", ".", ","]) + s[k:]
        elif op == 10:
            lines.insert(i, f"{'a' * rng.choice([100, 100_000])} = 1")
        else:
            lines[i] = lines[i].replace("=", ".x =", 1)
    return "\n".join(lines) + rng.choice(["\n", ""])


_SET_KEYS = ["steps", "seed", "seeds", "model.depth", "model.width", "train.lr", "train.betas", "data.noise",
             "data.path", "variant.0.model.depth", "variant.9.train.lr", "expect.0.below", "sweep.axis.0.to",
             "model", "x.y.z", "variant.x", "", "model.depth.x"]
_GRID_KEYS = ["model.depth", "train.lr", "data.noise", "seed", "variant.0.train.lr", "variant.99.model.depth",
              "steps", "model.activation", "x"]


def overrides(rng: random.Random) -> tuple[list[str], list[str]]:
    """--set and --grid settings, valid or not, for one case in four."""
    if rng.randrange(4):
        return [], []
    sets = [f"{rng.choice(_SET_KEYS)}={random_value(rng)}" for _ in range(rng.randrange(3))]
    grid = []
    for _ in range(rng.randrange(2)):
        values = rng.choice([random_value(rng), f"{random_value(rng)}:{random_value(rng)}:{random_value(rng)}",
                             f"{random_value(rng)},{random_value(rng)}", "1e-4:1:9:log", "1:inf:3", "nan,1"])
        grid.append(f"{rng.choice(_GRID_KEYS)}={values}")
    return sets, grid


def check(text: str, path: Path, case: int, sets: list[str] = (), grid: list[str] = ()) -> str:
    """Validate one text; returns 'ok' or 'error'; fails the test on anything else."""
    try:
        parse_scenario(text, path, sets, grid=grid)
        return "ok"
    except ScenarioError as e:
        out = str(e)
        assert "Traceback" not in out, f"case {case}: {out[:2000]}"
        assert e.problems, f"case {case}: a ScenarioError without problems"
        for line in out.splitlines():
            assert len(line) < MAX_LINE, f"case {case}: a {len(line)}-character line: {line[:300]}"
        for p in e.problems:
            assert p.line is not None or p.key or p.file.startswith(("--set ", "--grid ")), \
                f"case {case}: a problem with neither line, key nor override: {p}"
            assert p.message, f"case {case}: an empty message"
        return "error"
    except Exception as e:  # pragma: no cover - what the test is for
        pytest.fail(f"case {case} (TUISIM_FUZZ_SEED={SEED}): {type(e).__name__}: {str(e)[:500]}\n"
                    f"--set {[x[:200] for x in sets]} --grid {[x[:200] for x in grid]}\n"
                    f"--- the file (first 3000 characters) ---\n{text[:3000]}")


def test_mutated_scenarios_give_only_scenario_errors():
    assert SOURCES, "no bundled scenarios"
    rng = random.Random(SEED)
    counts = {"ok": 0, "error": 0}
    start = time.perf_counter()
    for case in range(CASES):
        path, text = SOURCES[rng.randrange(len(SOURCES))]
        mutated = mutate(text, rng)
        counts[check(mutated, path, case, *overrides(rng))] += 1
    elapsed = time.perf_counter() - start
    print(f"\nfuzz: {CASES} cases (seed {SEED}), {counts['error']} ScenarioErrors, {counts['ok']} valid, "
          f"0 other exceptions, {elapsed:.1f} s")
    assert counts["error"] > CASES // 2  # the mutations do break most files


@pytest.mark.parametrize("data", [b"title = \"x\"\n\xff\xfe\n", b"title = \"x\x00\"\n", b"\x00" * 10,
                                  b"\xef\xbb\xbftitle = 1\n", b"title = \"\xc3\"\n"])
def test_bytes_that_are_not_text(tmp_path: Path, data: bytes):
    path = tmp_path / "bad.toml"
    path.write_bytes(data)
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    for p in info.value.problems:
        assert len(str(p)) < MAX_LINE and (p.line is not None or p.key or "UTF-8" in p.message)
