"""Business rules (triggers): the vocabulary (`catalog`), checking a rule (`validation`), managing rules
(`manage`, admins only), and the engine that runs them after every ticket change (`engine`)."""
