"""Labelled example requests, one list per intent: the embedder's half of the intent classifier.

Why examples and not a trained model: a reviewer can read exactly what each intent is said to look like, add a
sentence when a request is routed wrongly, and see in the turn's routing which example it was nearest to.
"""

from __future__ import annotations

EXEMPLARS: dict[str, tuple[str, ...]] = {
    "record_question": (
        "What was her last blood pressure?",
        "When was his last HbA1c and what was the value?",
        "What medications is the patient on?",
        "Which medicines were changed at discharge?",
        "When is the follow-up appointment?",
        "Who manages her insulin at home?",
        "Why was she admitted to the hospital?",
        "What are the discharge diagnoses?",
        "Are any test results still pending?",
        "Does he live alone?",
        "What language does the patient prefer?",
        "Was home health or equipment ordered?",
        "What did the care manager note say?",
        "Has she had any falls this year?",
        "What is his weight trend on remote monitoring?",
        "Who is the primary care physician?",
        "When was the last office visit?",
        "What are the red flags in her discharge instructions?",
        "Is the patient dual eligible for Medicaid?",
        "What conditions are on the problem list?",
        "Who drives the patient to appointments?",
        "How often does the home health nurse visit?",
        "What is the oxygen setting at home?",
    ),
    "protocol_question": (
        "When must the TCM interactive contact happen after discharge?",
        "What is the difference between CPT 99495 and 99496?",
        "What counts toward the CMS165 blood pressure measure?",
        "How does the LEAD model define a high-needs beneficiary?",
        "What does STEADI recommend after a fall?",
        "What is included in the Annual Wellness Visit?",
        "How often can chronic care management be billed?",
        "What reading level should outreach letters aim for?",
        "What are the rules for texting patients under the TCPA?",
        "How are LEAD benchmark payments calculated?",
        "Which quality measures does LEAD use?",
        "What is a CARA referral?",
        "How is the Timely Follow-Up measure defined?",
        "What does the HbA1c poor control measure count?",
        "How should we provide language access for patients with limited English?",
        "What are the benefit enhancements for dual eligible members?",
        "What does the transportation program offer?",
        "Who is eligible for the meal delivery benefit?",
        "What services does the home safety program cover?",
        "How do members enroll in the caregiver support program?",
    ),
    "next_steps": (
        "What should I do next for this patient?",
        "What are my next steps?",
        "What is due for her this week?",
        "What do I need to do today for him?",
        "Which care gaps are open?",
        "What should the care team do now?",
        "Any open tasks for me on this patient?",
        "What is overdue?",
        "Give me the guidance for this patient.",
        "What follow-up actions are recommended?",
    ),
    "checklist": (
        "Make a checklist for her discharge.",
        "Build the transition of care checklist.",
        "Give me the TCM documentation checklist.",
        "Create a checklist for the annual wellness visit.",
        "What is on the discharge checklist?",
        "Prepare the CCM documentation checklist.",
        "Generate a checklist for the CARA referral.",
        "Show me the post-discharge checklist.",
    ),
    "outreach": (
        "Draft a message to the patient about the wellness visit.",
        "Write a text reminding her of the appointment.",
        "Send a reminder for the blood pressure check.",
        "Compose a letter inviting him to the falls program.",
        "Draft an SMS asking how she is doing after discharge.",
        "Write a message about the medication changes.",
        "Prepare a reminder to get the A1c test.",
        "Draft an introduction from the care team.",
        "Text the patient about the benefit notice.",
    ),
}

# Requests Caretrail declines, by the reason it gives: the clinician diagnoses and prescribes, counsel gives legal
# advice, and anything else is outside care coordination.
OUT_OF_SCOPE: dict[str, tuple[str, ...]] = {
    "diagnosis": (
        "Can you diagnose what is wrong with her?",
        "Could her symptoms mean she has cancer?",
        "What disease is causing his symptoms?",
        "Is this chest pain a heart attack?",
    ),
    "prescribing": (
        "Should I increase her metformin dose?",
        "Prescribe something for his pain.",
        "What dose of insulin should she take?",
        "Should we stop the blood thinner?",
    ),
    "legal": (
        "Can the family sue the hospital?",
        "Is this malpractice?",
        "Give me legal advice about the discharge.",
    ),
    "off_topic": (
        "What is the weather tomorrow?",
        "Tell me a joke.",
        "Write a poem about spring.",
        "Who won the football game last night?",
        "What is the capital of France?",
        "Book me a flight to Chicago.",
    ),
}
EXEMPLARS["out_of_scope"] = tuple(sentence for group in OUT_OF_SCOPE.values() for sentence in group)

INTENTS = tuple(EXEMPLARS)
