"""The bundled default data: small, intact, and exactly what the project's own code cuts."""

import json
import sys

import pytest
from conftest import ROOT, SHARED_ZIP

from pipeline.orchestration.run import sha256_of

BUNDLE = ROOT / "data/raw/police-uk"


def test_bundle_is_small_and_matches_its_manifest():
    manifest = json.loads((BUNDLE / "manifest.json").read_text(encoding="utf-8"))
    total = sum((BUNDLE / name).stat().st_size for name in manifest["sha256"])
    assert total < 6_000_000
    for name, digest in manifest["sha256"].items():
        assert sha256_of(BUNDLE / name) == digest, f"{name} differs from the manifest: rebuild with make default-data"


@pytest.mark.shared_data
def test_bundle_is_reproduced_by_the_build_script(tmp_path):
    if not SHARED_ZIP.exists():
        pytest.skip("needs ../shared/data/police-uk beside the checkout")
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        import build_default_data
    finally:
        sys.path.pop(0)
    rebuilt = build_default_data.main(["--source", str(SHARED_ZIP), "--target", str(tmp_path)])
    bundled = json.loads((BUNDLE / "manifest.json").read_text(encoding="utf-8"))
    assert rebuilt == bundled
    assert rebuilt["rows"]["south-gloucestershire-street-2018-01_2021-09.csv.gz"] == 68227
