"""The chapter report: every experiment of chapter 9 run live, written as one HTML page."""
