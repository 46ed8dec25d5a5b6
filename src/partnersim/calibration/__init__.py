"""Calibration: evidence as data (targets and priors with their sources), ABC-SMC with pyabc,
and checks of the method on parameters it is given (``recovery``)."""
