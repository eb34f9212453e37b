"""nhtb-lab: rehearse a Junos multipoint IPsec (NHTB) hub-and-spoke change on a local lab."""
