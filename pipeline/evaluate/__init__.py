"""Scorers against gold data: attribution relations in PolNeAR's BRAT standoff layout."""
from pipeline.evaluate.attributions import (Scores, evaluate_attributions, export_predictions, merge_same_cue,
                                            predict, read_predictions, score)
from pipeline.evaluate.brat import GoldRelation, load_gold, load_texts, parse_standoff

__all__ = ["GoldRelation", "Scores", "evaluate_attributions", "export_predictions", "load_gold", "load_texts",
           "merge_same_cue", "parse_standoff", "predict", "read_predictions", "score"]
