"""A department's node and the consumer client SDK.

The node keeps the department's data where it already lives (CSV or any SQLAlchemy URL), checks
every grant token itself, and answers queries sealed end to end to the consumer. The client SDK
(``node.client``) is what a consumer department uses: it hides keys, sealing and opening.
"""
