"""The labels journeylib writes into its tables where a value is missing, folded or ran out.

They are data the user reads (and may filter on), the same in every analysis.

>>> from journeylib.model.labels import NONE, OTHER
>>> NONE, OTHER
('(none)', 'other')
"""

#: a value that is missing: an event without a channel, a breakdown without a value
NONE = "(none)"
#: the fold of everything beyond ``top``
OTHER = "other"
#: the node of a journey that ran out going forward
END = "(end)"
#: the node of a journey that ran out going backward (before its first event)
START = "(start)"
#: the middle of a path fixed at both ends and longer than ``steps``
ELLIPSIS = "…"
#: between events in a path string
SEPARATOR = " > "
