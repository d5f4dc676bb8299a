"""Word knowledge the generators and checks share: what a name denotes (objecthood, synonyms, kinds) and how predicates relate."""
