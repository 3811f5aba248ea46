"""Networks as products: the conflist store, drivers, IPAM, subnets and the default network."""
