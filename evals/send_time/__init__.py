"""Send-time evaluation: a population generator and a scorer for ``cadence.ai.sendtime``."""
