"""Write the SYNTHETIC SAMPLE partner data of the default run (the catalogue beside it is real
definitions; these figures are invented).

No agency's figures can be published, so they are made here with a fixed seed, for January
2018 to December 2020 (36 months; 12 quarters, 2017/18 Q4 to 2020/21 Q3), the span of the
bundled police data. Where a figure overlaps the police data it is drawn from it, so the two
agree: council ASB cases are a binomial thinning (12%) of each month's police.uk ASB
incidents; deliberate fires a thinning (18%) of criminal damage and arson; hospital admissions
for assault a thinning (1.2%) of each quarter's violence and sexual offences. The rest are
Poisson draws about invented levels and trends: MARAC cases (about 95 a quarter, rising) with
repeat referrals a binomial share (24%) of them; first-time entrants (falling); Community
Trigger activations (about 1.5 a quarter, so most are suppressed); treatment starts; child
exploitation referrals (rising); frauds reported (rising, with a jump in the 2020 lockdowns).

Monthly indicators go to a CSV and quarterly ones to an xlsx, both in the long format, so the
default reads both kinds of file. Every output that shows them says "synthetic sample".
Run: ``.venv/bin/python scripts/make_sample_partners.py``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from pipeline.analysis.trends import area_comparison
from pipeline.inputs.partner_data import Period
from pipeline.inputs.police_reads import read_police_data
from pipeline.params import load_params

SEED = 20210119  # the day of the sample moderation meeting
ROOT = Path(__file__).resolve().parent.parent
FOLDER = ROOT / "data/raw/partners"
MONTHS = [f"{y}-{m:02d}" for y in (2018, 2019, 2020) for m in range(1, 13)]
QUARTERS = [Period("2018-01", 3).shifted(3 * k) for k in range(12)]  # Jan-Mar 2018 .. Oct-Dec 2020
LOCKDOWN = {"2020-04", "2020-05", "2020-11"}


def police_monthly() -> pd.DataFrame:
    """The default area's usable monthly police.uk counts by crime type."""
    params = load_params(ROOT / "params/south-gloucestershire.yaml")
    crimes, summary = read_police_data(params.inputs.police, [params.area])
    _, _, monthly = area_comparison(params, crimes, summary)
    return monthly


def main() -> None:
    rng = np.random.default_rng(SEED)
    police = police_monthly()
    monthly_rows, quarterly_rows = [], []

    def police_month(crime_type: str, month: str) -> int | None:
        return int(police.at[month, crime_type]) if month in police.index else None

    for k, month in enumerate(MONTHS):
        asb = police_month("Anti-social behaviour", month)
        damage = police_month("Criminal damage and arson", month)
        if asb is not None:  # a month police.uk lacks has no thinned figure either
            monthly_rows.append(("council_asb_cases", month, int(rng.binomial(asb, 0.12))))
        if damage is not None:
            monthly_rows.append(("deliberate_fires", month, int(rng.binomial(damage, 0.18))))
        monthly_rows.append(("child_exploitation_referrals", month, int(rng.poisson(9 + 0.15 * k))))
        fraud = 140 + 1.2 * k + (45 if month in LOCKDOWN else 0)
        monthly_rows.append(("fraud_reports", month, int(rng.poisson(fraud))))
    for k, quarter in enumerate(QUARTERS):
        months = [quarter.shifted(i).start for i in range(3)]
        violence = [police_month("Violence and sexual offences", m) for m in months]
        if all(v is not None for v in violence):
            quarterly_rows.append(
                ("assault_admissions", quarter.label, int(rng.binomial(sum(violence), 0.012)), "", "")
            )
        cases = int(rng.poisson(88 + 1.5 * k))
        repeats = int(rng.binomial(cases, 0.24))
        quarterly_rows.append(("marac_cases", quarter.label, cases, "", ""))
        quarterly_rows.append(("marac_repeats", quarter.label, "", repeats, cases))
        quarterly_rows.append(
            ("yjs_first_time_entrants", quarter.label, int(rng.poisson(max(4.0, 17 - 0.7 * k))), "", "")
        )
        quarterly_rows.append(("community_trigger", quarter.label, int(rng.poisson(1.5)), "", ""))
        quarterly_rows.append(("treatment_starts", quarter.label, int(rng.poisson(105)), "", ""))
    monthly = pd.DataFrame(monthly_rows, columns=["indicator", "period", "value"])
    monthly.to_csv(FOLDER / "sample-partner-data-monthly.csv", index=False)
    quarterly = pd.DataFrame(quarterly_rows, columns=["indicator", "period", "value", "numerator", "denominator"])
    quarterly.to_excel(FOLDER / "sample-partner-data-quarterly.xlsx", index=False, sheet_name="Data")
    print(f"Wrote {len(monthly)} monthly and {len(quarterly)} quarterly rows to {FOLDER.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
