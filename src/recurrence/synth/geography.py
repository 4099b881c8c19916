"""Synthetic local authorities and real-looking postcode districts for each region.

Local authority codes follow the ONS format (a letter and 8 digits) but use the unused ``9`` type
digit (``E91000001``, ``W90000001``), so they can never be mistaken for real authorities. Postcode
districts use the real postcode area letters of each region with district numbers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from recurrence.synth.calibration import REGION_CODES

# Upper-tier authorities per region (England 152, Wales 22).
LA_COUNT: dict[str, int] = {
    "E12000001": 12,
    "E12000002": 23,
    "E12000003": 15,
    "E12000004": 9,
    "E12000005": 14,
    "E12000006": 11,
    "E12000007": 33,
    "E12000008": 19,
    "E12000009": 16,
    "W92000004": 22,
}
# Postcode areas of each region with the number of districts used.
POSTCODE_AREAS: dict[str, dict[str, int]] = {
    "E12000001": {"NE": 66, "SR": 8, "DH": 9, "TS": 29, "DL": 17},
    "E12000002": {
        "M": 50, "L": 40, "WA": 16, "WN": 8, "BL": 9, "OL": 16, "SK": 23,
        "PR": 26, "BB": 12, "FY": 8, "LA": 23, "CA": 28, "CH": 66, "CW": 12,
    },
    "E12000003": {
        "LS": 29, "BD": 24, "HD": 9, "HX": 7, "WF": 17, "S": 75, "DN": 41, "HU": 20, "YO": 62,
        "HG": 5,
    },
    "E12000004": {"NG": 34, "DE": 75, "LE": 67, "LN": 13, "NN": 18},
    "E12000005": {
        "B": 98, "CV": 47, "WV": 16, "WS": 15, "DY": 14, "ST": 21, "TF": 13, "WR": 15, "HR": 9,
        "SY": 14,
    },
    "E12000006": {
        "CB": 25, "IP": 33, "NR": 35, "PE": 38, "CO": 16, "CM": 24, "SS": 17, "LU": 7, "SG": 19,
        "AL": 10,
    },
    "E12000007": {
        "E": 20, "EC": 4, "N": 22, "NW": 11, "SE": 28, "SW": 20, "W": 14, "WC": 2, "BR": 8,
        "CR": 8, "HA": 9, "IG": 11, "KT": 9, "RM": 20, "SM": 7, "TW": 20, "UB": 11, "EN": 11,
    },
    "E12000008": {
        "RG": 45, "OX": 49, "MK": 46, "SL": 9, "GU": 52, "PO": 41, "SO": 53, "BN": 45, "RH": 20,
        "TN": 40, "ME": 20, "CT": 21, "HP": 27,
    },
    "E12000009": {
        "BS": 49, "BA": 22, "EX": 39, "PL": 35, "TR": 27, "TQ": 14, "TA": 24, "GL": 56, "SN": 26,
        "BH": 31, "DT": 11,
    },
    "W92000004": {"CF": 83, "SA": 73, "NP": 44, "LL": 78, "LD": 8},
}  # fmt: skip


@dataclass
class Geography:
    """Authorities and postcode districts, as arrays indexed by integer codes.

    Attributes
    ----------
    la_codes
        All authority codes; ``la_region[i]`` is the region index of authority ``i``.
    district_names
        All postcode districts; ``district_la[j]`` is the authority holding district ``j``.
    """

    la_codes: np.ndarray
    la_region: np.ndarray
    la_weight: np.ndarray  # within-region sampling weight
    district_names: np.ndarray
    district_la: np.ndarray
    region_la_start: np.ndarray
    region_la_count: np.ndarray
    la_district_start: np.ndarray
    la_district_count: np.ndarray
    region_district_start: np.ndarray
    region_district_count: np.ndarray

    def sample_la(self, rng: np.random.Generator, region: np.ndarray) -> np.ndarray:
        """Draw an authority (by within-region weight) for each region index.

        Parameters
        ----------
        rng
            The seeded generator.
        region
            Region indices (into ``REGION_CODES``).

        Returns
        -------
        numpy.ndarray
            Authority indices.
        """
        out = np.empty(len(region), dtype=np.int64)
        for r in range(len(REGION_CODES)):
            mask = region == r
            k = int(mask.sum())
            if k:
                start, count = self.region_la_start[r], self.region_la_count[r]
                w = self.la_weight[start : start + count]
                out[mask] = start + rng.choice(count, size=k, p=w / w.sum())
        return out

    def sample_district(self, rng: np.random.Generator, la: np.ndarray) -> np.ndarray:
        """Draw a postcode district of each authority, uniformly.

        Parameters
        ----------
        rng
            The seeded generator.
        la
            Authority indices.

        Returns
        -------
        numpy.ndarray
            District indices.
        """
        start = self.la_district_start[la]
        count = self.la_district_count[la]
        return start + (rng.random(len(la)) * count).astype(np.int64)


def build_geography(rng: np.random.Generator) -> Geography:
    """Build the synthetic authorities and assign each postcode district to one of them.

    Parameters
    ----------
    rng
        The seeded generator.

    Returns
    -------
    Geography
        The geography.
    """
    la_codes, la_region, la_weight = [], [], []
    districts, district_la = [], []
    region_la_start, region_la_count = [], []
    region_d_start, region_d_count = [], []
    la_d_start, la_d_count = [], []
    for r, region in enumerate(REGION_CODES):
        n_la = LA_COUNT[region]
        region_la_start.append(len(la_codes))
        region_la_count.append(n_la)
        letter = region[0]
        digit = r + 1 if letter == "E" else 0
        first_la = len(la_codes)
        for i in range(n_la):
            la_codes.append(f"{letter}9{digit}{i + 1:06d}")
            la_region.append(r)
        weights = rng.lognormal(0.0, 0.5, size=n_la)
        la_weight.extend(weights.tolist())
        names = [
            f"{area}{k}" for area, n in POSTCODE_AREAS[region].items() for k in range(1, n + 1)
        ]
        names = [names[i] for i in rng.permutation(len(names))]
        # Every authority gets at least one district; the rest go in proportion to weight.
        owner = np.concatenate(
            [
                np.arange(n_la),
                rng.choice(n_la, size=len(names) - n_la, p=weights / weights.sum()),
            ]
        )
        order = np.argsort(owner, kind="stable")
        region_d_start.append(len(districts))
        region_d_count.append(len(names))
        counts = np.bincount(owner, minlength=n_la)
        starts = len(districts) + np.concatenate([[0], np.cumsum(counts)[:-1]])
        la_d_start.extend(starts.tolist())
        la_d_count.extend(counts.tolist())
        districts.extend(names[i] for i in order)
        district_la.extend((first_la + owner[order]).tolist())
    return Geography(
        la_codes=np.array(la_codes),
        la_region=np.array(la_region),
        la_weight=np.array(la_weight),
        district_names=np.array(districts),
        district_la=np.array(district_la),
        region_la_start=np.array(region_la_start),
        region_la_count=np.array(region_la_count),
        la_district_start=np.array(la_d_start),
        la_district_count=np.array(la_d_count),
        region_district_start=np.array(region_d_start),
        region_district_count=np.array(region_d_count),
    )
