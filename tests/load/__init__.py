"""The morning spike (issue 16): a load generator for the quiz API and its data set."""
