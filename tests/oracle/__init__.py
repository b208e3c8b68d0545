"""An independent plain-numpy oracle for the metrics and weekly series (issue 9, item 6)."""
