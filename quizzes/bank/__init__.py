"""The question bank: categories and questions, their admin, imports and exports."""
