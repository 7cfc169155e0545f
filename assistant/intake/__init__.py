"""Live intake: listeners that receive data pushed by other systems (HL7 v2 over MLLP) and spool it
durably before acknowledging, so that nothing acknowledged can be lost."""
