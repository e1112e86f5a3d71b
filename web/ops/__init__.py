"""Operations: health, readiness and metrics for whoever runs Baken."""
