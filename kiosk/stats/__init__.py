"""Statistics for hospital leaders: figures from the HIS, charts and the report."""
