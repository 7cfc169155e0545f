"""Caretrail as a SMART App Launch 2.x client: discovery, the authorization request and code exchange with PKCE,
and the check of the ID token that says who signed in (docs/ehr.md)."""
