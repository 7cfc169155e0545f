"""Authentication of people calling the API."""
