"""The CNI runtime: a strict implementation of the runtime side of the CNI specification."""
