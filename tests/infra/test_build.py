"""The deployment build from a clean checkout (issue 18): ``scripts/build`` (what ``make build`` runs)
finds the Lambda runtime's Python the way the bootstrap does, builds every function and the layer for
arm64 without a warning about missing requirements, and the layer holds exactly the lock's versions
(the aarch64 wheels) and no second boto3/botocore. ``make lock`` leaves the committed lock as it is
(it matches pyproject's pins)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.infra.test_template import REPO, lock_pins

SAM = REPO / ".tools" / "sam" / "bin" / "sam"


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    if not SAM.exists():
        pytest.fail("the bootstrap installs the SAM CLI into .tools/sam")
    out = tmp_path_factory.mktemp("sam") / "build"
    env = {k: v for k, v in os.environ.items() if k != "PYTHON"}
    # as a fresh shell has it: pyenv's shims first, which do not satisfy sam build's runtime check
    env["PATH"] = "/root/.pyenv/shims:" + env.get("PATH", "")
    r = subprocess.run(
        [str(REPO / "scripts" / "build"), str(out)], capture_output=True, text=True, timeout=900, env=env
    )
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    return out, r.stdout + r.stderr


@pytest.mark.network("pyproject.toml", "shared/requirements.txt", "samconfig.toml", "infra/template.yaml", "scripts/build", "scripts/python313", "functions/**/*", "shared/**/*")
def test_the_build_succeeds_quietly_for_every_function(built):
    out, log = built
    assert "Build Succeeded" in log
    assert "requirements.txt file not found" not in log
    functions = {p.name for p in (REPO / "functions").iterdir() if (p / "app.py").exists()}
    assert len([d for d in out.iterdir() if d.name.endswith("Function")]) == len(functions)


@pytest.mark.network("pyproject.toml", "shared/requirements.txt", "samconfig.toml", "infra/template.yaml", "scripts/build", "scripts/python313", "functions/**/*", "shared/**/*")
def test_the_layer_holds_the_locked_versions_for_arm64_and_no_second_botocore(built):
    out, _ = built
    site = out / "SharedLayer" / "python"
    dists = {}
    for d in site.glob("*.dist-info"):
        name, version = d.name[: -len(".dist-info")].rsplit("-", 1)
        dists[re.sub(r"[-_.]+", "-", name).lower()] = version
    assert dists == lock_pins()
    assert not (site / "botocore").exists() and not (site / "boto3").exists()
    assert list(site.glob("pydantic_core/*aarch64*.so")), "the arm64 build of pydantic-core"
    assert (site / "healthcode" / "wiring.py").is_file()


@pytest.mark.network("Makefile", "pyproject.toml", "shared/requirements.txt")
def test_make_lock_reproduces_the_committed_lock(tmp_path):
    uv = REPO / ".venv" / "bin" / "uv"
    copy = tmp_path / "repo"
    copy.mkdir()
    for name in ("Makefile", "pyproject.toml"):
        shutil.copy(REPO / name, copy / name)
    (copy / "shared").mkdir()
    # uv keeps the versions an existing lock pins while they still satisfy pyproject (as `make lock`
    # does in the repository), so this checks the lock against pyproject, not against today's PyPI
    shutil.copy(REPO / "shared" / "requirements.txt", copy / "shared" / "requirements.txt")
    recipe = [ln for ln in (REPO / "Makefile").read_text().split("\nlock:")[1].split("\n\n")[0].splitlines()[1:]]
    command = " ".join(ln.strip().rstrip("\\") for ln in recipe).replace(".venv/bin/uv", str(uv))
    r = subprocess.run(command, shell=True, cwd=copy, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert (copy / "shared" / "requirements.txt").read_text() == (REPO / "shared" / "requirements.txt").read_text(), (
        "shared/requirements.txt is stale: run make lock and commit it"
    )


def test_make_deploy_names_only_commands_that_exist():
    deploy = (REPO / "scripts" / "deploy").read_text()
    assert "healthcode keys rotate --stack" in deploy
    r = subprocess.run(
        [str(REPO / ".venv" / "bin" / "healthcode"), "keys", "rotate", "--help"], capture_output=True, text=True
    )
    assert r.returncode == 0 and "--stack" in r.stdout and "--if-none" in r.stdout
    assert Path(REPO / "samconfig.toml").is_file()
    described = (REPO / "infra" / "template.yaml").read_text()
    for command in re.findall(r"healthcode [a-z]+ [a-z]+", described):
        name = command.split()[1:]
        r = subprocess.run(
            [str(REPO / ".venv" / "bin" / "healthcode"), *name, "--help"], capture_output=True, text=True
        )
        assert r.returncode == 0, command
