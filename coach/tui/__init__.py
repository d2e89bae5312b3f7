"""The Textual app: mock interviews, timed drills and solo rehearsal with explainable feedback."""
