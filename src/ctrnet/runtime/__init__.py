"""Running workloads in prepared sandboxes: processes, runc bundles, OCI hooks."""
