"""The report's chart cache: a chart is reused only for the same drawing, data and caption."""

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from pipeline.documents import chart_cache  # noqa: E402
from pipeline.documents.chart_cache import ChartCache, chart_key  # noqa: E402
from pipeline.storage.folders import OWNER_MARKER  # noqa: E402

CALLS: list[str] = []


def bars(frame: pd.DataFrame, title: str):
    CALLS.append(title)
    figure, axis = plt.subplots(figsize=(3, 2))
    axis.bar(frame["name"], frame["count"])
    axis.set_title(title)
    return figure, f"Bar chart of {title}"


def _frame(counts):
    return pd.DataFrame({"name": ["a", "b"], "count": counts})


def test_key_follows_values_not_identity():
    code = "0" * 64
    first = chart_key(bars, (_frame([1, 2]), "t"), {}, ("caption",), code)
    assert first == chart_key(bars, (_frame([1, 2]), "t"), {}, ("caption",), code)  # another frame, same values
    assert first != chart_key(bars, (_frame([1, 3]), "t"), {}, ("caption",), code)  # one value differs
    assert first != chart_key(bars, (_frame([1, 2]), "t"), {}, ("other caption",), code)
    assert first != chart_key(bars, (_frame([1, 2]).rename(columns={"count": "n"}), "t"), {}, ("caption",), code)
    assert first != chart_key(bars, (_frame([1, 2]), "t"), {}, ("caption",), "1" * 64)  # package code changed
    # A frame whose cells hold lists is keyed by their printed form, not refused.
    listed = pd.DataFrame({"months": [["2020-01", "2020-02"]]})
    assert chart_key(bars, (listed,), {}, (), code) != chart_key(
        bars, (pd.DataFrame({"months": [["2020-01"]]}),), {}, (), code
    )


def test_an_argument_known_only_by_its_address_is_never_cached():
    assert chart_key(bars, (object(),), {}, (), "0" * 64) is None


def test_second_drawing_is_reused_byte_for_byte_and_unused_entries_go(tmp_path: Path):
    CALLS.clear()
    cache = ChartCache(tmp_path)
    first = cache.html(bars, _frame([1, 2]), "first", caption="One")
    cache.html(bars, _frame([5, 2]), "second")
    assert cache.finish() == {"drawn": 2, "reused": 0}
    assert len(list((tmp_path / "chart-cache").glob("*.html"))) == 2

    rerun = ChartCache(tmp_path)
    again = rerun.html(bars, _frame([1, 2]), "first", caption="One")
    assert again == first and CALLS == ["first", "second"]  # not drawn again
    assert rerun.finish() == {"drawn": 0, "reused": 1}
    assert len(list((tmp_path / "chart-cache").glob("*.html"))) == 1  # the chart no longer shown is removed
    assert chart_cache.last_counts(tmp_path) == {"drawn": 0, "reused": 1}
    assert (tmp_path / "chart-cache" / OWNER_MARKER).is_file()
    chart_cache.clear(tmp_path)
    assert not (tmp_path / "chart-cache").exists()
