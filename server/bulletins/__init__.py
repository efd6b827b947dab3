"""Monthly bulletins (月末通报): a month's figures compiled from the database, the
compiler's draft, publication and renders; unit scores and award eligibility."""
