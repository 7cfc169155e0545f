"""CMS Claim and Claim Line Feed (CCLF) files for ACOs: fixed-width claims and beneficiary data.

Why: CCLF is how CMS sends an ACO its beneficiaries' Medicare claims every month, so it is the one
source that sees care delivered outside the ACO's own EHRs. We read:

- CCLF1 Part A claims header -> ``Claim`` (institutional: facility CCN, attending NPI, principal dx)
- CCLF5 Part B physician claim lines -> ``Claim`` (rendering NPI, HCPCS, diagnosis codes)
- CCLF8 beneficiary demographics -> ``Patient`` + ``Coverage`` (medicare, dual status, Medicare status)
- CCLF9 beneficiary identifier crosswalk -> ``Patient`` carrying current and previous identifiers
- CCLF0 summary (pipe-separated record counts) is recognised and reported, not turned into records.

Layouts: CMS, ACO-OS "Claim and Claim Line Feed (CCLF) Information Packet (IP)", Version 36
(``CCLF_IP_508_v36``), record layout tables for CCLF1, CCLF5, CCLF8 and CCLF9, as transcribed
field-by-field (element, start, end, length, format) in
https://github.com/SudeepGhantasala/cclf_file_specs_as_csvs (source ``code/sources/CCLF_IP_508_v36.xlsx``),
and cross-checked against the "CCLF File Data Elements Resource" (Medicare Shared Savings Program,
April 2021 v2, https://www.cms.gov/files/document/cclf-file-data-elements-resource.pdf) and against
the CMS BCDA test files (CCLF8 record length 549; CCLF0 of those files lists CCLF1 at 292 and CCLF5 at
363 bytes, the record ends of older IP versions before v36 appended fields). Positions are 1-based
and inclusive, as CMS prints them. Older, shorter records are accepted down to ``min_length``.

Dual status (BENE_DUAL_STUS_CD, the CMS/MMA state file codes): full-benefit duals are 02 (QMB
Plus), 04 (SLMB Plus) and 08 (other full-benefit dual); partial-benefit duals are 01 (QMB only),
03 (SLMB only), 05 (QDWI) and 06 (QI). 00, NA and blank mean not dual; 07 and 09 are not defined
as full or partial and are kept as a code with ``dual_status=None``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from assistant.records.model import (
    HICN,
    MBI,
    Address,
    Claim,
    Code,
    Coverage,
    Identifier,
    ParsedDocument,
    Patient,
    Provenance,
    Record,
)
from connectors.errors import ParseError
from connectors.text import decode_text, iter_lines, looks_binary, sha256_bytes

FORMAT = "cclf"

# Field kinds: "X" text, "9" digits, "D" date YYYY-MM-DD, "A" signed amount.
X, N, D, A = "X", "9", "D", "A"


@dataclass(frozen=True)
class Field:
    name: str
    start: int  # 1-based, inclusive (as in the CCLF IP)
    end: int
    kind: str = X

    @property
    def width(self) -> int:
        return self.end - self.start + 1


@dataclass(frozen=True)
class Layout:
    file_type: str
    fields: tuple[Field, ...]
    min_length: int  # shortest record CMS has issued for this file (older IP versions, trimmed blanks)

    @property
    def record_length(self) -> int:
        return self.fields[-1].end

    def field(self, name: str) -> Field:
        return next(f for f in self.fields if f.name == name)


CCLF1 = Layout(
    "CCLF1",
    (
        Field("CUR_CLM_UNIQ_ID", 1, 13, N),
        Field("PRVDR_OSCAR_NUM", 14, 19),
        Field("BENE_MBI_ID", 20, 30),
        Field("BENE_HIC_NUM", 31, 41),
        Field("CLM_TYPE_CD", 42, 43, N),
        Field("CLM_FROM_DT", 44, 53, D),
        Field("CLM_THRU_DT", 54, 63, D),
        Field("CLM_BILL_FAC_TYPE_CD", 64, 64),
        Field("CLM_BILL_CLSFCTN_CD", 65, 65),
        Field("PRNCPL_DGNS_CD", 66, 72),
        Field("ADMTG_DGNS_CD", 73, 79),
        Field("CLM_MDCR_NPMT_RSN_CD", 80, 81),
        Field("CLM_PMT_AMT", 82, 98, A),
        Field("CLM_NCH_PRMRY_PYR_CD", 99, 99),
        Field("PRVDR_FAC_FIPS_ST_CD", 100, 101),
        Field("BENE_PTNT_STUS_CD", 102, 103),
        Field("DGNS_DRG_CD", 104, 107),
        Field("CLM_OP_SRVC_TYPE_CD", 108, 108),
        Field("FAC_PRVDR_NPI_NUM", 109, 118),
        Field("OPRTG_PRVDR_NPI_NUM", 119, 128),
        Field("ATNDG_PRVDR_NPI_NUM", 129, 138),
        Field("OTHR_PRVDR_NPI_NUM", 139, 148),
        Field("CLM_ADJSMT_TYPE_CD", 149, 150),
        Field("CLM_EFCTV_DT", 151, 160, D),
        Field("CLM_IDR_LD_DT", 161, 170, D),
        Field("BENE_EQTBL_BIC_HICN_NUM", 171, 181),
        Field("CLM_ADMSN_TYPE_CD", 182, 183),
        Field("CLM_ADMSN_SRC_CD", 184, 185),
        Field("CLM_BILL_FREQ_CD", 186, 186),
        Field("CLM_QUERY_CD", 187, 187),
        Field("DGNS_PRCDR_ICD_IND", 188, 188),
        Field("CLM_MDCR_INSTNL_TOT_CHRG_AMT", 189, 203, A),
        Field("CLM_MDCR_IP_PPS_CPTL_IME_AMT", 204, 218, A),
        Field("CLM_OPRTNL_IME_AMT", 219, 240, A),
        Field("CLM_MDCR_IP_PPS_DSPRPRTNT_AMT", 241, 255, A),
        Field("CLM_HIPPS_UNCOMPD_CARE_AMT", 256, 270, A),
        Field("CLM_OPRTNL_DSPRPRTNT_AMT", 271, 292, A),
        Field("CLM_BLG_PRVDR_OSCAR_NUM", 293, 312),
        Field("CLM_BLG_PRVDR_NPI_NUM", 313, 322),
        Field("CLM_OPRTG_PRVDR_NPI_NUM", 323, 332),
        Field("CLM_ATNDG_PRVDR_NPI_NUM", 333, 342),
        Field("CLM_OTHR_PRVDR_NPI_NUM", 343, 352),
        Field("CLM_CNTL_NUM", 353, 392),
        Field("CLM_ORG_CNTL_NUM", 393, 432),
        Field("CLM_CNTRCTR_NUM", 433, 437),
    ),
    min_length=292,
)

_DIAGNOSES_5 = tuple(
    Field(f"CLM_DGNS_{n}_CD", start, start + 6)
    for n, start in ((1, 276), (2, 283), (3, 290), (4, 297), (5, 304), (6, 311), (7, 318), (8, 325))
)

CCLF5 = Layout(
    "CCLF5",
    (
        Field("CUR_CLM_UNIQ_ID", 1, 13, N),
        Field("CLM_LINE_NUM", 14, 23, N),
        Field("BENE_MBI_ID", 24, 34),
        Field("BENE_HIC_NUM", 35, 45),
        Field("CLM_TYPE_CD", 46, 47, N),
        Field("CLM_FROM_DT", 48, 57, D),
        Field("CLM_THRU_DT", 58, 67, D),
        Field("RNDRG_PRVDR_TYPE_CD", 68, 70),
        Field("RNDRG_PRVDR_FIPS_ST_CD", 71, 72),
        Field("CLM_PRVDR_SPCLTY_CD", 73, 74),
        Field("CLM_FED_TYPE_SRVC_CD", 75, 75),
        Field("CLM_POS_CD", 76, 77),
        Field("CLM_LINE_FROM_DT", 78, 87, D),
        Field("CLM_LINE_THRU_DT", 88, 97, D),
        Field("CLM_LINE_HCPCS_CD", 98, 102),
        Field("CLM_LINE_CVRD_PD_AMT", 103, 117, A),
        Field("CLM_LINE_PRMRY_PYR_CD", 118, 118),
        Field("CLM_LINE_DGNS_CD", 119, 125),
        Field("CLM_RNDRG_PRVDR_TAX_NUM", 126, 135),
        Field("RNDRG_PRVDR_NPI_NUM", 136, 145),
        Field("CLM_CARR_PMT_DNL_CD", 146, 147),
        Field("CLM_PRCSG_IND_CD", 148, 149),
        Field("CLM_ADJSMT_TYPE_CD", 150, 151),
        Field("CLM_EFCTV_DT", 152, 161, D),
        Field("CLM_IDR_LD_DT", 162, 171, D),
        Field("CLM_CNTL_NUM", 172, 211),
        Field("BENE_EQTBL_BIC_HICN_NUM", 212, 222),
        Field("CLM_LINE_ALOWD_CHRG_AMT", 223, 239, A),
        Field("CLM_LINE_SRVC_UNIT_QTY", 240, 263, A),
        Field("HCPCS_1_MDFR_CD", 264, 265),
        Field("HCPCS_2_MDFR_CD", 266, 267),
        Field("HCPCS_3_MDFR_CD", 268, 269),
        Field("HCPCS_4_MDFR_CD", 270, 271),
        Field("HCPCS_5_MDFR_CD", 272, 273),
        Field("CLM_DISP_CD", 274, 275),
        *_DIAGNOSES_5,
        Field("DGNS_PRCDR_ICD_IND", 332, 332),
        Field("CLM_DGNS_9_CD", 333, 339),
        Field("CLM_DGNS_10_CD", 340, 346),
        Field("CLM_DGNS_11_CD", 347, 353),
        Field("CLM_DGNS_12_CD", 354, 360),
        Field("HCPCS_BETOS_CD", 361, 363),
        Field("CLM_RNDRG_PRVDR_NPI_NUM", 364, 373),
        Field("CLM_RFRG_PRVDR_NPI_NUM", 374, 383),
        Field("CLM_CNTRCTR_NUM", 384, 388),
    ),
    min_length=363,
)

CCLF8 = Layout(
    "CCLF8",
    (
        Field("BENE_MBI_ID", 1, 11),
        Field("BENE_HIC_NUM", 12, 22),
        Field("BENE_FIPS_STATE_CD", 23, 24),
        Field("BENE_FIPS_CNTY_CD", 25, 27),
        Field("BENE_ZIP_CD", 28, 32),
        Field("BENE_DOB", 33, 42, D),
        Field("BENE_SEX_CD", 43, 43),
        Field("BENE_RACE_CD", 44, 44),
        Field("BENE_AGE", 45, 47, N),
        Field("BENE_MDCR_STUS_CD", 48, 49),
        Field("BENE_DUAL_STUS_CD", 50, 51),
        Field("BENE_DEATH_DT", 52, 61, D),
        Field("BENE_RNG_BGN_DT", 62, 71, D),
        Field("BENE_RNG_END_DT", 72, 81, D),
        Field("BENE_1ST_NAME", 82, 111),
        Field("BENE_MIDL_NAME", 112, 126),
        Field("BENE_LAST_NAME", 127, 166),
        Field("BENE_ORGNL_ENTLMT_RSN_CD", 167, 167),
        Field("BENE_ENTLMT_BUYIN_IND", 168, 168),
        Field("BENE_PART_A_ENRLMT_BGN_DT", 169, 178, D),
        Field("BENE_PART_B_ENRLMT_BGN_DT", 179, 188, D),
        Field("BENE_LINE_1_ADR", 189, 233),
        Field("BENE_LINE_2_ADR", 234, 278),
        Field("BENE_LINE_3_ADR", 279, 318),
        Field("BENE_LINE_4_ADR", 319, 358),
        Field("BENE_LINE_5_ADR", 359, 398),
        Field("BENE_LINE_6_ADR", 399, 438),
        Field("GEO_ZIP_PLC_NAME", 439, 538),
        Field("GEO_USPS_STATE_CD", 539, 540),
        Field("GEO_ZIP5_CD", 541, 545),
        Field("GEO_ZIP4_CD", 546, 549),
    ),
    min_length=166,
)

CCLF9 = Layout(
    "CCLF9",
    (
        Field("HICN_MBI_XREF_IND", 1, 1),
        Field("CRNT_NUM", 2, 12),
        Field("PRVS_NUM", 13, 23),
        Field("PRVS_ID_EFCTV_DT", 24, 33, D),
        Field("PRVS_ID_OBSLT_DT", 34, 43, D),
        Field("BENE_RRB_NUM", 44, 55),
    ),
    min_length=43,
)

LAYOUTS = {layout.file_type: layout for layout in (CCLF1, CCLF5, CCLF8, CCLF9)}

DUAL_STATUS = {
    "01": "partial", "02": "full", "03": "partial", "04": "full",
    "05": "partial", "06": "partial", "08": "full",
}  # fmt: skip
NOT_DUAL = {"", "00", "NA", "**"}
SEX = {"1": "male", "2": "female", "0": "unknown"}

# File names: CMS "P.A1234.ACO.ZC8Y19.D190101.T1234567", BCDA "T.BCD.A0001.ZC8Y18.D181120.T1000009",
# run-out "ZC8R19", bare "ZC8", or names that spell CCLF8 out.
_NAME = re.compile(r"(?:^|[^A-Z0-9])(?:ZC|CCLF)([0-9AB])(?:[YR]\d{2})?(?=$|[^A-Z0-9])")


def file_type_of(path: Path) -> str | None:
    """``CCLF8`` for ``P.A1234.ACO.ZC8Y19...``; None when the name follows no CCLF convention."""
    match = _NAME.search(path.name.upper())
    return f"CCLF{match.group(1)}" if match else None


def sniff(path: Path, head: bytes) -> bool:
    file_type = file_type_of(path)
    if file_type is None or looks_binary(head):
        return False
    first = head.split(b"\n", 1)[0].rstrip(b"\r")
    if file_type == "CCLF0":
        return b"|" in first
    layout = LAYOUTS.get(file_type)
    if layout is None:
        return False
    # The shape check is loose on purpose: parse() reports a bad record with its line number.
    return len(first) > 0 and b"|" not in first and b"<" not in first[:1] and b"{" not in first[:1]


def _date(raw: str) -> date | None:
    raw = raw.strip()
    if not raw or raw in {"0000-00-00", "1000-01-01", "9999-12-31"}:
        return None
    return date.fromisoformat(raw)


def read_records(path: str, text: str, layout: Layout) -> list[tuple[int, dict[str, str]]]:
    """Split text into (line number, {field: stripped value}) with every value checked against its kind."""
    rows: list[tuple[int, dict[str, str]]] = []
    for number, line in enumerate(text.split("\n"), start=1):
        row = read_record(path, number, line.rstrip("\r"), layout)
        if row is not None:
            rows.append((number, row))
    return rows


# Field kinds whose values must parse: the reader, and what the error says when it does not.
_VALUE_CHECKS: dict[str, tuple[Callable[[str], object], str]] = {
    D: (_date, "is not a YYYY-MM-DD date"),
    A: (float, "is not an amount"),
}


def read_record(path: str, number: int, line: str, layout: Layout) -> dict[str, str] | None:
    """One fixed-width record as {field: stripped value}; None for a blank line; ParseError naming the columns."""
    if not line.strip():
        return None
    if not layout.min_length <= len(line) <= layout.record_length:
        expected = (f"{layout.record_length}" if layout.min_length == layout.record_length
                    else f"{layout.min_length}-{layout.record_length}")  # fmt: skip
        raise ParseError(
            path,
            f"{layout.file_type} record is {len(line)} characters long, expected {expected}",
            f"line {number}, columns 1-{len(line)}",
        )
    row: dict[str, str] = {}
    for item in layout.fields:
        value = line[item.start - 1 : item.end].strip()
        if value and item.kind == N and not value.isdigit():
            raise ParseError(path, f"{item.name} must be digits, found {value!r}",
                             f"line {number}, columns {item.start}-{item.end}")  # fmt: skip
        check = _VALUE_CHECKS.get(item.kind)
        if value and check is not None:
            read, problem = check
            try:
                read(value)
            except ValueError:
                raise ParseError(path, f"{item.name} {problem}: {value!r}",
                                 f"line {number}, columns {item.start}-{item.end}") from None  # fmt: skip
        row[item.name] = value
    return row


def _provenance(path: str, sha: str, number: int) -> Provenance:
    return Provenance(source_path=path, source_sha256=sha, format=FORMAT, locator=f"line {number}")


def _mbi_key(path: str, row: dict[str, str], number: int, layout: Layout) -> str:
    mbi = row.get("BENE_MBI_ID", "")
    if not mbi:
        item = layout.field("BENE_MBI_ID")
        raise ParseError(path, "BENE_MBI_ID is blank", f"line {number}, columns {item.start}-{item.end}")
    return Identifier(system=MBI, value=mbi).key


def _diagnosis(code: str, icd_indicator: str) -> Code:
    system = "icd9" if icd_indicator == "9" else "icd10"
    return Code(system=system, code=code)


def _amount(raw: str) -> float | None:
    return float(raw) if raw else None


def _cclf8(path: str, sha: str, rows: list[tuple[int, dict[str, str]]]) -> tuple[list[Patient], list[Record]]:
    patients: list[Patient] = []
    records: list[Record] = []
    for number, row in rows:
        key = _mbi_key(path, row, number, CCLF8)
        identifiers = [Identifier(system=MBI, value=row["BENE_MBI_ID"])]
        if row["BENE_HIC_NUM"]:
            identifiers.append(Identifier(system=HICN, value=row["BENE_HIC_NUM"]))
        lines = [row[f"BENE_LINE_{n}_ADR"] for n in range(1, 7) if row[f"BENE_LINE_{n}_ADR"]]
        postal = row["GEO_ZIP5_CD"] or row["BENE_ZIP_CD"]
        if postal and row["GEO_ZIP4_CD"].isdigit():
            postal = f"{postal}-{row['GEO_ZIP4_CD']}"
        address = None
        if lines or row["GEO_ZIP_PLC_NAME"] or postal:
            address = Address(lines=lines, city=row["GEO_ZIP_PLC_NAME"] or None,
                              state=row["GEO_USPS_STATE_CD"] or None, postal_code=postal or None,
                              country="US")  # fmt: skip
        patients.append(
            Patient(
                identifiers=identifiers,
                given=[name for name in (row["BENE_1ST_NAME"], row["BENE_MIDL_NAME"]) if name],
                family=row["BENE_LAST_NAME"] or None,
                birth_date=_date(row["BENE_DOB"]),
                sex=SEX.get(row["BENE_SEX_CD"]),
                address=address,
                deceased=_date(row["BENE_DEATH_DT"]) is not None,
                provenance=_provenance(path, sha, number),
            )
        )
        dual_code = row["BENE_DUAL_STUS_CD"].upper()
        starts = [d for d in (_date(row["BENE_PART_A_ENRLMT_BGN_DT"]), _date(row["BENE_PART_B_ENRLMT_BGN_DT"])) if d]
        records.append(
            Coverage(
                patient_key=key,
                payer="medicare",
                member_id=row["BENE_MBI_ID"],
                dual_status=None if dual_code in NOT_DUAL else DUAL_STATUS.get(dual_code),
                dual_status_code=None if dual_code in {"", "**"} else dual_code,
                medicare_status_code=row["BENE_MDCR_STUS_CD"] or None,
                start=min(starts) if starts else None,
                end=_date(row["BENE_DEATH_DT"]),
                provenance=_provenance(path, sha, number),
            )
        )
    return patients, records


def _cclf9(path: str, sha: str, rows: list[tuple[int, dict[str, str]]]) -> list[Patient]:
    patients: list[Patient] = []
    for number, row in rows:
        kind = row["HICN_MBI_XREF_IND"].upper()
        if kind not in {"M", "H"}:
            item = CCLF9.field("HICN_MBI_XREF_IND")
            raise ParseError(path, f"HICN_MBI_XREF_IND must be M or H, found {kind!r}",
                             f"line {number}, columns {item.start}-{item.end}")  # fmt: skip
        current, previous = row["CRNT_NUM"], row["PRVS_NUM"]
        if not current:
            item = CCLF9.field("CRNT_NUM")
            raise ParseError(path, "CRNT_NUM is blank", f"line {number}, columns {item.start}-{item.end}")
        system = MBI if kind == "M" else HICN
        identifiers = [Identifier(system=system, value=current)]
        if previous and previous != current:
            identifiers.append(Identifier(system=system, value=previous, assigner="previous"))
        patients.append(Patient(identifiers=identifiers, provenance=_provenance(path, sha, number)))
    return patients


# Type of bill (UB-04 form locator 4): facility type, classification, frequency; "111" is an inpatient
# hospital admit-through-discharge claim.
BILL_TYPE_FIELDS = ("CLM_BILL_FAC_TYPE_CD", "CLM_BILL_CLSFCTN_CD", "CLM_BILL_FREQ_CD")


def _cclf1(path: str, sha: str, rows: list[tuple[int, dict[str, str]]]) -> list[Record]:
    claims: list[Record] = []
    for number, row in rows:
        indicator = row["DGNS_PRCDR_ICD_IND"]
        diagnoses = [_diagnosis(code, indicator) for code in (row["PRNCPL_DGNS_CD"], row["ADMTG_DGNS_CD"]) if code]
        unique = list({(d.system, d.code): d for d in diagnoses}.values())
        claims.append(
            Claim(
                id=row["CUR_CLM_UNIQ_ID"],
                patient_key=_mbi_key(path, row, number, CCLF1),
                claim_type=row["CLM_TYPE_CD"],
                file_type="CCLF1",
                from_date=_date(row["CLM_FROM_DT"]),
                thru_date=_date(row["CLM_THRU_DT"]),
                provider_npi=row["ATNDG_PRVDR_NPI_NUM"] or row["CLM_ATNDG_PRVDR_NPI_NUM"]
                or row["FAC_PRVDR_NPI_NUM"] or None,
                facility_ccn=row["PRVDR_OSCAR_NUM"] or None,
                diagnoses=unique,
                amount=_amount(row["CLM_PMT_AMT"]),
                drg=row["DGNS_DRG_CD"] or None,
                discharge_status=row["BENE_PTNT_STUS_CD"] or None,
                admission_type=row["CLM_ADMSN_TYPE_CD"] or None,
                bill_type="".join(row[name] for name in BILL_TYPE_FIELDS) or None,
                provenance=_provenance(path, sha, number),
            )
        )
    return claims


def _cclf5(path: str, sha: str, rows: list[tuple[int, dict[str, str]]]) -> list[Record]:
    claims: list[Record] = []
    for number, row in rows:
        indicator = row["DGNS_PRCDR_ICD_IND"]
        names = ["CLM_LINE_DGNS_CD", *(f"CLM_DGNS_{n}_CD" for n in range(1, 13))]
        codes = [row[name] for name in names if row.get(name)]
        diagnoses = [_diagnosis(code, indicator) for code in dict.fromkeys(codes)]
        procedures = [Code(system="hcpcs", code=row["CLM_LINE_HCPCS_CD"])] if row["CLM_LINE_HCPCS_CD"] else []
        line_number = row["CLM_LINE_NUM"].lstrip("0") or "0"
        claims.append(
            Claim(
                id=f"{row['CUR_CLM_UNIQ_ID']}-{line_number}",
                patient_key=_mbi_key(path, row, number, CCLF5),
                claim_type=row["CLM_TYPE_CD"],
                file_type="CCLF5",
                from_date=_date(row["CLM_LINE_FROM_DT"]) or _date(row["CLM_FROM_DT"]),
                thru_date=_date(row["CLM_LINE_THRU_DT"]) or _date(row["CLM_THRU_DT"]),
                provider_npi=row["RNDRG_PRVDR_NPI_NUM"] or row["CLM_RNDRG_PRVDR_NPI_NUM"] or None,
                diagnoses=diagnoses,
                procedures=procedures,
                amount=_amount(row["CLM_LINE_CVRD_PD_AMT"]),
                place_of_service=row["CLM_POS_CD"] or None,
                provenance=_provenance(path, sha, number),
            )
        )
    return claims


# Lines per part when a file is read in parts: bounds memory for CCLF files of any size.
PART_LINES = 5000


def _unsupported(source: str, file_type: str | None) -> ParseError:
    supported = ", ".join(sorted(LAYOUTS))
    return ParseError(source, f"{file_type or 'this file'} is not a supported CCLF file ({supported})", "line 1")


def _document(source: str, sha: str, file_type: str, rows: list[tuple[int, dict[str, str]]]) -> ParsedDocument:
    document = ParsedDocument(source_path=source, source_sha256=sha, format=FORMAT)
    if file_type == "CCLF8":
        document.patients, document.records = _cclf8(source, sha, rows)
    elif file_type == "CCLF9":
        document.patients = _cclf9(source, sha, rows)
    elif file_type == "CCLF1":
        document.records = _cclf1(source, sha, rows)
    else:
        document.records = _cclf5(source, sha, rows)
    return document


def _summary_file(source: str, sha: str, lines: list[str]) -> ParsedDocument:
    document = ParsedDocument(source_path=source, source_sha256=sha, format=FORMAT)
    rows = [line for line in lines[1:] if line.strip()]
    document.warnings.append(f"CCLF0 summary file listing {len(rows)} CCLF files; no records to read")
    return document


def parse(path: Path, data: bytes) -> ParsedDocument:
    source = str(path)
    sha = sha256_bytes(data)
    file_type = file_type_of(path)
    text = decode_text(source, data)
    if file_type == "CCLF0":
        return _summary_file(source, sha, text.splitlines())
    if file_type not in LAYOUTS:
        raise _unsupported(source, file_type)
    return _document(source, sha, file_type, read_records(source, text, LAYOUTS[file_type]))


def reads_in_parts(path: Path) -> bool:
    """Every CCLF file is read line by line: the fixed-width records need nothing from each other."""
    return True


def parse_parts(path: Path, sha: str) -> Iterator[ParsedDocument]:
    """The file read one line at a time, yielded PART_LINES records at a time.

    A monthly CCLF5 for a large ACO runs to hundreds of MB; reading it whole would hold every claim in memory.
    The caller writes all parts in one transaction, so the document still lands whole or not at all.
    """
    source = str(path)
    file_type = file_type_of(Path(path))
    if file_type == "CCLF0":
        yield _summary_file(source, sha, [line for _, line in iter_lines(path)])
        return
    if file_type not in LAYOUTS:
        raise _unsupported(source, file_type)
    layout = LAYOUTS[file_type]
    rows: list[tuple[int, dict[str, str]]] = []
    yielded = False
    for number, line in iter_lines(path):
        row = read_record(source, number, line, layout)
        if row is not None:
            rows.append((number, row))
        if len(rows) >= PART_LINES:
            yield _document(source, sha, file_type, rows)
            rows, yielded = [], True
    if rows or not yielded:
        yield _document(source, sha, file_type, rows)
