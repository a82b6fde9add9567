"""Figures: matplotlib drawings of results the labs hand over. Plotting never trains."""
