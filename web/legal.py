"""The terms of use (利用規約) and the privacy policy: which versions are in force.

A person's consent records these versions as an event, so that the city can show which text
each person agreed to. A new version gets a new string and a new template.
"""

TERMS_VERSION = "2025-04-01"
PRIVACY_VERSION = "2025-04-01"
