"""Parsing providers: the offline heuristic parser and (later) LLMs behind one protocol."""
