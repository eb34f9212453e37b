"""Runtime: all side effects. Namespaces, links, charon, nftables; natively or inside the lab VM."""
