"""Complete solutions of the assignment, written to be read as documentation."""
