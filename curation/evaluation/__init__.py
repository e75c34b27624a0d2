"""The evaluation gate: the candidate against the live deployment on held-out prompts."""
