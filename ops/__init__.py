"""Operations: health endpoints for load balancers and monitoring, and structured logs.

``ops`` may import the other apps (to look at the search index, say); none of them imports
``ops`` (an import-linter contract). docs/operations.md is the operator's guide.
"""
