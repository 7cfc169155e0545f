"""Fixed vocabularies for the demo population: languages and names, places, conditions, drugs.

Why a separate module: the generator's logic (who gets what, when) reads better without hundreds
of lines of literals in it, and reviewers can check the codes in one place. SNOMED CT, ICD-10-CM,
LOINC and RxNorm codes are the common ones for each concept; RxNorm codes name the exact clinical
drug (ingredient + strength + form) whose display is given.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Language:
    code: str  # BCP-47
    display: str
    weight: float  # percent of the panel; sums to 100 over LANGUAGES
    families: tuple[str, ...]
    male: tuple[str, ...]
    female: tuple[str, ...]
    female_families: tuple[str, ...] = ()  # gendered surnames (Russian), same order as families


# Medicare-like mix: about 85% English; Spanish is about half of the rest (LEAD_FACTS §7), then the
# census order of other home languages among older adults.
LANGUAGES: tuple[Language, ...] = (
    Language("en", "English", 85.0,
             ("Smith", "Johnson", "Williams", "Brown", "Jones", "Miller", "Davis", "Wilson", "Anderson",
              "Taylor", "Thomas", "Moore", "Martin", "Jackson", "Thompson", "White", "Harris", "Clark",
              "Lewis", "Robinson", "Walker", "Young", "Allen", "King", "Wright", "Scott", "Green", "Baker",
              "Adams", "Nelson", "Hill", "Campbell", "Mitchell", "Roberts", "Carter", "Phillips", "Evans",
              "Turner", "Parker", "Collins", "Edwards", "Stewart", "Murphy", "Cook", "Rogers", "O'Neil",
              "Washington", "Brooks", "Sullivan", "Kelly"),
             ("Robert", "William", "James", "Richard", "Charles", "Thomas", "Joseph", "Donald", "Ronald",
              "Michael", "David", "Edward", "George", "Kenneth", "Walter", "Harold", "Raymond", "Frank",
              "Daniel", "Gerald"),
             ("Mary", "Patricia", "Barbara", "Margaret", "Dorothy", "Elizabeth", "Linda", "Carol", "Shirley",
              "Joan", "Judith", "Helen", "Sandra", "Nancy", "Katherine", "Susan", "Donna", "Ruth",
              "Virginia", "Deborah")),
    Language("es", "Spanish", 8.0,
             ("Garcia", "Rodriguez", "Martinez", "Hernandez", "Lopez", "Gonzalez", "Perez", "Sanchez",
              "Ramirez", "Torres", "Flores", "Rivera", "Gomez", "Diaz", "Reyes", "Morales", "Cruz", "Ortiz"),
             ("Jose", "Juan", "Francisco", "Antonio", "Manuel", "Luis", "Jesus", "Carlos", "Miguel", "Rafael"),
             ("Maria", "Rosa", "Carmen", "Guadalupe", "Ana", "Juana", "Teresa", "Josefina", "Esperanza",
              "Gloria")),
    Language("zh", "Chinese", 1.6,
             ("Wang", "Li", "Zhang", "Liu", "Chen", "Yang", "Huang", "Zhao", "Wu", "Zhou", "Wong", "Chan"),
             ("Wei", "Jian", "Ming", "Guang", "Zhiqiang", "Kwok"),
             ("Mei", "Xiuying", "Hui", "Fang", "Yan", "Lai")),
    Language("vi", "Vietnamese", 0.9,
             ("Nguyen", "Tran", "Le", "Pham", "Hoang", "Phan", "Vu", "Dang"),
             ("Minh", "Tuan", "Hung", "Dung", "Thanh"),
             ("Lan", "Hoa", "Mai", "Thu", "Huong")),
    Language("tl", "Tagalog", 0.8,
             ("Santos", "Bautista", "Mendoza", "Dela Cruz", "Ramos", "Aquino", "Villanueva", "Castillo"),
             ("Rogelio", "Danilo", "Eduardo", "Ernesto", "Romeo"),
             ("Lourdes", "Corazon", "Erlinda", "Remedios", "Teresita")),
    Language("ko", "Korean", 0.6,
             ("Kim", "Lee", "Park", "Choi", "Jung", "Kang", "Cho", "Yoon"),
             ("Young-ho", "Sung-min", "Jae-won", "Dong-hyun"),
             ("Young-ja", "Soon-ja", "Myung-hee", "Kyung-sook")),
    Language("ru", "Russian", 0.6,
             ("Ivanov", "Petrov", "Smirnov", "Kuznetsov", "Popov", "Volkov"),
             ("Vladimir", "Sergei", "Boris", "Yuri", "Mikhail"),
             ("Galina", "Tatiana", "Lyudmila", "Olga", "Natalia"),
             ("Ivanova", "Petrova", "Smirnova", "Kuznetsova", "Popova", "Volkova")),
    Language("ar", "Arabic", 0.4,
             ("Haddad", "Khalil", "Hassan", "Ibrahim", "Mansour", "Nasser", "Saleh", "Youssef"),
             ("Mohammed", "Ahmad", "Khaled", "Samir", "Omar"),
             ("Fatima", "Layla", "Mariam", "Samira", "Huda")),
    Language("ht", "Haitian Creole", 0.4,
             ("Jean-Baptiste", "Pierre", "Joseph", "Desir", "Etienne", "Francois", "Louis"),
             ("Jean", "Jacques", "Frantz", "Wilner", "Yves"),
             ("Marie", "Mireille", "Yolande", "Nadege", "Rose")),
    Language("pt", "Portuguese", 0.3,
             ("Silva", "Oliveira", "Souza", "Pereira", "Costa", "Ferreira", "Almeida"),
             ("Joao", "Manuel", "Carlos", "Fernando"),
             ("Ana", "Fatima", "Conceicao", "Lucia")),
    Language("pl", "Polish", 0.3,
             ("Kowalski", "Nowak", "Wisniewski", "Wojcik"),
             ("Stanislaw", "Tadeusz", "Zbigniew"),
             ("Jadwiga", "Halina", "Krystyna")),
    Language("it", "Italian", 0.3,
             ("Rossi", "Russo", "Esposito", "Bianchi"),
             ("Giuseppe", "Salvatore", "Vincenzo"),
             ("Giovanna", "Rosaria", "Concetta")),
    Language("fr", "French", 0.3,
             ("Dubois", "Lefebvre", "Moreau", "Laurent"),
             ("Jacques", "Michel", "Andre"),
             ("Monique", "Francoise", "Jacqueline")),
    Language("hy", "Armenian", 0.25,
             ("Petrosyan", "Harutyunyan", "Sargsyan", "Grigoryan"),
             ("Armen", "Hovhannes", "Vartan"),
             ("Anahit", "Siranush", "Lusine")),
    Language("fa", "Persian", 0.25,
             ("Hosseini", "Rahimi", "Karimi", "Moradi"),
             ("Reza", "Hossein", "Mehdi"),
             ("Parvin", "Mahin", "Shirin")),
)  # fmt: skip

# The non-English languages a 50+ member panel must show at least once (taglines, outreach tests).
REQUIRED_LANGUAGES = ("es", "zh", "vi", "tl", "ko", "ru", "ar", "ht")

NICKNAMES = {
    "Robert": "Bob", "William": "Bill", "James": "Jim", "Richard": "Dick", "Charles": "Chuck",
    "Thomas": "Tom", "Joseph": "Joe", "Donald": "Don", "Ronald": "Ron", "Michael": "Mike",
    "David": "Dave", "Edward": "Ed", "Kenneth": "Ken", "Daniel": "Dan", "Gerald": "Jerry",
    "Margaret": "Peggy", "Elizabeth": "Betty", "Patricia": "Pat", "Barbara": "Barb", "Dorothy": "Dot",
    "Katherine": "Kathy", "Susan": "Sue", "Deborah": "Debbie", "Judith": "Judy", "Virginia": "Ginny",
    "Francisco": "Paco", "Jose": "Pepe",
}  # fmt: skip

# (city, state, ZIP, area code): a New England service area with the communities above.
PLACES = (
    ("Boston", "MA", "02119", "617"), ("Dorchester", "MA", "02124", "617"), ("Worcester", "MA", "01605", "508"),
    ("Springfield", "MA", "01109", "413"), ("Lowell", "MA", "01852", "978"), ("Lawrence", "MA", "01841", "978"),
    ("Providence", "RI", "02907", "401"), ("Pawtucket", "RI", "02860", "401"), ("Hartford", "CT", "06106", "860"),
    ("Quincy", "MA", "02169", "617"), ("Brockton", "MA", "02301", "508"), ("New Bedford", "MA", "02740", "508"),
)  # fmt: skip
STREETS = (
    "Main St", "Elm St", "Maple Ave", "Pleasant St", "Washington St", "Park Ave", "Oak St", "Chestnut St",
    "Highland Ave", "Union St", "School St", "Summer St", "Church St", "Water St", "Prospect St",
)  # fmt: skip

HOSPITALS = (
    # (organization key, name, MRN system URI, MRN prefix)
    ("riverside", "Riverside General Hospital", "https://riverside-general.example.org/fhir/mrn", "RG"),
    ("lakeview", "Lakeview Medical Center", "https://lakeview-medical.example.org/fhir/mrn", "LV"),
)
PRACTICES = ("Riverside Primary Care", "Lakeview Family Medicine", "Harbor Community Health Center")
PCP_FAMILIES = ("Okafor", "Lindqvist", "Ramachandran", "Delgado", "Fitzgerald", "Nakamura", "Abernathy",
                "Castellano", "Weiss", "Moreau", "Osei", "Brennan")  # fmt: skip
PCP_GIVEN = ("Adaeze", "Erik", "Priya", "Miguel", "Siobhan", "Kenji", "Laura", "Marco", "Rachel", "Claire",
             "Kwame", "Sean")  # fmt: skip


@dataclass(frozen=True)
class ConditionCode:
    key: str
    snomed: str
    icd10: str
    display: str


CONDITIONS = {
    c.key: c
    for c in (
        ConditionCode("diabetes", "44054006", "E11.9", "Type 2 diabetes mellitus"),
        ConditionCode("hypertension", "38341003", "I10", "Essential hypertension"),
        ConditionCode("heart_failure", "84114007", "I50.9", "Heart failure"),
        ConditionCode("copd", "13645005", "J44.9", "Chronic obstructive pulmonary disease"),
        ConditionCode("ckd", "433144002", "N18.30", "Chronic kidney disease stage 3"),
        ConditionCode("falls", "161898004", "Z91.81", "History of falling"),
        ConditionCode("depression", "35489007", "F32.A", "Depressive disorder"),
        ConditionCode("dementia", "52448006", "F03.90", "Dementia"),
        ConditionCode("afib", "49436004", "I48.91", "Atrial fibrillation"),
        ConditionCode("hyperlipidemia", "55822004", "E78.5", "Hyperlipidemia"),
        ConditionCode("housebound", "160685001", "Z74.09", "Housebound"),
    )
}


@dataclass(frozen=True)
class Drug:
    key: str
    rxnorm: str
    display: str
    name: str  # plain name for notes
    sig: str


DRUGS = {
    d.key: d
    for d in (
        Drug("metformin", "861007", "metformin hydrochloride 500 MG Oral Tablet", "metformin 500 mg tablet",
             "Take 1 tablet by mouth twice daily with meals"),
        Drug("glargine", "311041", "insulin glargine 100 UNT/ML Injectable Solution", "insulin glargine 100 units/mL",
             "Inject 20 units under the skin at bedtime"),
        Drug("lisinopril", "314076", "lisinopril 10 MG Oral Tablet", "lisinopril 10 mg tablet",
             "Take 1 tablet by mouth once daily"),
        Drug("amlodipine", "197361", "amlodipine 5 MG Oral Tablet", "amlodipine 5 mg tablet",
             "Take 1 tablet by mouth once daily"),
        Drug("furosemide", "313988", "furosemide 40 MG Oral Tablet", "furosemide 40 mg tablet",
             "Take 1 tablet by mouth once daily in the morning"),
        Drug("carvedilol", "200031", "carvedilol 6.25 MG Oral Tablet", "carvedilol 6.25 mg tablet",
             "Take 1 tablet by mouth twice daily with food"),
        Drug("spironolactone", "313096", "spironolactone 25 MG Oral Tablet", "spironolactone 25 mg tablet",
             "Take 1 tablet by mouth once daily"),
        Drug("apixaban", "1364445", "apixaban 5 MG Oral Tablet", "apixaban 5 mg tablet",
             "Take 1 tablet by mouth twice daily"),
        Drug("atorvastatin", "617310", "atorvastatin 20 MG Oral Tablet", "atorvastatin 20 mg tablet",
             "Take 1 tablet by mouth at bedtime"),
        Drug("albuterol", "745679", "200 ACTUAT albuterol 0.09 MG/ACTUAT Metered Dose Inhaler",
             "albuterol 90 mcg inhaler", "Inhale 2 puffs every 4 to 6 hours as needed for wheezing"),
        Drug("sertraline", "312940", "sertraline 50 MG Oral Tablet", "sertraline 50 mg tablet",
             "Take 1 tablet by mouth once daily"),
        Drug("donepezil", "997221", "donepezil hydrochloride 10 MG Oral Tablet", "donepezil 10 mg tablet",
             "Take 1 tablet by mouth at bedtime"),
        Drug("prednisone", "312617", "predniSONE 20 MG Oral Tablet", "prednisone 20 mg tablet",
             "Take 2 tablets (40 mg) by mouth once daily for 5 days"),
        Drug("azithromycin", "308460", "azithromycin 250 MG Oral Tablet", "azithromycin 250 mg tablet",
             "Take 1 tablet by mouth once daily for 4 more days"),
        Drug("amox_clav", "562508", "amoxicillin 875 MG / clavulanate 125 MG Oral Tablet",
             "amoxicillin-clavulanate 875-125 mg tablet", "Take 1 tablet by mouth twice daily for 5 days"),
        Drug("cephalexin", "309114", "cephalexin 500 MG Oral Capsule", "cephalexin 500 mg capsule",
             "Take 1 capsule by mouth every 12 hours for 7 days"),
        Drug("acetaminophen", "313782", "acetaminophen 325 MG Oral Tablet", "acetaminophen 325 mg tablet",
             "Take 2 tablets by mouth every 6 hours as needed for pain (max 3,000 mg a day)"),
    )
}  # fmt: skip

# Admission reasons: (key, SNOMED, ICD-10-CM, display, the chronic condition that makes it likely).
ADMISSIONS = (
    ("hf_exacerbation", "42343007", "I50.23", "Acute on chronic systolic heart failure", "heart_failure"),
    ("copd_exacerbation", "195951007", "J44.1", "COPD with acute exacerbation", "copd"),
    ("pneumonia", "233604007", "J18.9", "Pneumonia", None),
    ("hyperglycemia", "80394007", "E11.65", "Type 2 diabetes with hyperglycemia", "diabetes"),
    ("fall_fracture", "5913000", "S72.001A", "Fracture of neck of femur after a fall", "falls"),
    ("aki", "14669001", "N17.9", "Acute kidney injury", "ckd"),
    ("uti", "68566005", "N39.0", "Urinary tract infection", None),
)  # fmt: skip

DISPOSITIONS = (
    # (NUBC code, display, weight)
    ("01", "Discharged to home or self care", 55),
    ("06", "Discharged to home under care of organized home health service", 25),
    ("03", "Discharged to skilled nursing facility", 12),
    ("62", "Discharged to an inpatient rehabilitation facility", 4),
    ("07", "Left against medical advice", 4),
)


# ------------------------------------------------------------------------------------------- quality measures
# Why: CMS165 and CMS122 read encounters, diagnoses and results by value set (assistant/measures/valuesets/), and
# the stewards' reference engine reads a resource only under its QI-Core profile. These codes and profiles make the
# demo panel measurable by both engines; each code below is in the expansion of the value set named beside it.

CPT = "http://www.ama-assn.org/go/cpt"
HCPCS = "http://www.nlm.nih.gov/research/umls/hcpcs"
SNOMED_URI = "http://snomed.info/sct"
QICORE = "http://hl7.org/fhir/us/qicore/StructureDefinition/"
# FHIR's vital-signs blood-pressure profile: CMS165 retrieves ["observation-bp"] by it and checks no code.
BP_PROFILE = "http://hl7.org/fhir/StructureDefinition/bp"
BP_PANEL = "85354-9"
# The QI-Core profile each resource type is tagged with (meta.profile); blood pressures get BP_PROFILE instead.
QICORE_PROFILES = {
    name: QICORE + profile
    for name, profile in (
        ("Patient", "qicore-patient"), ("Practitioner", "qicore-practitioner"),
        ("Organization", "qicore-organization"), ("Coverage", "qicore-coverage"),
        ("Encounter", "qicore-encounter"), ("Condition", "qicore-condition"),
        ("Observation", "qicore-observation"), ("MedicationRequest", "qicore-medicationrequest"),
        ("Procedure", "qicore-procedure"), ("ServiceRequest", "qicore-servicerequest"),
        ("DeviceRequest", "qicore-devicerequest"), ("Device", "qicore-device"),
        ("DocumentReference", "qicore-documentreference"),
    )
}  # fmt: skip

# The billing code a visit carries beside its SNOMED type, by encounter class (AdultOutpatientEncounters).
OUTPATIENT_VISIT_CODES = {
    "AMB": (CPT, "99213", "Office or other outpatient visit, established patient, low complexity"),  # Office Visit
    "VR": (CPT, "99422", "Online digital evaluation and management service, 11-20 minutes"),  # Virtual Encounter
    "HH": (CPT, "99348", "Home or residence visit, established patient, low complexity"),  # Home Healthcare Services
}
# Denominator exclusions (Hospice, PalliativeCare and AdvancedIllnessandFrailty libraries).
HOSPICE_ENCOUNTER = (HCPCS, "Q5003", "Hospice care provided in nursing long term care facility")  # Hospice Encounter
HOSPICE_CARE = (SNOMED_URI, "385763009", "Hospice care (regime/therapy)")  # Hospice Care Ambulatory
PALLIATIVE_ENCOUNTER = (SNOMED_URI, "305686008", "Seen by palliative care physician (finding)")
PALLIATIVE_DIAGNOSIS = ("Z51.5", "Encounter for palliative care")  # ICD-10-CM, Palliative Care Diagnosis
FRAILTY_DEVICE = (SNOMED_URI, "1255320005", "Wheeled walker (physical object)")  # Frailty Device
HOUSING_STATUS = ("71802-3", "Housing status")  # LOINC, the nursing-home exclusion's assessment
LIVES_IN_NURSING_HOME = (SNOMED_URI, "160734000", "Lives in a nursing home (finding)")
# A glycemic result a lab sent as a concept, not a number: by the CQL neither above 9 % nor missing.
CODED_RESULT = (SNOMED_URI, "373066001", "Yes (qualifier value)")
