"""Words that look like names or places in notes but are clinical: never redact them.

Why a list: spaCy's small model tags "Parkinson", "Foley" or "Lasix" as people now and then, and a care
team cannot use a note where "Down syndrome" became "[NAME] syndrome". The same lists serve as stop
words for the context-driven name patterns ("Dr. aware" is not a doctor called Aware).
"""

from __future__ import annotations

import regex as re
from spacy.lang.en.stop_words import STOP_WORDS

EPONYMS = {
    "alzheimer", "alzheimers", "apgar", "asperger", "babinski", "brugada", "crohn", "crohns", "foley",
    "ganz", "glasgow", "guillain", "hashimoto", "hodgkin", "hodgkins", "kawasaki", "korsakoff", "meniere",
    "parkinson", "parkinsons", "raynaud", "sjogren", "tourette", "wernicke", "holter", "doppler",
    "valsalva", "trendelenburg", "heimlich", "kussmaul", "dupuytren", "pap", "papanicolaou", "picc",
    "pleurx", "karnofsky", "moca", "phq",
}
# Eponyms that are also common surnames: clinical only when followed by "syndrome", "sign"...
NAME_EPONYMS = {
    "addison", "baker", "barre", "barrett", "barretts", "bartholin", "beck", "bell", "braden", "charcot",
    "cheyne", "colles", "cushing", "down", "epley", "ewing", "fallot", "folstein", "gehrig", "gram",
    "graves", "hamilton", "hartmann", "hickman", "homan", "homans", "huntington", "jackson", "kaposi",
    "katz", "lawton", "levine", "lyme", "mallory", "miami", "morse", "nissen", "paget", "pratt", "reiter",
    "roux", "stokes", "swan", "tenckhoff", "weiss", "whipple", "wilms", "wolff",
}
DRUGS = {
    "lasix", "furosemide", "coumadin", "warfarin", "eliquis", "apixaban", "xarelto", "rivaroxaban", "plavix",
    "clopidogrel", "aspirin", "lipitor", "atorvastatin", "crestor", "rosuvastatin", "zocor", "simvastatin",
    "metformin", "glucophage", "januvia", "jardiance", "farxiga", "ozempic", "trulicity", "lantus", "humalog",
    "novolog", "levemir", "tresiba", "basaglar", "insulin", "glipizide", "lisinopril", "losartan", "entresto",
    "metoprolol", "lopressor", "toprol", "carvedilol", "coreg", "amlodipine", "norvasc", "diltiazem",
    "cardizem", "digoxin", "lanoxin", "amiodarone", "spironolactone", "aldactone", "hydrochlorothiazide",
    "torsemide", "bumex", "bumetanide", "prednisone", "medrol", "albuterol", "proventil", "ventolin",
    "symbicort", "advair", "spiriva", "breo", "trelegy", "singulair", "montelukast", "levothyroxine",
    "synthroid", "omeprazole", "prilosec", "pantoprazole", "protonix", "famotidine", "pepcid", "gabapentin",
    "neurontin", "lyrica", "tramadol", "oxycodone", "percocet", "vicodin", "norco", "tylenol",
    "acetaminophen", "ibuprofen", "motrin", "advil", "naproxen", "aleve", "celebrex", "sertraline", "zoloft",
    "escitalopram", "lexapro", "citalopram", "celexa", "fluoxetine", "prozac", "trazodone", "mirtazapine",
    "remeron", "seroquel", "quetiapine", "haldol", "haloperidol", "ativan", "lorazepam", "xanax",
    "alprazolam", "ambien", "donepezil", "aricept", "memantine", "namenda", "sinemet", "carbidopa",
    "levodopa", "heparin", "lovenox", "enoxaparin", "vancomycin", "zosyn", "ceftriaxone", "rocephin",
    "cipro", "ciprofloxacin", "levaquin", "levofloxacin", "keflex", "cephalexin", "augmentin", "amoxicillin",
    "azithromycin", "zithromax", "doxycycline", "bactrim", "flagyl", "metronidazole", "kayexalate",
    "potassium", "magnesium", "propofol", "dopamine", "levophed", "neosynephrine", "nitroglycerin", "ntg",
    "morphine", "dilaudid", "fentanyl", "narcan", "naloxone", "zofran", "ondansetron", "reglan", "colace",
    "senna", "miralax", "dulcolax", "flomax", "tamsulosin", "finasteride", "proscar", "keppra", "dilantin",
    "depakote", "tegretol", "ensure", "glucerna", "nepro", "isosource", "jevity", "vitamin",
}
CONDITIONS_AND_LABS = {
    "syndrome", "disease", "diabetes", "hypertension", "copd", "chf", "ckd", "esrd", "afib", "cad", "mi",
    "stroke", "pneumonia", "hemoglobin", "glucose", "sodium", "chloride", "albumin", "lipase", "amylase",
    "sepsis", "uti", "dvt", "pe", "hba1c", "a1c", "ldl", "hdl", "bnp", "troponin",
    "creatinine", "egfr", "bun", "inr", "ptt", "cbc", "bmp", "cmp", "tsh", "hct", "hgb", "wbc", "abg",
    "ekg", "ecg", "echo", "cxr", "mri", "ct", "tee", "cabg", "ptca", "picc", "icu", "micu", "ccu", "sicu",
    "ed", "er", "ew", "or", "pacu", "snf", "ltc", "tcm", "ccm", "awv", "hcc", "aco", "lead", "reach",
}
# Words that follow a real name in an eponym ("Murphy's sign" vs. "Dr. Murphy").
EPONYM_TAIL = re.compile(
    r"^(?:'s)?\s+(?:disease|syndrome|sign|palsy|catheter|scale|score|criteria|maneuver|test|lymphoma"
    r"|phenomenon|reflex|procedure|ulcer|esophagus|cyst|fracture|contracture|tetralogy|stain|drain"
    r"|respiration|breathing|murmur|fundoplication|line|tube|monitor|classification|dementia)\b",
    re.IGNORECASE,
)
# Words common in notes that follow "Dr", "son", "per" and similar cues without being names.
NOTE_WORDS = {
    "aware", "notified", "called", "paged", "made", "informed", "updated", "in", "at", "here", "present",
    "bedside", "team", "office", "visit", "visited", "note", "notes", "ordered", "orders", "order", "said",
    "states", "stated", "reports", "reported", "spoke", "spoken", "discussed", "came", "come", "coming",
    "will", "would", "to", "and", "or", "of", "for", "with", "w", "re", "regarding", "about", "on", "by",
    "today", "tonight", "tomorrow", "yesterday", "am", "pm", "night", "day", "days", "morning", "evening",
    "afternoon", "overnight", "shift", "home", "house", "family", "pt", "patient", "patients", "pts", "md",
    "rn", "np", "pa", "do", "nurse", "nursing", "staff", "doctor", "doctors", "physician", "resident",
    "fellow", "attending", "intern", "service", "consult", "consulted", "following", "followed",
    "follow", "up", "f/u", "aware.", "x2", "x1", "also", "who", "whom", "that", "this", "is", "was", "has",
    "had", "have", "been", "being", "not", "no", "yes", "ok", "okay", "well", "all", "both", "other", "others",
    "her", "his", "their", "she", "he", "they", "them", "him", "it", "its", "the", "a", "an", "as", "per",
    "wife", "husband", "son", "daughter", "sister", "brother", "mother", "father", "children", "child",
    "kids", "grandson", "granddaughter", "nephew", "niece", "friend", "friends", "proxy", "hcp", "dtr",
    "phone", "telephone", "call", "calls", "cell", "number", "updated.", "again", "now", "then", "still",
    "very", "more", "less", "new", "old", "same", "plan", "plans", "care", "case", "manager", "management",
    "social", "work", "worker", "sw", "cm", "chaplain", "pcp", "primary", "cardiology", "renal", "surgery",
    "surgical", "medicine", "medical", "icu", "micu", "ccu", "floor", "unit", "room", "bed", "rehab",
    "hospital", "clinic", "center", "status", "code", "full", "dnr", "dni", "comfort", "measures", "meds",
    "med", "medication", "medications", "dose", "iv", "po", "prn", "bid", "tid", "qid", "qd", "daily",
    "weekly", "monthly", "mg", "ml", "units", "lab", "labs", "results", "result", "pending", "neg", "pos",
    "negative", "positive", "normal", "abnormal", "stable", "unstable", "improved", "improving", "worse",
    "better", "increased", "decreased", "continue", "continued", "cont", "d/c", "dc", "dc'd", "discharge",
    "discharged", "admit", "admitted", "admission", "transfer", "transferred", "sent", "given", "gave",
    "received", "taken", "took", "started", "start", "stopped", "held", "hold", "need", "needs", "needed",
    "wants", "want", "wanted", "feels", "felt", "feeling", "asked", "asking", "told", "tell", "agreed",
    "agrees", "understands", "understood", "questions", "question", "concerns", "concern", "support",
    "supportive", "involved", "lives", "living", "alone", "married", "widowed", "divorced", "single",
    "emergency", "contact", "contacts", "name", "names", "mr", "mrs", "ms", "dr", "dr.", "mr.", "mrs.",
    "ms.", "miss", "sr", "jr", "ii", "iii", "s/p", "h/o", "c/o", "r/o", "w/", "monday", "tuesday",
    "wednesday", "thursday", "friday", "saturday", "sunday", "january", "february", "march", "april",
    "june", "july", "august", "september", "october", "november", "december", "stat", "asap", "ivf",
    "ns", "lr", "bp", "hr", "rr", "sat", "sats", "temp", "afebrile", "febrile", "pain", "echo", "cath",
    "hd", "cvvh", "cvvhd", "ngt", "ogt", "ett", "vent", "cpap", "bipap", "trach", "peg", "foley", "line",
    "lines", "drip", "gtt", "bolus", "fluids", "fluid", "blood", "urine", "stool", "sputum", "bs", "fs",
}
# ICU and nursing shorthand (system headings, drips, lines, exam findings, charting systems) that the
# small spaCy model and the census name lists mistake for names: "Neuro:", "wean neo", "MAE", "per HO".
NURSING_SHORTHAND = {
    "neuro", "cv", "cvs", "resp", "gi", "gu", "id", "abd", "misc", "dispo", "ho", "h.o", "mae", "perrl",
    "perrla", "aox3", "a&o", "sxn", "sxnd", "sx", "npo", "oob", "iabp", "tpn", "ppn", "amio", "neo", "levo",
    "dopa", "dobut", "nitro", "hep", "aline", "a-line", "swan", "cvp", "map", "maps", "sbp", "dbp", "peep",
    "psv", "simv", "fio2", "abx", "prbc", "prbcs", "ffp", "plt", "plts", "lue", "rue", "lle", "rle", "ls",
    "hob", "npn", "carevue", "flowsheet", "pnd", "pmh", "hpi", "ros", "nsg", "ot", "rt", "slp", "ra", "nc",
    "spont", "afeb", "tmax", "vss", "mso4", "ativan", "versed", "allegra", "nipride", "captopril", "esmolol",
    "labetalol", "hydralazine", "combivent", "atrovent", "solumedrol", "pepcid", "protonix", "kcl", "ngt",
    "ogt", "dobhoff", "trach", "extub", "intub", "sedation", "precedex", "diprivan", "pressors", "pressor",
    "dsg", "drsg", "wnl", "wdwn", "cta", "ctab", "rrr", "nabs", "bsx4", "bs", "ptx", "cath", "echo", "tee",
    "osh", "ew", "pacu", "cvicu", "ccu", "cmed", "csru", "tsicu", "nicu", "hco3", "vt", "vf", "svt", "pvc",
    "pvcs", "pac", "pacs", "nsr", "af", "ir", "ep", "eps", "cp", "bb", "ef", "tf", "cr", "aflutter", "lbbb",
    "rbbb", "gtt", "gtts", "quinton", "asa", "mds", "riss", "ami", "h.o.", "ho's", "md's",
}
NOT_A_NAME = frozenset(
    {w.lower() for w in STOP_WORDS} | NOTE_WORDS | NURSING_SHORTHAND | EPONYMS | DRUGS | CONDITIONS_AND_LABS
)
NEVER_REDACT = frozenset(EPONYMS | DRUGS | CONDITIONS_AND_LABS)


def is_clinical(text: str) -> bool:
    """True when every word of ``text`` is a clinical term (a multi-word name with one such word is kept)."""
    words = [w.strip(".,'’s").lower() for w in re.split(r"[\s\-/]+", text)]
    words = [w for w in words if w]
    return bool(words) and all(w in NEVER_REDACT for w in words)
