"""Service quality (服务质量): contact events, figures, surveys, QA scorecards, staffing."""
